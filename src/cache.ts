import { describeError } from './describe-error';
import type { CacheOutcome } from './http-caching';

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

/** Milliseconds since an arbitrary origin; only differences are used. */
export type Clock = () => number;

export interface CacheAsideRequest {
  openStore: OpenStore;
  key: string;
  /** Produces the authoritative value on a miss. */
  load: () => Uint8Array;
  /** Rejects cached bytes that cannot be served; a rejected value is treated as a miss and overwritten. */
  isValid: (cached: Uint8Array) => boolean;
  log: Log;
  clock: Clock;
}

export interface CacheAsideResult {
  body: Uint8Array;
  /** `hit`: served from the store; `miss`: the store answered but had nothing usable; `error`: a store call failed. */
  outcome: CacheOutcome;
  /** Milliseconds spent in store calls (open, get, set), failed ones included. */
  storeMs: number;
}

/**
 * Errors with which a store that *did* answer says the value under the key cannot be read
 * as bytes: Redis `WRONGTYPE` (the key holds a list, hash, …) and Spin's SQLite store reading
 * a TEXT row (`InvalidColumnType(0, "value", Text)`). Writing replaces such a value. Anything
 * else (refused or dropped connections, timeouts, auth) says nothing about the value, and a
 * write would only cost another round trip to a store that is down or slow.
 */
export function isUnusableValueError(error: unknown): boolean {
  return /\bWRONGTYPE\b|\bInvalidColumnType\b/.test(describeError(error));
}

/**
 * Cache-aside read that fails open: a broken cache costs latency, never availability.
 * Exactly one `get` per call (no `exists` round trip); a `set` only when the store answered
 * that get without a usable value (absent, invalid, or unreadable as bytes), since a store
 * that cannot be read is not worth writing to.
 */
export function cacheAside(request: CacheAsideRequest): CacheAsideResult {
  const { openStore, key, load, isValid, log, clock } = request;
  let storeMs = 0;
  const inStore = <T>(operation: () => T): T => {
    const started = clock();
    try {
      return operation();
    } finally {
      storeMs += clock() - started;
    }
  };
  const result = (body: Uint8Array, outcome: CacheOutcome): CacheAsideResult => ({ body, outcome, storeMs });

  let store: Store;
  try {
    store = inStore(openStore);
  } catch (error) {
    log(`cache open failed: ${describeError(error)}`);
    return result(load(), 'error');
  }

  try {
    const cached = inStore(() => store.get(key));
    // Component-model bindings lift a WIT `option::none` to `undefined`, not the `null` the SDK
    // typings promise, so both must count as a miss.
    if (cached !== null && cached !== undefined) {
      if (isValid(cached)) return result(cached, 'hit');
      log(`cache value under ${key} is invalid (${cached.byteLength} bytes); overwriting it`);
    }
  } catch (error) {
    if (!isUnusableValueError(error)) {
      log(`cache read failed: ${describeError(error)}`);
      return result(load(), 'error');
    }
    log(`cache value under ${key} is unreadable (${describeError(error)}); overwriting it`);
  }

  const body = load();
  try {
    inStore(() => store.set(key, body));
  } catch (error) {
    log(`cache write failed: ${describeError(error)}`);
    return result(body, 'error');
  }
  return result(body, 'miss');
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
