import { isItemArray } from './catalog';
import { describeError } from './describe-error';

/**
 * The slice of a key-value store this component needs. Deliberately tiny so that the
 * Spin store, an in-memory fake and a failing fake are interchangeable.
 */
export interface Store {
  get(key: string): Uint8Array | null;
  set(key: string, value: Uint8Array): void;
  delete(key: string): void;
}

/** Opening the store is itself a host call that can fail, so it happens inside the guarded code. */
export type OpenStore = () => Store;

/** Receives one line per cache failure; the cache never throws for these. */
export type Log = (line: string) => void;

/** Versioned so that a change of payload format can move to a new key instead of misreading old data. */
export const ITEMS_CACHE_KEY = 'items:v1:all';

/** What `DELETE /cache` removes. After a version bump, keep the old keys here so they get cleaned up too. */
export const CACHE_KEYS_TO_CLEAR: readonly string[] = [ITEMS_CACHE_KEY];

export interface CacheAsideRequest {
  openStore: OpenStore;
  key: string;
  /** Produces the authoritative value on a miss. */
  load: () => Uint8Array;
  /** Rejects cached bytes that cannot be served; a rejected value is treated as a miss and overwritten. */
  isValid: (cached: Uint8Array) => boolean;
  log: Log;
}

export interface CacheAsideResult {
  body: Uint8Array;
  fromCache: boolean;
}

/**
 * Cache-aside read that fails open: a broken cache costs latency, never availability.
 * Exactly one `get` per call (no `exists` round trip); a `set` only after a successful `get`
 * that missed, since a store that cannot be read is not worth writing to.
 */
export function cacheAside(request: CacheAsideRequest): CacheAsideResult {
  const { openStore, key, load, isValid, log } = request;

  let store: Store;
  try {
    store = openStore();
  } catch (error) {
    log(`cache open failed: ${describeError(error)}`);
    return { body: load(), fromCache: false };
  }

  let cached: Uint8Array | null;
  try {
    cached = store.get(key);
  } catch (error) {
    log(`cache read failed: ${describeError(error)}`);
    return { body: load(), fromCache: false };
  }

  // Component-model bindings lift a WIT `option::none` to `undefined`, not the `null` the SDK
  // typings promise, so both must count as a miss.
  if (cached !== null && cached !== undefined) {
    if (isValid(cached)) return { body: cached, fromCache: true };
    log(`cache value under ${key} is invalid (${cached.byteLength} bytes); overwriting it`);
  }

  const body = load();
  try {
    store.set(key, body);
  } catch (error) {
    log(`cache write failed: ${describeError(error)}`);
  }
  return { body, fromCache: false };
}

// fatal: bytes that are not UTF-8 must not be "repaired" into something that parses.
// ignoreBOM: keep a BOM so JSON.parse rejects it, because the bytes are served verbatim.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Validator for the cached `GET /items` payload: UTF-8 JSON holding an array of items. */
export function isValidCachedItems(cached: Uint8Array): boolean {
  try {
    return isItemArray(JSON.parse(strictUtf8.decode(cached)));
  } catch {
    return false;
  }
}

/**
 * Removes the given keys and tells whether it could. Unlike reads, this does not fail open: a
 * caller who asked for a clear must learn that stale data may still be served.
 */
export function clearCache(openStore: OpenStore, keys: readonly string[], log: Log): boolean {
  try {
    const store = openStore();
    for (const key of keys) store.delete(key);
    return true;
  } catch (error) {
    log(`cache clear failed: ${describeError(error)}`);
    return false;
  }
}
