// The tutorial's curl flow against a real redis-server, reached the way Spin reaches Azure Redis:
// a URL with a percent-encoded password in the runtime config, plain GET/SET/DEL, no key prefix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/host';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { type RedisBackedApp, startRedisBackedApp } from '../support/redis-app';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';

const KV_COMMANDS = ['ping', 'get', 'set', 'del', 'exists', 'keys'] as const;

describe.skipIf(skipWithout('redis-server'))('curl flow on Redis', () => {
  let redis: RedisServer;
  let app: RedisBackedApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startRedisBackedApp(redis.url);
  });

  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  /** Key-value commands Redis executed while `action` ran (connection set-up excluded). */
  async function kvCommandsDuring(action: () => Promise<unknown>) {
    const before = await redis.commandCalls();
    await action();
    const after = await redis.commandCalls();
    return Object.fromEntries(
      KV_COMMANDS.map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)]).filter(([, n]) => n !== 0),
    );
  }

  it('uses a password with + / = from the URL', () => {
    expect(redis.password).toMatch(/[+/=]/);
    expect(redis.url).not.toContain(redis.password);
  });

  // Spin's Redis store answers every store open with a PING (`Store::after_open` in
  // spin crates/key-value-redis/src/store.rs, called from `KeyValueDispatch::open` in
  // crates/factor-key-value/src/host.rs); the component opens the store once per request.
  it('misses, hits, clears and misses again: PING + GET per hit, PING + GET + SET per miss, PING + DEL per clear', async () => {
    let response!: Response;
    const read = async () => {
      response = await app.get('/items');
      return response.text();
    };
    let body = '';
    expect(await kvCommandsDuring(async () => (body = await read()))).toEqual({ ping: 1, get: 1, set: 1 });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-served-from-cache')).toBe('false');
    expect(response.headers.get('content-length')).toBe('178');
    expect(body).toBe(ITEMS_JSON);

    const client = await redis.client();
    expect(await client.keys('*')).toEqual([ITEMS_KEY]);
    expect(await client.get(ITEMS_KEY)).toBe(ITEMS_JSON);

    expect(await kvCommandsDuring(async () => (body = await read()))).toEqual({ ping: 1, get: 1 });
    expect(response.headers.get('x-served-from-cache')).toBe('true');
    expect(body).toBe(ITEMS_JSON);

    expect(await kvCommandsDuring(async () => (response = await app.get('/cache', { method: 'DELETE' })))).toEqual({ ping: 1, del: 1 });
    expect(response.status).toBe(204);
    expect(await client.exists(ITEMS_KEY)).toBe(0);

    body = await read();
    expect(response.headers.get('x-served-from-cache')).toBe('false');
    expect(body).toBe(ITEMS_JSON);
  });

  it('sends 11 PINGs, 11 GETs and 1 SET for one miss and ten hits', async () => {
    await (await app.get('/cache', { method: 'DELETE' })).arrayBuffer();
    const calls = await kvCommandsDuring(async () => {
      for (let i = 0; i < 11; i++) await (await app.get('/items')).arrayBuffer();
    });
    expect(calls).toEqual({ ping: 11, get: 11, set: 1 });
  });

  it('never touches Redis for the health probe', async () => {
    expect(await kvCommandsDuring(async () => (await app.get('/healthz')).arrayBuffer())).toEqual({});
  });

  it('never logs the password', () => {
    const output = app.server.stderr() + app.server.stdout();
    expect(output).not.toContain(redis.password);
    expect(output).not.toContain(encodeURIComponent(redis.password));
  });
});
