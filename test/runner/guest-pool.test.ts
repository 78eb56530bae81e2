// The runner's guest pool on the real built component: each request in flight gets a thread of its
// own (Spin runs each request in its own task), with one thread kept ready ahead.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareComponent } from '../../runner/component.js';
import { createGuestPool } from '../../runner/guest-pool.js';
import { ITEMS_JSON } from '../support/expected';

const WASM = fileURLToPath(new URL('../../dist/cache-with-az-redis.wasm', import.meta.url));
const request = (path: string) => ({ method: 'GET', pathWithQuery: path, authority: 'localhost', headers: [], body: new Uint8Array() });
const text = (b: Uint8Array) => Buffer.from(b).toString();

describe('guest pool', () => {
  let pool: Awaited<ReturnType<typeof createGuestPool>>;

  beforeAll(async () => {
    pool = await createGuestPool({
      prepared: await prepareComponent(WASM),
      stores: new Map([['default', { type: 'spin', path: null }]]),
      kvOptions: {},
      allowedLabels: ['default'],
      variables: new Map([['cache_admin_token', '']]),
    });
  });
  afterAll(() => pool?.close());

  it('serves requests on its threads, each on a fresh instance, with the thread\'s own store', async () => {
    const first = await pool.serve(request('/items'));
    expect([first.status, text(first.body)]).toEqual([200, ITEMS_JSON]);
    const healthz = await pool.serve(request('/healthz'));
    expect([healthz.status, text(healthz.body), healthz.aborted]).toEqual([200, '{"status":"ok"}', null]);
  });

  it('runs concurrent requests on separate threads, growing the pool and keeping one ready', async () => {
    const before = pool.size;
    const responses = await Promise.all(Array.from({ length: 4 }, () => pool.serve(request('/healthz'))));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await expect.poll(() => pool.size, { timeout: 20_000 }).toBeGreaterThanOrEqual(Math.max(before, 4));
  });

  it('reports a request the guest cannot answer as an error (the server turns it into a 500)', async () => {
    // StarlingMonkey cannot build a URL from an invalid port, and the guest traps.
    await expect(pool.serve({ ...request('/healthz'), authority: 'x:99999' })).rejects.toThrow('unreachable');
    // The thread survives its guest's trap.
    expect((await pool.serve(request('/healthz'))).status).toBe(200);
  }, 20_000);
});
