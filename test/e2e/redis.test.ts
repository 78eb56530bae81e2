// The tutorial's curl flow against a real redis-server, reached the way Spin reaches Azure Redis:
// a URL with a percent-encoded password in the runtime config, plain GET/SET/DEL, no key prefix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, skipUnlessAvailable, startRedisServer } from '../support/redis-server';
import { type RedisBackedApp, startRedisBackedApp } from '../support/redis-app';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';

const KV_COMMANDS = ['get', 'set', 'del', 'exists', 'keys'] as const;

describe.skipIf(skipUnlessAvailable('redis-server'))('curl flow on Redis', () => {
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

  /** KV commands Redis executed while `action` ran (connection set-up commands excluded). */
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

  it('misses, hits, clears and misses again with one round trip per hit', async () => {
    let response!: Response;
    expect(await kvCommandsDuring(async () => (response = await app.get('/items')))).toEqual({ get: 1, set: 1 });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-served-from-cache')).toBe('false');
    expect(response.headers.get('content-length')).toBe('178');
    expect(await response.text()).toBe(ITEMS_JSON);

    const client = await redis.client();
    expect(await client.keys('*')).toEqual([ITEMS_KEY]);
    expect(await client.get(ITEMS_KEY)).toBe(ITEMS_JSON);

    expect(await kvCommandsDuring(async () => (response = await app.get('/items')))).toEqual({ get: 1 });
    expect(response.headers.get('x-served-from-cache')).toBe('true');
    expect(await response.text()).toBe(ITEMS_JSON);

    expect(await kvCommandsDuring(async () => (response = await app.get('/cache', { method: 'DELETE' })))).toEqual({ del: 1 });
    expect(response.status).toBe(204);
    expect(await client.exists(ITEMS_KEY)).toBe(0);

    response = await app.get('/items');
    expect(response.headers.get('x-served-from-cache')).toBe('false');
    expect(await response.text()).toBe(ITEMS_JSON);
  });

  it('never touches Redis for the health probe', async () => {
    expect(await kvCommandsDuring(() => app.get('/healthz'))).toEqual({});
  });

  it('never logs the password', () => {
    expect(app.runner.stderr() + app.runner.stdout()).not.toContain(redis.password);
    expect(app.runner.stderr()).not.toContain(encodeURIComponent(redis.password));
  });
});
