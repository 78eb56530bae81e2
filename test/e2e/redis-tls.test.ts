// rediss:// as Azure Redis is reached: a certificate made by openssl at test time, trusted the way
// Spin's native-tls (OpenSSL) trusts one — SSL_CERT_FILE — or skipped with #insecure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/host';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { type RedisBackedApp, startRedisBackedApp } from '../support/redis-app';
import { type TlsFiles, generateTlsFiles } from '../support/tls';
import { ITEMS_JSON } from '../support/expected';

describe.skipIf(skipWithout('redis-server', 'openssl'))('Redis over TLS', () => {
  let tls: TlsFiles;
  let redis: RedisServer;
  let app: RedisBackedApp | undefined;

  beforeAll(async () => {
    tls = generateTlsFiles();
    redis = await startRedisServer({ tls });
  });

  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
    tls?.cleanup();
  });

  async function flow(url: string, env: NodeJS.ProcessEnv) {
    app = await startRedisBackedApp(url, { env });
    try {
      const first = await app.get('/items');
      const second = await app.get('/items');
      return {
        statuses: [first.status, second.status],
        fromCache: [first.headers.get('x-served-from-cache'), second.headers.get('x-served-from-cache')],
        bodies: [await first.text(), await second.text()],
        cleared: (await app.get('/cache', { method: 'DELETE' })).status,
      };
    } finally {
      await app.stop();
      app = undefined;
    }
  }

  it('caches through rediss:// when the CA is trusted via SSL_CERT_FILE', async () => {
    expect(redis.url).toMatch(/^rediss:\/\//);
    const result = await flow(redis.url, { SSL_CERT_FILE: tls.caCert });
    expect(result.statuses).toEqual([200, 200]);
    expect(result.fromCache).toEqual(['false', 'true']);
    expect(result.bodies).toEqual([ITEMS_JSON, ITEMS_JSON]);
    expect(result.cleared).toBe(204);
  });

  it('caches through rediss://…#insecure without trusting the CA', async () => {
    const result = await flow(redis.urlFor({ insecure: true }), {});
    expect(result.fromCache).toEqual(['false', 'true']);
    expect(result.cleared).toBe(204);
  });
});
