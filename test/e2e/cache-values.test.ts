// Whatever sits under the cache key, GET /items answers 200 with the catalog and replaces the
// entry: on the real component, on the SQLite file `spin up` uses and on a real redis-server.
// Values up to LARGEST_SAFE_VALUE bytes; above it the component traps (docs/cache.md explains
// why and where the bound comes from), which the last tests pin down together with the way out.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDir } from '../support/app-dir';
import { serveApp } from '../support/served-app';
import { HOSTS, type RunningApp } from '../support/host';
import { type RedisServer, skipUnlessAvailable, startRedisServer } from '../support/redis-server';
import { type RedisBackedApp, startRedisBackedApp } from '../support/redis-app';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';

/** The largest value the component reads and replaces (measured on Spin 4.0.2 and the runner). */
const LARGEST_SAFE_VALUE = 4_489_164;

const junk = (size: number) => Buffer.alloc(size, 'x');

// 196,565 bytes trapped the component before its heap reserve.
const VALUES: Array<[string, Buffer]> = [
  ['an empty array', Buffer.from('[]')],
  ['the catalog with a duplicate id', Buffer.from(ITEMS_JSON.replace('"id":2', '"id":1'))],
  ['196,565 bytes', junk(196_565)],
  ['1 MB', junk(1_000_000)],
  [`${LARGEST_SAFE_VALUE} bytes (the largest safe value)`, junk(LARGEST_SAFE_VALUE)],
];

const TOO_LARGE: Array<[string, number]> = [
  [`${LARGEST_SAFE_VALUE + 1} bytes`, LARGEST_SAFE_VALUE + 1],
  ['10 MB', 10_000_000],
];

async function expectReplacedMiss(get: (path: string) => Promise<Response>) {
  const response = await get('/items');
  expect(response.status).toBe(200);
  expect(response.headers.get('x-served-from-cache')).toBe('false');
  expect(response.headers.get('server-timing')).toMatch(/^cache;desc=miss;dur=[\d.]+$/);
  expect(await response.text()).toBe(ITEMS_JSON);

  const next = await get('/items');
  expect(next.headers.get('x-served-from-cache')).toBe('true');
  expect(await next.text()).toBe(ITEMS_JSON);
}

/** Above the bound the request fails (and keeps failing), but DELETE /cache still clears the way. */
async function expectTrapThenClear(get: (path: string, init?: RequestInit) => Promise<Response>) {
  for (let i = 0; i < 2; i++) {
    const response = await get('/items');
    expect(response.status).toBe(500);
    await response.arrayBuffer();
  }
  expect((await get('/healthz')).status).toBe(200);
  expect((await get('/cache', { method: 'DELETE' })).status).toBe(204);
  const after = await get('/items');
  expect(after.status).toBe(200);
  expect(await after.text()).toBe(ITEMS_JSON);
}

describe.each(HOSTS)('on %s', (host) => {
  describe('with the SQLite store', () => {
    let app: AppDir;
    let server: RunningApp;
    let stop: () => Promise<void>;

    beforeAll(async () => {
      ({ app, server, stop } = await serveApp(host));
      await (await get('/items')).arrayBuffer(); // creates the file and its table
    });
    afterAll(() => stop?.());

    const get = (path: string, init?: RequestInit) => fetch(`${server.baseUrl}${path}`, init);

    function withDb<T>(action: (db: Database.Database) => T): T {
      const db = new Database(app.sqliteFile);
      try {
        return action(db);
      } finally {
        db.close();
      }
    }

    const put = (value: Buffer | string) =>
      withDb((db) =>
        db
          .prepare('INSERT OR REPLACE INTO spin_key_value (store, key, value) VALUES (?, ?, ?)')
          .run('default', ITEMS_KEY, value),
      );

    const stored = () =>
      withDb((db) =>
        db
          .prepare('SELECT typeof(value) AS type, value FROM spin_key_value WHERE store = ? AND key = ?')
          .get('default', ITEMS_KEY),
      ) as { type: string; value: Buffer } | undefined;

    it.each(VALUES)('replaces %s with the catalog', async (_name, value) => {
      put(value);
      await expectReplacedMiss(get);
      expect(stored()).toEqual({ type: 'blob', value: Buffer.from(ITEMS_JSON) });
    });

    it('replaces a TEXT row (which Spin cannot read as bytes) with a BLOB', async () => {
      put(ITEMS_JSON);
      expect(stored()?.type).toBe('text');
      await expectReplacedMiss(get);
      expect(stored()).toEqual({ type: 'blob', value: Buffer.from(ITEMS_JSON) });
    });

    it.each(TOO_LARGE)('fails GET /items with %s under the key until DELETE /cache', async (_name, size) => {
      put(junk(size));
      await expectTrapThenClear(get);
      expect(stored()).toEqual({ type: 'blob', value: Buffer.from(ITEMS_JSON) });
    });
  });

  describe.skipIf(skipUnlessAvailable('redis-server'))('with a Redis store', () => {
    let redis: RedisServer;
    let app: RedisBackedApp;

    beforeAll(async () => {
      redis = await startRedisServer();
      // The runner gives up on a Redis operation after 250 ms by default; moving tens of
      // megabytes on a busy machine can take longer, and this file is about values, not timeouts.
      app = await startRedisBackedApp(host, redis.url, { runnerArgs: ['--kv-timeout', '30000'] });
    });

    afterAll(async () => {
      await app?.stop();
      await redis?.stop();
    });

    const get = (path: string, init?: RequestInit) => app.get(path, init);

    async function storedValue() {
      const client = await redis.client();
      return { type: await client.type(ITEMS_KEY), value: await client.get(ITEMS_KEY) };
    }

    it.each(VALUES)('replaces %s with the catalog', async (_name, value) => {
      await (await redis.client()).set(ITEMS_KEY, value);
      await expectReplacedMiss(get);
      expect(await storedValue()).toEqual({ type: 'string', value: ITEMS_JSON });
    });

    it.each([
      ['a list', (c: Awaited<ReturnType<RedisServer['client']>>) => c.lPush(ITEMS_KEY, 'x')],
      ['a hash', (c: Awaited<ReturnType<RedisServer['client']>>) => c.hSet(ITEMS_KEY, 'id', '1')],
    ])('overwrites %s (WRONGTYPE) with one GET and one SET', async (_name, write) => {
      const client = await redis.client();
      await client.del(ITEMS_KEY);
      await write(client);

      const before = await redis.commandCalls();
      await expectReplacedMiss(get);
      const after = await redis.commandCalls();

      // The miss (get + set) and the hit that follows it (get).
      expect((after.get ?? 0) - (before.get ?? 0)).toBe(2);
      expect((after.set ?? 0) - (before.set ?? 0)).toBe(1);
      expect(await storedValue()).toEqual({ type: 'string', value: ITEMS_JSON });
    });

    it.each(TOO_LARGE)('fails GET /items with %s under the key until DELETE /cache', async (_name, size) => {
      await (await redis.client()).set(ITEMS_KEY, junk(size));
      await expectTrapThenClear(get);
      expect(await storedValue()).toEqual({ type: 'string', value: ITEMS_JSON });
    });
  });
});
