/**
 * Key-value backends for the host side of `fermyon:spin/key-value@2.0.0`.
 *
 * Every backend has the same synchronous interface:
 *
 *     get(key: string): Uint8Array | null
 *     set(key: string, value: Uint8Array): void
 *     delete(key: string): void
 *     exists(key: string): boolean
 *     getKeys(): string[]
 *     close(): void
 *     afterOpen?(): void   (on every store open; Redis sends PING as Spin does)
 *
 * and reports failures as {@link KvBackendError} (short message, no secrets),
 * which the host maps to `error::other(message)`.
 *
 * @module runner/kv
 */

import { KvBackendError } from './errors.js';
import { RedisBackend } from './redis.js';
import { SqliteBackend } from './sqlite.js';

export { KvBackendError, redactSecrets } from './errors.js';
export { RedisBackend, parseRedisUrl, redactRedisUrl, RedisUrlError } from './redis.js';
export { SqliteBackend, SPIN_KV_SCHEMA } from './sqlite.js';

/**
 * A store as described by the runtime config (see runtime-config.js).
 * `path: null` is Spin's in-memory SQLite store (`type = "spin"` without `path`).
 * @typedef {{ type: 'spin', path: string | null } | { type: 'redis', url: string }} StoreSpec
 */

/**
 * @typedef {object} KvBackend
 * @property {(key: string) => Uint8Array | null} get
 * @property {(key: string, value: Uint8Array) => void} set
 * @property {(key: string) => void} delete
 * @property {(key: string) => boolean} exists
 * @property {() => string[]} getKeys
 * @property {() => void} close
 * @property {() => void} [afterOpen] called on every store open (Redis: PING)
 */

/**
 * Options for {@link openBackend}: `label` and `log` apply to every backend,
 * the rest to Redis only (see RedisBackendOptions in redis.js for defaults).
 * @typedef {import('./redis.js').RedisBackendOptions} BackendOptions
 */

/**
 * Opens the backend for one store.
 *
 * @param {StoreSpec} spec
 * @param {BackendOptions} [options] `label` (default `'default'`) scopes SQLite
 *   rows and names the store in Redis log lines
 * @returns {KvBackend}
 * @throws {KvBackendError} when the SQLite file cannot be opened or the Redis
 *   URL is malformed (an unreachable Redis does NOT throw: see RedisBackend)
 */
export function openBackend(spec, options = {}) {
  switch (spec?.type) {
    case 'spin':
      return new SqliteBackend(spec.path, { label: options.label ?? 'default' });
    case 'redis':
      return new RedisBackend(spec.url, options);
    default:
      throw new KvBackendError(`unsupported key-value store type ${JSON.stringify(/** @type {any} */ (spec)?.type)}`);
  }
}

/**
 * The stores of one process: each backend is opened on first use and then
 * shared by every request for the life of the process (the component is
 * instantiated per request; its connections are not).
 */
export class KvRegistry {
  #stores;
  #options;
  /** @type {Map<string, KvBackend>} */
  #open = new Map();

  /**
   * @param {Map<string, StoreSpec>} stores e.g. `loadRuntimeConfig().keyValueStores`
   * @param {BackendOptions} [options] passed to {@link openBackend} (with `label` set per store)
   */
  constructor(stores, options = {}) {
    this.#stores = new Map(stores);
    this.#options = options;
  }

  /** @returns {string[]} the configured labels */
  labels() {
    return [...this.#stores.keys()];
  }

  /** @param {string} label */
  has(label) {
    return this.#stores.has(label);
  }

  /** @param {string} label @returns {StoreSpec | undefined} */
  spec(label) {
    return this.#stores.get(label);
  }

  /**
   * What a component's `store.open(label)` does: the backend for `label` (opened on first use and
   * then shared), plus what the backend does on every open (Redis: Spin's `PING`).
   * @param {string} label
   * @returns {KvBackend | null} `null` when no such store is configured
   *   (the host maps that to `error::no-such-store`)
   * @throws {KvBackendError} when the backend cannot be opened
   */
  open(label) {
    const backend = this.backend(label);
    backend?.afterOpen?.();
    return backend;
  }

  /**
   * The backend for `label`, opened now if this is the first use, without the per-open work.
   * @param {string} label
   * @returns {KvBackend | null}
   */
  backend(label) {
    const existing = this.#open.get(label);
    if (existing) return existing;
    const spec = this.#stores.get(label);
    if (!spec) return null;
    const backend = openBackend(spec, { ...this.#options, label });
    this.#open.set(label, backend);
    return backend;
  }

  /** Opens every configured backend now (e.g. at startup, to report problems early). */
  openAll() {
    for (const label of this.#stores.keys()) this.backend(label);
  }

  /** Closes every opened backend (they can be reopened by a later `open`). */
  closeAll() {
    for (const backend of this.#open.values()) {
      try {
        backend.close();
      } catch {
        // closing is best effort
      }
    }
    this.#open.clear();
  }
}
