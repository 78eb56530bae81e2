/**
 * Spin runtime-config parsing (the `--runtime-config-file` TOML), limited to
 * what this runner implements: the `[key_value_store.<label>]` tables.
 *
 *     [key_value_store.default]
 *     type = "redis"
 *     url = "rediss://:<percent-encoded key>@name.redis.cache.windows.net:6380/0"
 *
 *     [key_value_store.other]
 *     type = "spin"
 *     path = "data/other.db"    # relative to this file's directory
 *
 * As in Spin: the `default` store is SQLite at `<appDir>/.spin/sqlite_key_value.db`
 * unless the file redefines it; `type = "spin"` without `path` is an in-memory
 * database. The other top-level keys Spin knows (`[sqlite_database]`,
 * `[[variables_provider]]`, `[llm_compute]`, `state_dir`, ...) are ignored with a
 * warning; any other key stops start-up as it stops Spin's
 * (`unused runtime config key(s): …`, spin crates/factors/src/lib.rs
 * `RuntimeConfigUnusedKeys`), so a typo such as `[key_value_stores.default]` cannot
 * silently leave the app on SQLite. Unknown keys inside a store table are accepted
 * by Spin; here they get a warning.
 *
 * Errors are {@link RuntimeConfigError}s whose message names the file and the
 * key, e.g. `runtime-config/redis.toml: key_value_store.default.url: invalid URL`,
 * and never quotes a password.
 *
 * @module runner/runtime-config
 */

import fs from 'node:fs';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { redactSecrets } from './kv/errors.js';
import { parseRedisUrl } from './kv/redis.js';

/** @typedef {import('./kv/index.js').StoreSpec} StoreSpec */

/**
 * @typedef {object} RuntimeConfig
 * @property {string | null} file absolute path of the file read, or null
 * @property {Map<string, StoreSpec>} keyValueStores label → store; always has `default`
 */

/** The runtime config file is unusable; the message names the file and key. */
export class RuntimeConfigError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'RuntimeConfigError';
  }
}

/** The store types this runner implements. */
export const SUPPORTED_STORE_TYPES = Object.freeze(['spin', 'redis']);

const KNOWN_STORE_KEYS = { spin: new Set(['type', 'path']), redis: new Set(['type', 'url']) };

/**
 * The top-level keys Spin 3.6 / 4.0 consumes (spin crates/runtime-config/src/lib.rs and the
 * factors' runtime_config modules; checked against `spin up` 4.0.2).
 */
export const SPIN_RUNTIME_CONFIG_KEYS = Object.freeze(['key_value_store', 'sqlite_database', 'variables_provider',
  'config_provider', 'llm_compute', 'outbound_http', 'outbound_networking', 'client_tls', 'state_dir', 'log_dir',
  'max_instance_memory']);

/**
 * Spin's default key-value database for an app: `<appDir>/.spin/sqlite_key_value.db`.
 * @param {string} [appDir=process.cwd()] the directory holding spin.toml
 */
export function defaultStorePath(appDir = process.cwd()) {
  return path.resolve(appDir, '.spin', 'sqlite_key_value.db');
}

/**
 * Reads the runtime config.
 *
 * @param {string} [file] path of the TOML file (relative to the cwd); omitted or
 *   empty: only the default SQLite store
 * @param {{ appDir?: string, log?: (line: string) => void }} [options]
 *   `appDir` (default `process.cwd()`): where spin.toml is, for the default store;
 *   `log` (default `console.error`): receives warnings about ignored settings
 * @returns {RuntimeConfig}
 * @throws {RuntimeConfigError}
 */
export function loadRuntimeConfig(file, { appDir = process.cwd(), log = (line) => console.error(line) } = {}) {
  /** @type {Map<string, StoreSpec>} */
  const keyValueStores = new Map([['default', { type: 'spin', path: defaultStorePath(appDir) }]]);
  if (file === undefined || file === null || file === '') return { file: null, keyValueStores };

  const name = String(file);
  const abs = path.resolve(name);
  const baseDir = path.dirname(abs);
  /** @param {string} where @param {string} what */
  const fail = (where, what) => new RuntimeConfigError(redactSecrets(`${name}: ${where ? `${where}: ` : ''}${what}`));

  let text;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (err) {
    const code = /** @type {NodeJS.ErrnoException} */ (err).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable');
    throw fail('', `cannot read runtime config (${why})`);
  }

  /** @type {Record<string, unknown>} */
  let doc;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      // Only the first line of the parser's message: the rest quotes the source
      // line, which could hold a password.
      const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
      throw fail('', `malformed TOML at line ${err.line}, column ${err.column}: ${reason}`);
    }
    throw fail('', 'malformed TOML');
  }

  // `config_provider` is the old name of `variables_provider`, read only when that is absent
  // (spin crates/runtime-config/src/variables.rs).
  const unused = Object.keys(doc).filter((key) => !SPIN_RUNTIME_CONFIG_KEYS.includes(key)
    || (key === 'config_provider' && 'variables_provider' in doc));
  if (unused.length > 0) throw fail('', `unused runtime config key(s): ${unused.join(', ')}`);
  for (const key of Object.keys(doc)) {
    if (key !== 'key_value_store') warn(log, `${name}: ignoring ${key} (Spin uses it; this runner does not)`);
  }

  const section = doc.key_value_store;
  if (section === undefined) return { file: abs, keyValueStores };
  if (!isTable(section)) throw fail('key_value_store', 'expected a table of stores');

  for (const [label, entry] of Object.entries(section)) {
    const where = `key_value_store.${label}`;
    if (!isTable(entry)) throw fail(where, 'expected a table');
    const type = entry.type;
    if (type === undefined) throw fail(`${where}.type`, `missing (one of ${SUPPORTED_STORE_TYPES.join(', ')})`);
    if (typeof type !== 'string') throw fail(`${where}.type`, 'expected a string');
    if (type !== 'spin' && type !== 'redis') {
      throw fail(`${where}.type`, `unsupported type ${JSON.stringify(type)} (supported: ${SUPPORTED_STORE_TYPES.join(', ')})`);
    }
    for (const key of Object.keys(entry)) {
      if (!KNOWN_STORE_KEYS[type].has(key)) warn(log, `${name}: ignoring unknown key ${where}.${key}`);
    }

    if (type === 'redis') {
      const url = entry.url;
      if (url === undefined) throw fail(`${where}.url`, 'missing');
      if (typeof url !== 'string') throw fail(`${where}.url`, 'expected a string');
      try {
        parseRedisUrl(url);
      } catch (err) {
        throw fail(`${where}.url`, err instanceof Error ? err.message : 'invalid URL');
      }
      keyValueStores.set(label, { type: 'redis', url });
    } else {
      const p = entry.path;
      if (p === undefined) {
        keyValueStores.set(label, { type: 'spin', path: null });
        continue;
      }
      if (typeof p !== 'string') throw fail(`${where}.path`, 'expected a string');
      if (p.trim() === '' || p.includes('\0')) throw fail(`${where}.path`, 'invalid path');
      const resolved = path.resolve(baseDir, p);
      // Reading some of these blocks forever (e.g. /proc/kmsg, a FIFO): refuse them up front.
      if (/^\/(proc|sys|dev)(\/|$)/.test(resolved)) throw fail(`${where}.path`, `not a place for a database file (${resolved})`);
      const stat = fs.statSync(resolved, { throwIfNoEntry: false }); // missing: created on first use
      if (stat?.isDirectory()) throw fail(`${where}.path`, `is a directory (${resolved})`);
      if (stat && !stat.isFile()) throw fail(`${where}.path`, `is not a regular file (${resolved})`);
      keyValueStores.set(label, { type: 'spin', path: resolved });
    }
  }
  return { file: abs, keyValueStores };
}

/**
 * A store description for logs, e.g. `redis rediss://host:6380/0` or
 * `sqlite /app/.spin/sqlite_key_value.db`; never contains credentials.
 * @param {StoreSpec} spec
 */
export function describeStore(spec) {
  if (spec.type === 'redis') {
    try {
      return `redis ${parseRedisUrl(spec.url).display}`;
    } catch {
      return 'redis (invalid URL)';
    }
  }
  return spec.path ? `sqlite ${spec.path}` : 'sqlite (in memory)';
}

/** @param {unknown} v @returns {v is Record<string, unknown>} */
function isTable(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** @param {(line: string) => void} log @param {string} line */
function warn(log, line) {
  try {
    log(line);
  } catch {
    // ignore logger failures
  }
}
