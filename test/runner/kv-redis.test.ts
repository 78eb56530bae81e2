import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KvBackendError, RedisBackend, openBackend } from '../../runner/kv/index.js';
import {
  freePort,
  makePassword,
  skipUnlessAvailable,
  startRedisServer,
  type RedisServer,
} from '../support/redis-server';
import { runNode } from '../support/run-node';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const INDEX_URL = new URL('../../runner/kv/index.js', import.meta.url).href;

const TIMEOUT_MS = 200;
const COOL_OFF_MS = 400;
const FAST = { timeoutMs: TIMEOUT_MS, breakerCoolOffMs: COOL_OFF_MS, reconnectMaxDelayMs: 100 };

/** Runs fn; returns its duration and what it threw. */
function timed(fn: () => unknown): { ms: number; error?: Error; value?: unknown } {
  const t0 = performance.now();
  try {
    const value = fn();
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error: error as Error };
  }
}

/** Retries a synchronous op (yielding to the event loop) until it stops throwing. */
async function eventually<T>(fn: () => T, withinMs = 5000): Promise<T> {
  const end = Date.now() + withinMs;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(25);
    }
  }
}

const skip = skipUnlessAvailable('redis-server');
if (skip) it.skip('Redis backend tests need redis-server (not installed)', () => {});

describe.skipIf(skip)('Redis key-value backend', () => {
  let redis: RedisServer;
  const logs: string[] = [];
  const secrets: string[] = [];
  const backends: RedisBackend[] = [];
  const open = (url: string, options: Record<string, unknown> = {}) => {
    const b = new RedisBackend(url, { ...FAST, log: (l: string) => logs.push(l), ...options });
    backends.push(b);
    return b;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    secrets.push(redis.password, encodeURIComponent(redis.password));
  });
  afterEach(() => {
    for (const b of backends.splice(0)) b.close();
  });
  afterAll(async () => {
    await redis?.stop();
    // No log line of the whole file may contain a password.
    for (const line of logs) for (const s of secrets) expect(line).not.toContain(s);
  });

  it('implements get / set / delete / exists / getKeys with binary values', async () => {
    const c = await redis.client();
    await c.flushDb();
    const kv = open(redis.url);
    expect(kv.state).toBe('ready'); // the constructor waited for the first connection
    expect(kv.get('missing')).toBeNull();
    expect(kv.exists('missing')).toBe(false);
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    kv.set('bin', bytes);
    expect(kv.get('bin')).toEqual(bytes);
    kv.set('empty', new Uint8Array(0));
    expect(kv.get('empty')).toEqual(new Uint8Array(0));
    const backing = Uint8Array.from([7, 1, 2, 3, 7]);
    kv.set('view', backing.subarray(1, 4));
    expect(kv.get('view')).toEqual(Uint8Array.from([1, 2, 3]));
    kv.set('bin', enc('replaced'));
    expect(dec(kv.get('bin'))).toBe('replaced');
    expect(kv.exists('bin')).toBe(true);
    expect(kv.getKeys().sort()).toEqual(['bin', 'empty', 'view']);
    kv.delete('bin');
    kv.delete('never-there');
    expect(kv.get('bin')).toBeNull();
    expect(kv.getKeys().sort()).toEqual(['empty', 'view']);
  });

  it('uses plain GET / SET / DEL / EXISTS / KEYS * (INFO commandstats deltas)', async () => {
    const kv = open(redis.url);
    const delta = async (fn: () => void) => {
      const before = await redis.commandCalls();
      fn();
      const after = await redis.commandCalls();
      const d: Record<string, number> = {};
      for (const [cmd, n] of Object.entries(after)) {
        if (cmd === 'info') continue;
        const diff = n - (before[cmd] ?? 0);
        if (diff) d[cmd] = diff;
      }
      return d;
    };
    expect(await delta(() => kv.get('k'))).toEqual({ get: 1 });
    expect(await delta(() => kv.exists('k'))).toEqual({ exists: 1 });
    expect(await delta(() => kv.getKeys())).toEqual({ keys: 1 });
    expect(await delta(() => kv.set('k', enc('v')))).toEqual({ set: 1 });
    expect(await delta(() => kv.delete('k'))).toEqual({ del: 1 });
  });

  it('uses the key as is (no prefix): values are shared with a plain client', async () => {
    const c = await redis.client();
    const kv = open(redis.url);
    kv.set('item:42', enc('{"id":42}'));
    expect(await c.get('item:42')).toBe('{"id":42}');
    await c.set('from-plain', 'hello');
    expect(dec(kv.get('from-plain'))).toBe('hello');
    expect(kv.getKeys()).toContain('from-plain');
  });

  it('selects the database from the /N path', async () => {
    const kv3 = open(redis.urlFor({ db: 3 }));
    kv3.set('db-key', enc('in db 3'));
    const c3 = await redis.client({ db: 3 });
    const c0 = await redis.client({ db: 0 });
    expect(await c3.get('db-key')).toBe('in db 3');
    expect(await c0.exists('db-key')).toBe(0);
    expect(open(redis.url).exists('db-key')).toBe(false);
    expect(kv3.getKeys()).toEqual(['db-key']);
  });

  it('percent-decodes the password (+ / =) and supports a username', async () => {
    expect(redis.password).toMatch(/\+/);
    expect(redis.url).toContain('%2B');
    expect(redis.url).toContain('%2F');
    expect(redis.url).toContain('%3D');
    expect(open(redis.url).exists('x')).toBe(false); // authenticated with the decoded password

    const userPassword = makePassword();
    secrets.push(userPassword, encodeURIComponent(userPassword));
    const admin = await redis.client();
    await admin.sendCommand(['ACL', 'SETUSER', 'app', 'on', `>${userPassword}`, '~*', '+@all']);
    const kv = open(redis.urlFor({ username: 'app', password: userPassword }));
    kv.set('acl', enc('ok'));
    expect(dec(kv.get('acl'))).toBe('ok');
  });

  it('a wrong password fails ops with a clear message that does not contain it', () => {
    const wrong = 'Wr0ng+Pass/word==';
    secrets.push(wrong, encodeURIComponent(wrong));
    const before = logs.length;
    const kv = open(redis.urlFor({ password: wrong }));
    const r = timed(() => kv.get('k'));
    expect(r.error).toBeInstanceOf(KvBackendError);
    expect(r.error!.message).toMatch(/authentication failed.*WRONGPASS/);
    expect(r.ms).toBeLessThan(TIMEOUT_MS);
    for (const s of [wrong, encodeURIComponent(wrong), redis.password]) expect(r.error!.message).not.toContain(s);
    const newLogs = logs.slice(before).join('\n');
    expect(newLogs).toMatch(/redis unreachable: redis authentication failed/);
    expect(newLogs).not.toContain(wrong);
  });

  it('a Redis error reply (WRONGTYPE) is reported but does not open the breaker', async () => {
    const c = await redis.client();
    await c.lPush('a-list', 'x');
    const kv = open(redis.url);
    for (let i = 0; i < 5; i++) expect(() => kv.get('a-list')).toThrow(/WRONGTYPE/);
    expect(kv.exists('a-list')).toBe(true);
  });

  it('does not keep the process alive (the worker is unref\'d), with or without close()', async () => {
    const code = (close: boolean) => `
      import { openBackend } from ${JSON.stringify(INDEX_URL)};
      const kv = openBackend({ type: 'redis', url: process.env.KV_URL }, { log: () => {} });
      kv.set('child', new TextEncoder().encode('x'));
      console.log(new TextDecoder().decode(kv.get('child')));
      ${close ? 'kv.close();' : ''}
    `;
    for (const close of [true, false]) {
      const r = await runNode(code(close), { env: { KV_URL: redis.url }, timeoutMs: 10_000 });
      expect(r.stdout.trim()).toBe('x');
      expect(r.code).toBe(0);
      expect(r.ms).toBeLessThan(5_000);
    }
  });
});

describe.skipIf(skip)('Redis backend under failures', () => {
  const logs: string[] = [];
  const backends: RedisBackend[] = [];
  const servers: RedisServer[] = [];
  const open = (url: string, options: Record<string, unknown> = {}) => {
    const b = new RedisBackend(url, { ...FAST, log: (l: string) => logs.push(l), ...options });
    backends.push(b);
    return b;
  };
  afterEach(async () => {
    for (const b of backends.splice(0)) b.close();
    for (const s of servers.splice(0)) await s.stop();
  });

  it('constructs when Redis is unreachable, fails fast, and connects when it appears', async () => {
    const port = await freePort();
    const password = makePassword();
    const url = `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}/0`;
    const before = logs.length;
    const t = timed(() => open(url));
    expect(t.error).toBeUndefined();
    expect(t.ms).toBeLessThan(1500);
    const kv = t.value as RedisBackend;
    expect(kv.state).toBe('down');
    expect(logs.slice(before).join('\n')).toMatch(/redis unreachable: connect ECONNREFUSED .*retrying in the background/);

    const r = timed(() => kv.get('k'));
    expect(r.error).toBeInstanceOf(KvBackendError);
    expect(r.error!.message).toMatch(/redis not connected: connect ECONNREFUSED/);
    expect(r.ms).toBeLessThan(TIMEOUT_MS);

    const redis = await startRedisServer({ port, password });
    servers.push(redis);
    await eventually(() => kv.set('k', enc('up')), 5000);
    expect(dec(kv.get('k'))).toBe('up');
    expect(logs.slice(before).join('\n')).toMatch(/redis connected/);
  });

  it('killed Redis: ops fail within the timeout, the breaker opens, and it recovers after a restart', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    const kv = open(redis.url, { breakerThreshold: 3 });
    kv.set('k', enc('v'));
    const before = logs.length;
    await redis.kill();
    // while idle, the worker's events are still logged (asynchronously)
    for (let i = 0; i < 40 && !logs.slice(before).some((l) => /connection lost/.test(l)); i++) await sleep(25);
    expect(logs.slice(before).join('\n')).toMatch(/redis connection lost: connection closed by the server; reconnecting/);

    const failures = [];
    for (let i = 0; i < 3; i++) {
      const r = timed(() => kv.get('k'));
      expect(r.error).toBeInstanceOf(KvBackendError);
      expect(r.ms).toBeLessThan(5 * TIMEOUT_MS);
      failures.push(r);
    }
    // breaker open: instant failures naming the cause
    for (let i = 0; i < 3; i++) {
      const r = timed(() => kv.get('k'));
      expect(r.error!.message).toMatch(/^redis unavailable \(cooling off after 3 failures: .+\)$/);
      expect(r.ms).toBeLessThan(20);
    }
    expect(logs.slice(before).join('\n')).toMatch(/circuit breaker open after 3 consecutive failures/);

    await redis.restart(); // same port, empty data
    await eventually(() => kv.set('k', enc('again')), 5000);
    expect(dec(kv.get('k'))).toBe('again');
    const after = logs.slice(before).join('\n');
    expect(after).toMatch(/redis reconnected/);
    expect(after).toMatch(/circuit breaker closed/);
  });

  it('the breaker lets one call through after the cool-off, and re-opens if it fails', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    const kv = open(redis.url, { breakerThreshold: 2, breakerCoolOffMs: 300 });
    await redis.kill();
    for (let i = 0; i < 2; i++) expect(() => kv.get('k')).toThrow(KvBackendError);
    expect(() => kv.get('k')).toThrow(/cooling off after 2 failures/);
    await sleep(350);
    // one try goes through (and fails: Redis is still down), then it is open again
    expect(() => kv.get('k')).toThrow(/redis not connected/);
    expect(() => kv.get('k')).toThrow(/cooling off after 3 failures/);
  });

  it('SIGSTOPped Redis: each op returns within the timeout and nothing issued after it is ever sent', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    const plain = await redis.client();
    // breaker threshold high so every op below really goes to the worker
    const kv = open(redis.url, { breakerThreshold: 100 });
    kv.set('k', enc('before'));
    kv.set('k2', enc('old'));
    const before = logs.length;

    redis.pause();
    const results = [
      timed(() => kv.set('k', enc('late'))), // sent, stalls: times out; the connection is dropped
      timed(() => kv.get('k2')),
      timed(() => kv.set('k3', enc('late'))),
      timed(() => kv.delete('k2')),
      timed(() => kv.exists('k')),
    ];
    for (const r of results) {
      expect(r.error).toBeInstanceOf(KvBackendError);
      expect(r.ms).toBeLessThan(5 * TIMEOUT_MS);
    }
    expect(results[0]!.error!.message).toBe(`redis timed out after ${TIMEOUT_MS} ms`);
    expect(results[0]!.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    redis.resume();

    await eventually(() => kv.get('k'), 5000);
    await sleep(300); // give anything still buffered in Redis time to be applied
    // The SET already on the wire is read by Redis when it resumes, as it would be under Spin
    // (plain commands, no transactions); the ops issued after the timeout were never sent.
    expect(dec(kv.get('k'))).toBe('late');
    expect(await plain.get('k')).toBe('late');
    expect(await plain.exists('k3')).toBe(0);
    expect(await plain.get('k2')).toBe('old');
    // replies are matched by request id: no late reply is taken for a new one
    kv.set('k2', enc('new'));
    expect(dec(kv.get('k2'))).toBe('new');
    expect(kv.exists('k3')).toBe(false);
    expect(logs.slice(before).join('\n')).toMatch(/redis connection lost: no reply within the operation timeout/);
  });

  it('a slow command (DEBUG SLEEP) times out without its late reply leaking into the next op', async () => {
    const redis = await startRedisServer({ args: ['--enable-debug-command', 'yes'] });
    servers.push(redis);
    const kv = open(redis.url, { breakerThreshold: 100 });
    kv.set('a', enc('A'));
    kv.set('b', enc('B'));
    const admin = await redis.client();
    const sleeping = admin.sendCommand(['DEBUG', 'SLEEP', '0.5']).catch(() => {});
    await sleep(50);
    const r = timed(() => kv.get('a'));
    expect(r.error?.message).toBe(`redis timed out after ${TIMEOUT_MS} ms`);
    await sleeping;
    // the reply to the timed-out GET 'a' must not be returned for GET 'b'
    const b = await eventually(() => kv.get('b'), 5000);
    expect(dec(b)).toBe('B');
    expect(dec(kv.get('a'))).toBe('A');
  });
});

describe('openBackend (redis)', () => {
  it('rejects a malformed URL without quoting it', () => {
    const pw = 'abc+def/ghi=';
    let error: Error | undefined;
    try {
      openBackend({ type: 'redis', url: `redis://:${pw}@host:6379` }, { log: () => {} });
    } catch (err) {
      error = err as Error;
    }
    expect(error).toBeInstanceOf(KvBackendError);
    expect(error!.message).toMatch(/^redis: invalid URL/);
    expect(error!.message).not.toContain('abc');
  });
});
