// rediss:// as Azure Cache for Redis is reached on port 6380: a certificate made by openssl at
// test time, trusted through NODE_EXTRA_CA_CERTS, skipped with #insecure, or not trusted at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, skipUnlessAvailable, startRedisServer } from '../support/redis-server';
import { type RedisBackedApp, startRedisBackedApp } from '../support/redis-app';
import { type TlsFiles, generateTlsFiles } from '../support/tls';
import { ITEMS_JSON } from '../support/expected';

describe.skipIf(skipUnlessAvailable('redis-server', 'openssl'))('Redis over TLS', () => {
  let tls: TlsFiles;
  let redis: RedisServer;
  let app: RedisBackedApp | undefined;

  beforeAll(async () => {
    tls = generateTlsFiles();
    redis = await startRedisServer({ tls });
  });

  afterAll(async () => {
    await redis?.stop();
    tls?.cleanup();
  });

  async function flow(url: string, env: NodeJS.ProcessEnv = {}) {
    app = await startRedisBackedApp(url, { env });
    try {
      const first = await app.get('/items');
      const second = await app.get('/items');
      return {
        statuses: [first.status, second.status],
        fromCache: [first.headers.get('x-served-from-cache'), second.headers.get('x-served-from-cache')],
        bodies: [await first.text(), await second.text()],
        cleared: (await app.get('/cache', { method: 'DELETE' })).status,
        stderr: app.runner.stderr(),
      };
    } finally {
      await app.stop();
    }
  }

  it('caches through rediss:// when the CA is trusted via NODE_EXTRA_CA_CERTS', async () => {
    expect(redis.url).toMatch(/^rediss:\/\//);
    const result = await flow(redis.url, { NODE_EXTRA_CA_CERTS: tls.caCert });
    expect(result.statuses).toEqual([200, 200]);
    expect(result.fromCache).toEqual(['false', 'true']);
    expect(result.bodies).toEqual([ITEMS_JSON, ITEMS_JSON]);
    expect(result.cleared).toBe(204);
  });

  it('caches through rediss://…#insecure without trusting the CA', async () => {
    const result = await flow(redis.urlFor({ insecure: true }), { NODE_EXTRA_CA_CERTS: '' });
    expect(result.fromCache).toEqual(['false', 'true']);
    expect(result.cleared).toBe(204);
  });

  it('fails open with an untrusted certificate and logs the TLS failure', async () => {
    const result = await flow(redis.url, { NODE_EXTRA_CA_CERTS: '' });
    expect(result.statuses).toEqual([200, 200]);
    expect(result.fromCache).toEqual(['false', 'false']);
    expect(result.bodies).toEqual([ITEMS_JSON, ITEMS_JSON]);
    expect(result.cleared).toBe(503);
    expect(result.stderr).toMatch(/TLS|certificate/i);
    expect(result.stderr).not.toContain(redis.password);
  });
});
