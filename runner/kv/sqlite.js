/**
 * SQLite key-value backend, file-compatible with Spin's built-in store
 * (`type = "spin"`, and the default store at `<app>/.spin/sqlite_key_value.db`).
 *
 * Layout (identical to Spin's):
 *
 *     spin_key_value(store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
 *                    PRIMARY KEY (store, key))
 *
 * Every row is scoped by the store label (e.g. `default`), so several labels can
 * share one file. The connection keeps SQLite's defaults (rollback journal, no
 * WAL), so `spin up` and this runner can use the same file; better-sqlite3's
 * default 5 s busy timeout matches rusqlite's.
 *
 * @module runner/kv/sqlite
 */

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KvBackendError } from './errors.js';

/** The `CREATE TABLE` statement (same columns, types and key as Spin's). */
export const SPIN_KV_SCHEMA = `CREATE TABLE IF NOT EXISTS spin_key_value (
    store TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,

    PRIMARY KEY (store, key)
)`;

/**
 * @typedef {object} SqliteBackendOptions
 * @property {string} [label='default'] store label that scopes every row
 */

/** Synchronous key-value store over one SQLite file (or `:memory:`). */
export class SqliteBackend {
  /** @type {import('better-sqlite3').Database | null} */
  #db = null;
  #label;
  #file;
  /** @type {Record<'get'|'set'|'delete'|'exists'|'keys', import('better-sqlite3').Statement>} */
  #stmt;

  /**
   * Opens (creating if needed) the database file, its parent directory and
   * the table, and prepares every statement once.
   *
   * @param {string | null} file absolute path of the database file, or
   *   `null`/`':memory:'` for a private in-memory database (what Spin does for
   *   `type = "spin"` without `path`)
   * @param {SqliteBackendOptions} [options]
   * @throws {KvBackendError} when the file cannot be opened or initialised
   */
  constructor(file, { label = 'default' } = {}) {
    this.#label = label;
    this.#file = file && file !== ':memory:' ? file : ':memory:';
    try {
      if (this.#file !== ':memory:') fs.mkdirSync(path.dirname(this.#file), { recursive: true });
      this.#db = new Database(this.#file);
      this.#db.exec(SPIN_KV_SCHEMA);
      this.#stmt = {
        get: this.#db.prepare('SELECT value FROM spin_key_value WHERE store = ? AND key = ?').pluck(),
        set: this.#db.prepare(
          'INSERT INTO spin_key_value (store, key, value) VALUES (?, ?, ?) ' +
            'ON CONFLICT(store, key) DO UPDATE SET value = excluded.value',
        ),
        delete: this.#db.prepare('DELETE FROM spin_key_value WHERE store = ? AND key = ?'),
        exists: this.#db.prepare('SELECT 1 FROM spin_key_value WHERE store = ? AND key = ? LIMIT 1').pluck(),
        keys: this.#db.prepare('SELECT key FROM spin_key_value WHERE store = ?').pluck(),
      };
    } catch (err) {
      this.#db?.close();
      this.#db = null;
      throw new KvBackendError(`sqlite: cannot open ${this.#file}: ${messageOf(err)}`, { cause: err });
    }
  }

  /** Absolute path of the database file, or `':memory:'`. */
  get file() {
    return this.#file;
  }

  /** The store label that scopes the rows. */
  get label() {
    return this.#label;
  }

  /**
   * @param {string} key
   * @returns {Uint8Array | null}
   */
  get(key) {
    const value = /** @type {unknown} */ (this.#run(() => this.#stmt.get.get(this.#label, key)));
    if (value === undefined) return null;
    // Spin reads the column with rusqlite as Vec<u8>, which accepts only a BLOB: any other
    // type is an error for `get` (spin crates/key-value-spin/src/store.rs, `row.get::<_, Vec<u8>>`).
    if (!Buffer.isBuffer(value)) {
      // The message Spin's guest gets (rusqlite's Debug form, measured on spin up 4.0.2).
      throw new KvBackendError(`InvalidColumnType(0, "value", ${columnType(value)})`);
    }
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }

  /**
   * Insert or replace.
   * @param {string} key
   * @param {Uint8Array} value
   */
  set(key, value) {
    const blob = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    this.#run(() => this.#stmt.set.run(this.#label, key, blob));
  }

  /** @param {string} key */
  delete(key) {
    this.#run(() => this.#stmt.delete.run(this.#label, key));
  }

  /**
   * @param {string} key
   * @returns {boolean}
   */
  exists(key) {
    return this.#run(() => this.#stmt.exists.get(this.#label, key)) !== undefined;
  }

  /** @returns {string[]} every key of this store label (unordered) */
  getKeys() {
    return /** @type {string[]} */ (this.#run(() => this.#stmt.keys.all(this.#label)));
  }

  /** Closes the connection. Idempotent. */
  close() {
    if (!this.#db) return;
    try {
      this.#db.close();
    } finally {
      this.#db = null;
    }
  }

  /**
   * @template T
   * @param {() => T} fn
   * @returns {T}
   */
  #run(fn) {
    if (!this.#db) throw new KvBackendError('sqlite store is closed');
    try {
      return fn();
    } catch (err) {
      throw new KvBackendError(`sqlite error: ${messageOf(err)}`, { cause: err });
    }
  }
}

/** rusqlite's name for the SQLite type better-sqlite3 gave `value` as. @param {unknown} value */
function columnType(value) {
  if (value === null) return 'Null';
  if (typeof value === 'string') return 'Text';
  if (typeof value === 'bigint' || Number.isInteger(value)) return 'Integer';
  return 'Real';
}

/** @param {unknown} err */
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}
