// Spin's SQLite key-value file, read and written with the `sqlite3` command-line tool (.ci/run
// installs it): the table is `spin_key_value(store, key, value BLOB)`.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';

/** Runs SQL statements on `file` and returns what sqlite3 printed (one row per line, `|` between columns). */
export function sqlite(file: string, sql: string): string {
  return execFileSync('sqlite3', [file], { input: sql, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
}

/** The keys of the store `default`, in order. */
export function storedKeys(file: string): string[] {
  return sqlite(file, "SELECT key FROM spin_key_value WHERE store = 'default' ORDER BY key;").split('\n').filter(Boolean);
}

/** Writes `value` under `key` in the store `default`: as a BLOB, or as TEXT (which Spin cannot read as bytes). */
export function putValue(file: string, key: string, value: Uint8Array, { asText = false } = {}): void {
  const valueFile = `${file}.value`;
  writeFileSync(valueFile, value);
  const read = asText ? `CAST(readfile('${valueFile}') AS TEXT)` : `readfile('${valueFile}')`;
  sqlite(file, `INSERT OR REPLACE INTO spin_key_value (store, key, value) VALUES ('default', '${key}', ${read});`);
  rmSync(valueFile);
}

/** `typeof(value)|hex(value)` of the row under `key`, or '' when there is none. */
export function storedValue(file: string, key: string): string {
  return sqlite(file, `SELECT typeof(value), hex(value) FROM spin_key_value WHERE store = 'default' AND key = '${key}';`).trim();
}

/** What storedValue answers for a BLOB holding `bytes`. */
export const blobRow = (bytes: Uint8Array | string): string => `blob|${Buffer.from(bytes).toString('hex').toUpperCase()}`;
