// Whatever sits under the cache key, GET /items answers 200 with the catalog and replaces the
// entry: on the real component, on the SQLite file `spin up` uses and on a real redis-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';
import { guestStderr } from '../support/guest-log';
import { skipWithout } from '../support/host';
import { type RedisBackedApp, startRedisBackedApp } from '../support/redis-app';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { type ServedApp, serveApp } from '../support/served-app';
import { blobRow, putValue, storedValue } from '../support/sqlite';

const junk = (size: number) => Buffer.alloc(size, 'x');

const MiB = 1024 * 1024;

// Built with componentize-js before 0.17.0, the component trapped on values from 196,565 bytes
// (4,489,164 with a heap reserved at build time) and failed every GET /items until DELETE /cache.
const VALUES: Array<[string, Buffer]> = [
  ['an empty array', Buffer.from('[]')],
  ['the catalog with a duplicate id', Buffer.from(ITEMS_JSON.replace('"id":2', '"id":1'))],
  ['196,565 bytes', junk(196_565)],
  ['8 MiB', junk(8 * MiB)],
  ['64 MiB', junk(64 * MiB)],
];

/** The miss that reads and replaces the value, then a hit: each answered within a few seconds. */
async function expectReplacedMiss(get: (path: string, init?: RequestInit) => Promise<Response>) {
  const response = await get('/items', { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  expect(response.headers.get('x-served-from-cache')).toBe('false');
  expect(response.headers.get('server-timing')).toMatch(/^cache;desc=miss;dur=[\d.]+$/);
  expect(await response.text()).toBe(ITEMS_JSON);

  const next = await get('/items', { signal: AbortSignal.timeout(10_000) });
  expect(next.headers.get('x-served-from-cache')).toBe('true');
  expect(await next.text()).toBe(ITEMS_JSON);
}

describe('values under the cache key', () => {
  describe.skipIf(skipWithout('sqlite3'))('with the SQLite store', () => {
    let served: ServedApp;

    beforeAll(async () => {
      served = await serveApp();
      await (await get('/items')).arrayBuffer(); // creates the file and its table
    });
    afterAll(() => served?.stop());

    const get = (path: string, init?: RequestInit) => served.get(path, init);
    const put = (value: Buffer, asText = false) => putValue(served.app.sqliteFile, ITEMS_KEY, value, { asText });
    const stored = () => storedValue(served.app.sqliteFile, ITEMS_KEY);

    it.each(VALUES)('replaces %s with the catalog', async (_name, value) => {
      put(value);
      await expectReplacedMiss(get);
      expect(stored()).toBe(blobRow(ITEMS_JSON));
    });

    // Spin's SQLite store reads `value` as bytes, which only a BLOB satisfies (crates/key-value-spin/src/store.rs).
    it('replaces a TEXT row (which Spin cannot read as bytes) with a BLOB, and logs why', async () => {
      put(Buffer.from(ITEMS_JSON), true);
      expect(stored()).toMatch(/^text\|/);
      await expectReplacedMiss(get);
      expect(stored()).toBe(blobRow(ITEMS_JSON));
      await expect.poll(() => guestStderr(served)).toContain(
        `cache value under ${ITEMS_KEY} is unreadable (other: InvalidColumnType(0, "value", Text)); overwriting it`,
      );
    });
  });

  describe.skipIf(skipWithout('redis-server'))('with a Redis store', () => {
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

  });
});
