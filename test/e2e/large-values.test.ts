// Invalid values of 8 MiB and 64 MiB under the cache key are read, answered with the catalog and
// replaced, on real Spin: in the SQLite file `spin up` uses and in a real loopback redis-server.
// (componentize-js before 0.17.0 trapped on the first host call after linear memory grew, so values
// above ~4.4 MB failed every GET /items until DELETE /cache.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';
import { skipWithout } from '../support/host';
import { startRedisBackedApp } from '../support/redis-app';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { type ServedApp, serveApp } from '../support/served-app';
import { sqlite } from '../support/sqlite';

const MiB = 1024 * 1024;
const SIZES: Array<[string, number]> = [
  ['8 MiB', 8 * MiB],
  ['64 MiB', 64 * MiB],
];

/** The miss that reads and replaces the value, then a hit: each answered within a few seconds. */
async function expectReplaced(app: ServedApp) {
  for (const fromCache of ['false', 'true']) {
    const response = await app.get('/items', { signal: AbortSignal.timeout(10_000) });
    expect([response.status, response.headers.get('x-served-from-cache'), await response.text()]).toEqual([200, fromCache, ITEMS_JSON]);
  }
}

describe.skipIf(skipWithout('sqlite3'))('large invalid values on the SQLite store', () => {
  let app: ServedApp;

  beforeAll(async () => {
    app = await serveApp();
    await (await app.get('/items')).arrayBuffer(); // creates the file, its table and the entry
  });
  afterAll(() => app?.stop());

  it.each(SIZES)('replaces %s of zero bytes with the catalog', async (_name, size) => {
    sqlite(app.app.sqliteFile, `UPDATE spin_key_value SET value = zeroblob(${size}) WHERE store = 'default' AND key = '${ITEMS_KEY}';`);
    const typeAndLength = () => sqlite(app.app.sqliteFile, `SELECT typeof(value), length(value) FROM spin_key_value WHERE key = '${ITEMS_KEY}';`);
    expect(typeAndLength()).toBe(`blob|${size}\n`);
    await expectReplaced(app);
    expect(typeAndLength()).toBe(`blob|${ITEMS_JSON.length}\n`);
  });
});

describe.skipIf(skipWithout('redis-server'))('large invalid values on a Redis store', () => {
  let redis: RedisServer;
  let app: ServedApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startRedisBackedApp(redis.url);
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it.each(SIZES)('replaces %s of junk with the catalog', async (_name, size) => {
    const client = await redis.client();
    await client.set(ITEMS_KEY, Buffer.alloc(size, 'x'));
    expect(await client.strLen(ITEMS_KEY)).toBe(size);
    await expectReplaced(app);
    expect(await client.get(ITEMS_KEY)).toBe(ITEMS_JSON);
  });
});
