// A cache failure never breaks a read: Redis killed, paused or refusing our password, the app
// keeps answering 200 from the catalog, reports 503 for a clear it could not do, and goes back
// to caching on its own when Redis returns.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, skipUnlessAvailable, startRedisServer } from '../support/redis-server';
import { type RedisBackedApp, startRedisBackedApp, waitForCacheHit } from '../support/redis-app';
import { ITEMS_JSON } from '../support/expected';

const KV_TIMEOUT_MS = 250;

async function timed(request: Promise<Response>) {
  const started = performance.now();
  const response = await request;
  const body = await response.text();
  return { response, body, ms: performance.now() - started };
}

describe.skipIf(skipUnlessAvailable('redis-server'))('Redis faults', () => {
  let redis: RedisServer;
  let app: RedisBackedApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startRedisBackedApp(redis.url, { args: ['--kv-timeout', String(KV_TIMEOUT_MS)] });
    await waitForCacheHit(app);
  });

  afterEach(() => redis.resume());

  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('keeps reading while Redis is down and resumes caching when it is back', async () => {
    await redis.kill();
    for (let i = 0; i < 5; i++) {
      const { response, body } = await timed(app.get('/items'));
      expect(response.status).toBe(200);
      expect(response.headers.get('x-served-from-cache')).toBe('false');
      expect(body).toBe(ITEMS_JSON);
    }
    const cleared = await app.get('/cache', { method: 'DELETE' });
    expect(cleared.status).toBe(503);
    expect(await cleared.json()).toEqual({ error: expect.stringContaining('not cleared') });

    await redis.restart();
    await waitForCacheHit(app);
  });

  it('answers within the timeout while Redis is hung, and caches again after it resumes', async () => {
    redis.pause();
    const latencies: number[] = [];
    for (let i = 0; i < 8; i++) {
      const { response, body, ms } = await timed(app.get('/items'));
      expect(response.status).toBe(200);
      expect(body).toBe(ITEMS_JSON);
      latencies.push(ms);
    }
    // Each request pays at most one op timeout (a read; no write follows a failed read), and the
    // breaker makes the later ones fast. The bound is generous: this checks behaviour, not speed.
    for (const ms of latencies) expect(ms).toBeLessThan(KV_TIMEOUT_MS * 6);
    expect(Math.min(...latencies.slice(-3))).toBeLessThan(KV_TIMEOUT_MS);

    redis.resume();
    await waitForCacheHit(app);
  });
});

describe.skipIf(skipUnlessAvailable('redis-server'))('Redis with the wrong password', () => {
  let redis: RedisServer;
  let app: RedisBackedApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startRedisBackedApp(redis.urlFor({ password: 'wrong+/=pass' }));
  });

  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('serves reads from the catalog, refuses to claim a clear, and never logs either password', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await app.get('/items');
      expect(response.status).toBe(200);
      expect(response.headers.get('x-served-from-cache')).toBe('false');
      expect(await response.text()).toBe(ITEMS_JSON);
    }
    expect((await app.get('/cache', { method: 'DELETE' })).status).toBe(503);
    const output = app.runner.stderr() + app.runner.stdout();
    expect(output).not.toContain('wrong+/=pass');
    expect(output).not.toContain(redis.password);
    expect(output).toMatch(/WRONGPASS|auth/i);
  });
});
