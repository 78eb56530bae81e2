// GET /items: its one representation and where it is cached, all derived from the catalog bytes
// once, at module load (which componentize-js runs while pre-initializing the component at
// build time), so a request only compares and copies.
import { CATALOG_JSON } from './catalog';
import { strongETag } from './http-caching';
import { sha256Hex } from './sha256';

export const ITEMS_BODY: Uint8Array = CATALOG_JSON;

export const ITEMS_ETAG: string = strongETag(ITEMS_BODY);

/**
 * The cache key for a body: named after its content, so editing src/catalog.ts moves the cache
 * to a new key on the next deploy. Nobody has to clear anything, and during a rolling update
 * old and new versions sharing one store each use their own key instead of overwriting each
 * other's. (64 bits of the hash tell catalog versions apart; the value is checked anyway.)
 */
export function itemsCacheKey(body: Uint8Array): string {
  return `items:${sha256Hex(body).slice(0, 16)}`;
}

export const ITEMS_CACHE_KEY: string = itemsCacheKey(ITEMS_BODY);

/** What `DELETE /cache` removes. */
export const CACHE_KEYS_TO_CLEAR: readonly string[] = [ITEMS_CACHE_KEY];

/**
 * A cached value is valid exactly when it is byte for byte the current catalog serialization.
 * Anything else under the key (an empty or partial array, duplicate ids, another catalog,
 * megabytes of junk) is a miss. The length is compared first, so rejecting a value of any size
 * costs nothing and nothing is ever decoded or parsed.
 */
export function isCurrentItems(cached: Uint8Array): boolean {
  if (cached.byteLength !== ITEMS_BODY.byteLength) return false;
  for (let i = 0; i < cached.byteLength; i++) {
    if (cached[i] !== ITEMS_BODY[i]) return false;
  }
  return true;
}
