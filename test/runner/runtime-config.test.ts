import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeConfigError, defaultStorePath, describeStore, loadRuntimeConfig } from '../../runner/runtime-config.js';
import { parseRedisUrl } from '../../runner/kv/index.js';

const PASSWORD = 'Sup3r+Secret/Key=='; // Azure-key-like: + / =
const ENCODED = encodeURIComponent(PASSWORD); // Sup3r%2BSecret%2FKey%3D%3D

describe('loadRuntimeConfig', () => {
  let dir: string;
  let cwd: string;
  let rel: (name: string) => string;
  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return rel(name);
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-rtc-'));
    cwd = process.cwd();
    rel = (name) => path.relative(cwd, path.join(dir, name));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('without a file, only `default` exists: SQLite at <appDir>/.spin/sqlite_key_value.db', () => {
    const cfg = loadRuntimeConfig(undefined, { appDir: '/srv/app' });
    expect(cfg.file).toBeNull();
    expect([...cfg.keyValueStores]).toEqual([
      ['default', { type: 'spin', path: '/srv/app/.spin/sqlite_key_value.db' }],
    ]);
    expect(defaultStorePath('/srv/app')).toBe('/srv/app/.spin/sqlite_key_value.db');
    expect(loadRuntimeConfig('').keyValueStores.get('default')).toEqual({
      type: 'spin',
      path: path.join(process.cwd(), '.spin', 'sqlite_key_value.db'),
    });
  });

  it('reads redis and spin stores; spin paths are relative to the file\'s directory', () => {
    const file = write(
      'runtime-config/redis.toml',
      `
[key_value_store.default]
type = "redis"
url = "rediss://:${ENCODED}@cache.example.net:6380/0"

[key_value_store.local]
type = "spin"
path = "data/local.db"

[key_value_store.mem]
type = "spin"
`,
    );
    const logs: string[] = [];
    const cfg = loadRuntimeConfig(file, { appDir: '/srv/app', log: (l) => logs.push(l) });
    expect(cfg.file).toBe(path.join(dir, 'runtime-config/redis.toml'));
    expect(cfg.keyValueStores.get('default')).toEqual({
      type: 'redis',
      url: `rediss://:${ENCODED}@cache.example.net:6380/0`,
    });
    expect(cfg.keyValueStores.get('local')).toEqual({
      type: 'spin',
      path: path.join(dir, 'runtime-config', 'data', 'local.db'),
    });
    // Spin: type "spin" without path is an in-memory database
    expect(cfg.keyValueStores.get('mem')).toEqual({ type: 'spin', path: null });
    expect(logs).toEqual([]);
    expect(describeStore(cfg.keyValueStores.get('default')!)).toBe('redis rediss://cache.example.net:6380/0');
  });

  it('keeps the default SQLite store when the file only defines other labels', () => {
    const file = write('other-only.toml', '[key_value_store.cache]\ntype = "spin"\npath = "/abs/cache.db"\n');
    const cfg = loadRuntimeConfig(file, { appDir: '/srv/app' });
    expect(cfg.keyValueStores.get('default')).toEqual({ type: 'spin', path: '/srv/app/.spin/sqlite_key_value.db' });
    expect(cfg.keyValueStores.get('cache')).toEqual({ type: 'spin', path: '/abs/cache.db' });
  });

  it('ignores other top-level tables and unknown keys, with a warning', () => {
    const file = write(
      'full.toml',
      `
[sqlite_database.default]
type = "libsql"
url = "https://example.net"
token = "xyz"

[variables_provider]
type = "env"

[llm_compute]
type = "spin"

[key_value_store.default]
type = "spin"
path = "kv.db"
colour = "blue"
`,
    );
    const logs: string[] = [];
    const cfg = loadRuntimeConfig(file, { log: (l) => logs.push(l) });
    expect(cfg.keyValueStores.get('default')).toEqual({ type: 'spin', path: path.join(dir, 'kv.db') });
    expect(logs).toHaveLength(4);
    expect(logs.join('\n')).toContain('ignoring sqlite_database (Spin uses it; this runner does not)');
    expect(logs.join('\n')).toContain('key_value_store.default.colour');
    expect(logs.join('\n')).not.toContain('xyz');
  });

  // Spin stops at any top-level key no factor consumes (spin v3.6.3 / v4.0.2 crates/factors/src/lib.rs:
  // `#[error("unused runtime config key(s): {}", keys.join(", "))] RuntimeConfigUnusedKeys`); measured on
  // spin up 4.0.2: `[key_value_stores.default]` gives `Error: unused runtime config key(s): key_value_stores`.
  it('refuses unknown top-level keys, naming them, as Spin does (a typo cannot leave the app on SQLite)', () => {
    const file = write('typo.toml', 'extra = 1\n[key_value_stores.default]\ntype = "redis"\nurl = "redis://h"\n');
    expect(() => loadRuntimeConfig(file, { log: () => {} })).toThrow(
      new RuntimeConfigError(`${file}: unused runtime config key(s): extra, key_value_stores`),
    );
  });

  it('accepts every top-level key Spin consumes (measured on spin up 4.0.2)', () => {
    const file = write('all-spin-keys.toml', [
      'state_dir = ".spin2"', 'log_dir = "logs2"', 'max_instance_memory = 100000000',
      '[[variables_provider]]', 'type = "env"',
      '[llm_compute]', 'type = "spin"', '[sqlite_database.default]', 'type = "spin"',
      '[outbound_networking]', 'block_networks = []',
      '[[client_tls]]', 'component_ids = ["cache-with-az-redis"]', 'hosts = ["example.com"]',
      '[outbound_http]', '',
    ].join('\n'));
    const logs: string[] = [];
    expect(() => loadRuntimeConfig(file, { log: (l) => logs.push(l) })).not.toThrow();
    expect(logs).toHaveLength(9);
    // `config_provider` is read only without `variables_provider` (spin crates/runtime-config/src/variables.rs);
    // with both, spin up 4.0.2 says `Error: unused runtime config key(s): config_provider`.
    const old = write('old-provider.toml', '[[config_provider]]\ntype = "env"\n');
    expect(() => loadRuntimeConfig(old, { log: () => {} })).not.toThrow();
    const both = write('both-providers.toml', '[[config_provider]]\ntype = "env"\n[[variables_provider]]\ntype = "env"\n');
    expect(() => loadRuntimeConfig(both, { log: () => {} })).toThrow(/unused runtime config key\(s\): config_provider$/);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['unknown type', '[key_value_store.default]\ntype = "azure_cosmos"\n', /key_value_store\.default\.type: unsupported type "azure_cosmos"/],
    ['missing type', '[key_value_store.default]\nurl = "redis://h"\n', /key_value_store\.default\.type: missing/],
    ['missing url', '[key_value_store.default]\ntype = "redis"\n', /key_value_store\.default\.url: missing/],
    ['url not a string', '[key_value_store.default]\ntype = "redis"\nurl = 6379\n', /key_value_store\.default\.url: expected a string/],
    ['path not a string', '[key_value_store.default]\ntype = "spin"\npath = 1\n', /key_value_store\.default\.path: expected a string/],
    ['store not a table', '[key_value_store]\ndefault = "redis"\n', /key_value_store\.default: expected a table/],
    ['section not a table', 'key_value_store = 1\n', /: key_value_store: expected a table/],
    [
      'malformed URL (unencoded / in the password)',
      `[key_value_store.default]\ntype = "redis"\nurl = "redis://:${PASSWORD}@host:6379"\n`,
      /key_value_store\.default\.url: (invalid URL|missing host|invalid port|invalid database path)/,
    ],
    ['malformed URL', `[key_value_store.default]\ntype = "redis"\nurl = "::${ENCODED}::"\n`, /key_value_store\.default\.url: invalid URL/],
    [
      'wrong scheme',
      `[key_value_store.default]\ntype = "redis"\nurl = "https://:${ENCODED}@host:6380"\n`,
      /key_value_store\.default\.url: unsupported "https:\/\/" \(expected redis:\/\/ or rediss:\/\/\)/,
    ],
    [
      'fragment other than #insecure',
      `[key_value_store.default]\ntype = "redis"\nurl = "rediss://:${ENCODED}@host:6380/0#${ENCODED}"\n`,
      /key_value_store\.default\.url: unsupported URL fragment \(only #insecure is accepted/,
    ],
    [
      'bad db path',
      `[key_value_store.default]\ntype = "redis"\nurl = "redis://:${ENCODED}@host:6379/zero"\n`,
      /key_value_store\.default\.url: invalid database path/,
    ],
    [
      'bad percent-encoding',
      `[key_value_store.default]\ntype = "redis"\nurl = "redis://:${ENCODED}%ZZ@host:6379/0"\n`,
      /key_value_store\.default\.url: invalid percent-encoding/,
    ],
    [
      'malformed TOML on the line holding the password',
      `[key_value_store.default]\ntype = "redis"\nurl = "redis://:${PASSWORD}@host\n`,
      /: malformed TOML at line 3, column \d+/,
    ],
    ['malformed TOML', '[key_value_store.default\ntype = "spin"\n', /: malformed TOML at line 1/],
  ];

  it.each(bad)('rejects %s, naming the file and key, without the password', (_name, text, pattern) => {
    const file = write(`bad-${Math.random().toString(36).slice(2)}.toml`, text);
    let error: unknown;
    try {
      loadRuntimeConfig(file, { log: () => {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RuntimeConfigError);
    const message = (error as Error).message;
    expect(message.startsWith(`${file}: `)).toBe(true);
    expect(message).toMatch(pattern);
    expect(message).not.toContain(PASSWORD);
    expect(message).not.toContain(ENCODED);
    expect(message).not.toContain('Secret');
    expect(message.split('\n')).toHaveLength(1);
  });

  it('rejects a spin path that is a directory', () => {
    fs.mkdirSync(path.join(dir, 'somedir'), { recursive: true });
    const file = write('dirpath.toml', '[key_value_store.default]\ntype = "spin"\npath = "somedir"\n');
    expect(() => loadRuntimeConfig(file)).toThrow(/dirpath\.toml: key_value_store\.default\.path: is a directory/);
  });

  it('reports an unreadable file', () => {
    const missing = rel('does-not-exist.toml');
    expect(() => loadRuntimeConfig(missing)).toThrow(RuntimeConfigError);
    expect(() => loadRuntimeConfig(missing)).toThrow(`${missing}: cannot read runtime config (no such file)`);
    expect(() => loadRuntimeConfig(rel(''))).toThrow(/is a directory/);
  });
});

describe('parseRedisUrl', () => {
  it('percent-decodes username and password and reads host, port, db, TLS', () => {
    const t = parseRedisUrl(`rediss://app%40user:${ENCODED}@name.redis.cache.windows.net:6380/3`);
    expect(t).toMatchObject({
      tls: true,
      host: 'name.redis.cache.windows.net',
      port: 6380,
      username: 'app@user',
      password: PASSWORD,
      database: 3,
      insecure: false,
      display: 'rediss://name.redis.cache.windows.net:6380/3',
    });
  });

  it('has Spin\'s defaults and accepts #insecure', () => {
    expect(parseRedisUrl('redis://localhost')).toMatchObject({
      tls: false,
      port: 6379,
      database: 0,
      username: undefined,
      password: undefined,
      insecure: false,
    });
    expect(parseRedisUrl('rediss://h:1/#insecure').insecure).toBe(true);
    expect(parseRedisUrl('redis://[::1]:7000/2')).toMatchObject({ host: '::1', port: 7000, database: 2, display: 'redis://[::1]:7000/2' });
    // '+' and '=' may also appear unencoded; '+' is not a space
    expect(parseRedisUrl('redis://:a+b=c@h/1').password).toBe('a+b=c');
  });

  it.each([
    ['', /empty URL/],
    ['localhost:6379', /unsupported/],
    ['redis://', /missing host|invalid URL/],
    ['redis://h/x', /invalid database path/],
    ['redis://h/1/2', /invalid database path/],
    ['redis://h#tls', /only #insecure/],
    ['redis+unix:///tmp/redis.sock', /unsupported "redis\+unix:\/\/"/],
  ])('rejects %j', (url, pattern) => {
    expect(() => parseRedisUrl(url)).toThrow(pattern);
  });
});
