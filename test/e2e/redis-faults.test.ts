// Errors that Redis reports reach the component as failed store calls, and the component fails
// open: GET /items answers 200 from the catalog, DELETE /cache says 503. (Hangs — Redis killed,
// paused or unreachable — are a different story under Spin: see redis-under-spin.test.ts.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS } from '../support/host';
import { type RedisServer, skipUnlessAvailable, startRedisServer } from '../support/redis-server';
import { type RedisBackedApp, startRedisBackedApp, waitForCacheHit } from '../support/redis-app';
import { ITEMS_JSON } from '../support/expected';

async function timed(request: Promise<Response>) {
  const started = performance.now();
  const response = await request;
  const body = await response.text();
  return { response, body, ms: performance.now() - started };
}

describe.skipIf(skipUnlessAvailable('redis-server')).each(HOSTS)('Redis with the wrong password, on %s', (host) => {
  let redis: RedisServer;
  let app: RedisBackedApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startRedisBackedApp(host, redis.urlFor({ password: 'wrong+/=pass' }));
  });

  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('never logs either password', async () => {
    await app.get('/items', { signal: AbortSignal.timeout(2_000) }).then((r) => r.arrayBuffer()).catch(() => undefined);
    const output = app.server.stderr() + app.server.stdout();
    expect(output).not.toContain('wrong+/=pass');
    expect(output).not.toContain(encodeURIComponent('wrong+/=pass'));
    expect(output).not.toContain(redis.password);
  });

  // Spin opens its one ConnectionManager with redis-rs 0.32 defaults (spin crates/key-value-redis/src/store.rs,
  // `get_connection_manager`); redis-rs retries every failed connect, a refused AUTH included, up to 6 times
  // through backon with `with_factor(100)` on backon's 1 s minimum and 60 s cap (redis
  // src/aio/connection_manager.rs, `new_with_config`/`new_connection`): 1 s + 5 × 60 s plus jitter, so the
  // store open returns only after 5 to 10 minutes. See README, "When Redis misbehaves under Spin".
  it('leaves GET /items unanswered for minutes while /healthz answers', async () => {
    const outcome = await app
      .get('/items', { signal: AbortSignal.timeout(5_000) })
      .then((response) => response.status)
      .catch((error: Error) => error.name);
    expect(outcome).toBe('TimeoutError');
    expect((await app.get('/healthz', { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
  });
});

// Not Spin's behaviour: Spin has no operation timeout (see README, "When Redis misbehaves under
// Spin"). The runner offers one only when asked for with --kv-timeout, to try the app's fail-open
// path against a hung or dead Redis.
describe.skipIf(skipUnlessAvailable('redis-server'))("the runner's protective mode (--kv-timeout)", () => {
  const KV_TIMEOUT_MS = 250;
  let redis: RedisServer;
  let app: RedisBackedApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startRedisBackedApp('runner', redis.url, { runnerArgs: ['--kv-timeout', String(KV_TIMEOUT_MS)] });
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
    expect((await app.get('/cache', { method: 'DELETE' })).status).toBe(503);

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
    // Each request pays at most one op timeout, and the breaker makes the later ones fast. The
    // bound is generous: this checks behaviour, not speed.
    for (const ms of latencies) expect(ms).toBeLessThan(KV_TIMEOUT_MS * 6);
    expect(Math.min(...latencies.slice(-3))).toBeLessThan(KV_TIMEOUT_MS);

    redis.resume();
    await waitForCacheHit(app);
  });
});
