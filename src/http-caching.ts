// The HTTP caching vocabulary of GET /items: validators (ETag, If-None-Match), freshness
// (Cache-Control) and what the cache did (Server-Timing). Pure functions of their inputs.
import { sha256Hex } from './sha256';

/**
 * A strong entity tag derived from the body bytes (RFC 9110 §8.8.3): the first 128 bits of
 * their SHA-256, so equal bodies always get equal tags and different ones practically never do.
 */
export function strongETag(body: Uint8Array): string {
  return `"${sha256Hex(body).slice(0, 32)}"`;
}

/**
 * Whether an `If-None-Match` header value matches `etag`, so the client's copy is current.
 * Uses the weak comparison the RFC prescribes for this header (RFC 9110 §13.2.1): `W/"x"`
 * matches `"x"`; `*` matches any current representation. Tags are found by their quotes
 * rather than by splitting on commas, because a tag may itself contain a comma.
 */
export function ifNoneMatchMatches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === '*') return true;
  const opaque = stripWeak(etag);
  for (const [tag] of header.matchAll(/(?:W\/)?"[^"]*"/g)) {
    if (stripWeak(tag) === opaque) return true;
  }
  return false;
}

function stripWeak(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** Longest freshness lifetime accepted from configuration: one year, the conventional maximum. */
export const MAX_AGE_LIMIT_SECONDS = 31_536_000;

/** Default: clients and proxies may store the response but must revalidate every time. */
export const REVALIDATE_EVERY_TIME = 'no-cache';

export interface CacheControlSetting {
  header: string;
  /** Set when the configured value was unusable and the default was used instead. */
  problem?: string;
}

/**
 * `Cache-Control` for a configured max-age in whole seconds. Empty or `0` means
 * `no-cache` (revalidate every time, which keeps a plain curl or browser flow always
 * current); a positive number lets caches reuse the response for that long.
 */
export function cacheControlFor(maxAgeSetting: string): CacheControlSetting {
  const value = maxAgeSetting.trim();
  if (value === '' || value === '0') return { header: REVALIDATE_EVERY_TIME };
  if (/^[0-9]{1,9}$/.test(value) && Number(value) <= MAX_AGE_LIMIT_SECONDS) {
    return { header: `max-age=${Number(value)}` };
  }
  return {
    header: REVALIDATE_EVERY_TIME,
    problem: `expected whole seconds from 0 to ${MAX_AGE_LIMIT_SECONDS}, got ${JSON.stringify(value.slice(0, 40))}`,
  };
}

/** What the cache did for a request, as reported to clients. */
export type CacheOutcome = 'hit' | 'miss' | 'error';

/** `Server-Timing: cache;desc=hit;dur=0.42`: the outcome and the milliseconds spent in the store. */
export function serverTiming(outcome: CacheOutcome, storeMs: number): string {
  const duration = Number.isFinite(storeMs) && storeMs > 0 ? Math.round(storeMs * 1000) / 1000 : 0;
  return `cache;desc=${outcome};dur=${duration}`;
}
