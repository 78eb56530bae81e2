// The Redis store's default behaviour is Spin's, on a real redis-server:
// - spinframework/spin v3.6.3 and v4.0.2 crates/factor-key-value/src/host.rs `open` calls
//   `Store::after_open` on every open, and crates/key-value-redis/src/store.rs `after_open` sends
//   PING (ignoring its failure); the operations are plain GET / SET / DEL / EXISTS / KEYS *.
// - the store holds one redis-rs 0.32.5 `ConnectionManager` with its defaults
//   (redis/src/aio/connection_manager.rs: DEFAULT_RESPONSE_TIMEOUT and DEFAULT_CONNECTION_TIMEOUT
//   are None, DEFAULT_NUMBER_OF_CONNECTION_RETRIES = 6, retried with backon 1.5.2's
//   ExponentialBuilder: 1 s, then ×100 capped at 60 s, plus jitter), so nothing times out: a
//   paused Redis stalls the operation until it resumes, and a dead one fails it only after the
//   reconnection attempts. Tests shorten those attempts through the backend's `reconnect` option.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KvBackendError, KvRegistry, RedisBackend } from '../../runner/kv/index.js';
import { freePort, skipUnlessAvailable, startRedisServer, type RedisServer } from '../support/redis-server';
import { runNode } from '../support/run-node';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const INDEX_URL = new URL('../../runner/kv/index.js', import.meta.url).href;

const skip = skipUnlessAvailable('redis-server');
if (skip) it.skip('Redis backend tests need redis-server (not installed)', () => {});

describe.skipIf(skip)('Redis store with Spin behaviour (the default)', () => {
  let redis: RedisServer;
  const backends: RedisBackend[] = [];
  const registries: KvRegistry[] = [];
  const logs: string[] = [];
  const registryFor = (url: string, options: Record<string, unknown> = {}) => {
    const registry = new KvRegistry(new Map([['default', { type: 'redis', url }]]), { log: (l: string) => logs.push(l), ...options });
    registries.push(registry);
    return registry;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const b of backends.splice(0)) b.close();
    for (const r of registries.splice(0)) r.closeAll();
    const c = await redis.client();
    await c.flushAll();
  });

  it('sends PING on every store open, then only the operation (a hit is PING + GET)', async () => {
    const stores = registryFor(redis.url);
    const before = await redis.commandCalls();
    stores.open('default')?.set('k', enc('v')); // a miss's SET
    const store = stores.open('default'); // a hit
    expect(dec(store?.get('k') ?? null)).toBe('v');
    stores.open('default')?.delete('k'); // a clear
    const after = await redis.commandCalls();
    const sent = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    expect({ ping: sent('ping'), get: sent('get'), set: sent('set'), del: sent('del') }).toEqual({ ping: 3, get: 1, set: 1, del: 1 });
  });

  it('has no timeout: against a paused Redis, open and get wait until it resumes, then complete', async () => {
    const backend = new RedisBackend(redis.url, { log: () => {} });
    backends.push(backend);
    backend.set('paused', enc('before'));
    redis.pause();
    let child;
    try {
      // The blocked caller must be another process: this one has to send SIGCONT.
      child = runNode(`
        import { openBackend } from ${JSON.stringify(INDEX_URL)};
        const t0 = performance.now();
        const kv = openBackend({ type: 'redis', url: ${JSON.stringify(redis.url)} }, { log: () => {} });
        kv.afterOpen();
        const value = new TextDecoder().decode(kv.get('paused'));
        console.log(JSON.stringify({ value, ms: Math.round(performance.now() - t0) }));
        kv.close();
      `, { timeoutMs: 30_000 });
      // The protective mode would have given up long before this (its timeouts are milliseconds).
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      redis.resume();
    }
    const r = await child;
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout.trim());
    expect(result.value).toBe('before');
    expect(result.ms).toBeGreaterThan(2000);
  });

  it('connects on the first open, not before: an unreachable Redis fails that open after the reconnection attempts', async () => {
    const port = await freePort(); // nothing listens there
    const stores = registryFor(`redis://127.0.0.1:${port}`, { reconnect: { retries: 2, firstRetryDelayMs: 100, maxRetryDelayMs: 200 } });
    stores.openAll(); // constructing the backend does not connect
    const t0 = performance.now();
    expect(() => stores.open('default')).toThrow(KvBackendError);
    const ms = performance.now() - t0;
    // Three attempts: 100-200 ms, then 200-400 ms (100 × 100 capped at 200, plus jitter) between them.
    expect(ms).toBeGreaterThanOrEqual(300);
  });

  it('a failed first connection is retried by the next open, which succeeds once Redis is there', async () => {
    const other = await startRedisServer();
    await other.kill();
    const stores = registryFor(other.url, { reconnect: { retries: 0 } });
    expect(() => stores.open('default')).toThrow(KvBackendError);
    await other.restart();
    try {
      const store = stores.open('default');
      store?.set('back', enc('yes'));
      expect(dec(store?.get('back') ?? null)).toBe('yes');
    } finally {
      stores.closeAll();
      await other.stop();
    }
  });

  it('after Redis restarts, the PING of the next open fails (ignored), the operation waits for the reconnection and succeeds', async () => {
    const other = await startRedisServer();
    const stores = registryFor(other.url, { reconnect: { retries: 6, firstRetryDelayMs: 200, maxRetryDelayMs: 400 } });
    try {
      stores.open('default')?.set('k', enc('1'));
      await other.kill();
      await other.restart();
      const store = stores.open('default'); // PING on the dropped connection fails, which starts a reconnection
      expect(() => store?.set('k', enc('2'))).not.toThrow();
      expect(dec(store?.get('k') ?? null)).toBe('2');
    } finally {
      stores.closeAll();
      await other.stop();
    }
  });

  it('a dead Redis fails an operation once the reconnection attempts are exhausted (not before)', async () => {
    const other = await startRedisServer();
    const stores = registryFor(other.url, { reconnect: { retries: 2, firstRetryDelayMs: 150, maxRetryDelayMs: 300 } });
    try {
      stores.open('default')?.set('k', enc('1'));
      await other.kill();
      const store = stores.open('default');
      const t0 = performance.now();
      expect(() => store?.get('k')).toThrow(KvBackendError);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(450); // 150-300 ms + 300-600 ms of backoff
    } finally {
      stores.closeAll();
      await other.stop();
    }
  });
});
