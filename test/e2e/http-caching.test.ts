// GET /items as an HTTP cache citizen, on the real component: a strong ETag, 304 for a matching
// If-None-Match on hits and misses (GET and HEAD), Cache-Control from the items_max_age variable
// and Server-Timing naming what the cache did.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDir } from '../support/app-dir';
import { serveApp } from '../support/served-app';
import { type RunningApp, skipWithout } from '../support/host';
import { ITEMS_ETAG, ITEMS_JSON } from '../support/expected';

const TIMING = (outcome: string) => new RegExp(`^cache;desc=${outcome};dur=\\d+(\\.\\d{1,3})?$`);

describe.skipIf(skipWithout())('GET /items and HTTP caching', () => {
  describe('with the default settings', () => {
    let app: AppDir;
    let server: RunningApp;
    let stop: () => Promise<void>;

    beforeAll(async () => ({ app, server, stop } = await serveApp()));
    afterAll(() => stop?.());

    const get = (path: string, init?: RequestInit) => fetch(`${server.baseUrl}${path}`, init);
    const revalidate = (method = 'GET', etag = ITEMS_ETAG) => get('/items', { method, headers: { 'if-none-match': etag } });

    async function expectNotModified(response: Response, outcome: 'hit' | 'miss') {
      expect(response.status).toBe(304);
      expect(response.headers.get('etag')).toBe(ITEMS_ETAG);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('server-timing')).toMatch(TIMING(outcome));
      expect(response.headers.get('x-served-from-cache')).toBe(String(outcome === 'hit'));
      expect(response.headers.get('content-type')).toBeNull();
      expect(await response.text()).toBe('');
    }

    it('sends the ETag, no-cache and Server-Timing with the body, then 304 for that ETag', async () => {
      await get('/cache', { method: 'DELETE' });

      const first = await get('/items');
      expect(first.status).toBe(200);
      expect(first.headers.get('etag')).toBe(ITEMS_ETAG);
      expect(first.headers.get('cache-control')).toBe('no-cache');
      expect(first.headers.get('server-timing')).toMatch(TIMING('miss'));
      expect(first.headers.get('content-length')).toBe('178');
      expect(await first.text()).toBe(ITEMS_JSON);

      await expectNotModified(await revalidate(), 'hit');
      await expectNotModified(await revalidate('HEAD'), 'hit');

      const hit = await get('/items');
      expect(hit.headers.get('etag')).toBe(ITEMS_ETAG);
      expect(hit.headers.get('server-timing')).toMatch(TIMING('hit'));
      expect(await hit.text()).toBe(ITEMS_JSON);
    });

    it('answers 304 on a miss too, and fills the cache', async () => {
      expect((await get('/cache', { method: 'DELETE' })).status).toBe(204);
      await expectNotModified(await revalidate(), 'miss');
      await expectNotModified(await revalidate('HEAD'), 'hit');
    });

    it('answers 200 with the body for another ETag, and HEAD agrees with GET', async () => {
      const stale = await revalidate('GET', '"0000"');
      expect(stale.status).toBe(200);
      expect(await stale.text()).toBe(ITEMS_JSON);

      const head = await get('/items', { method: 'HEAD' });
      expect(head.status).toBe(200);
      for (const name of ['etag', 'cache-control', 'content-type', 'content-length', 'x-served-from-cache']) {
        expect(head.headers.get(name)).toBe(stale.headers.get(name));
      }
      expect(await head.text()).toBe('');
    });
  });

  describe.each([
    ['60', 'max-age=60', false],
    ['0', 'no-cache', false],
    ['a minute', 'no-cache', true],
  ])('with items_max_age=%s', (setting, cacheControl, logged) => {
    let app: AppDir;
    let server: RunningApp;
    let stop: () => Promise<void>;

    beforeAll(async () => ({ app, server, stop } = await serveApp({ args: ['--variable', `items_max_age=${setting}`] })));
    afterAll(() => stop?.());

    it(`sends Cache-Control: ${cacheControl} on 200 and 304`, async () => {
      const ok = await fetch(`${server.baseUrl}/items`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('cache-control')).toBe(cacheControl);
      await ok.arrayBuffer();

      const notModified = await fetch(`${server.baseUrl}/items`, { headers: { 'if-none-match': ITEMS_ETAG } });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.get('cache-control')).toBe(cacheControl);
    });

    it(logged ? 'logs why the value was ignored' : 'logs nothing about it', async () => {
      // Guest output reaches Spin's terminal; give it a moment to be flushed.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const output = server.stderr() + server.stdout();
      if (logged) {
        expect(output).toContain('items_max_age ignored (expected whole seconds from 0 to 31536000, got "a minute"); sending Cache-Control: no-cache');
      } else {
        expect(output).not.toContain('items_max_age');
      }
    });
  });
});
