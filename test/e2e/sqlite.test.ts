// The tutorial's curl flow against the real component on the default store: the SQLite file that
// `spin up` uses, at the same path and with the same schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDir } from '../support/app-dir';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';
import { type RunningApp, skipWithout } from '../support/host';
import { serveApp } from '../support/served-app';
import { blobRow, sqlite } from '../support/sqlite';

describe.skipIf(skipWithout('sqlite3'))('on the SQLite store', () => {
  let app: AppDir;
  let server: RunningApp;
  let stop: () => Promise<void>;

  beforeAll(async () => ({ app, server, stop } = await serveApp()));
  afterAll(() => stop?.());

  const get = (path: string, init?: RequestInit) => fetch(`${server.baseUrl}${path}`, init);

  const storedRows = () => sqlite(app.sqliteFile, 'SELECT store, key, typeof(value), hex(value) FROM spin_key_value ORDER BY store, key;');

  describe('curl flow on SQLite', () => {
    it('misses, hits, clears and misses again with the exact body', async () => {
      const first = await get('/items');
      expect(first.status).toBe(200);
      expect(first.headers.get('x-served-from-cache')).toBe('false');
      expect(first.headers.get('content-type')).toBe('application/json');
      expect(first.headers.get('content-length')).toBe('178');
      expect(await first.text()).toBe(ITEMS_JSON);

      expect(storedRows()).toBe(`default|${ITEMS_KEY}|${blobRow(ITEMS_JSON)}\n`);

      const second = await get('/items');
      expect(second.status).toBe(200);
      expect(second.headers.get('x-served-from-cache')).toBe('true');
      expect(second.headers.get('content-length')).toBe('178');
      expect(await second.text()).toBe(ITEMS_JSON);

      const cleared = await get('/cache', { method: 'DELETE' });
      expect(cleared.status).toBe(204);
      expect(cleared.headers.get('content-type')).toBeNull();
      expect(await cleared.text()).toBe('');
      expect(storedRows()).toBe('');

      const third = await get('/items');
      expect(third.headers.get('x-served-from-cache')).toBe('false');
      expect(await third.text()).toBe(ITEMS_JSON);
    });

    it('answers HEAD with the headers and no body', async () => {
      const head = await get('/items', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe('178');
      expect(head.headers.get('x-served-from-cache')).toBe('true');
      expect(await head.text()).toBe('');
    });

    it('answers the health probe, unknown paths and wrong methods with JSON', async () => {
      const health = await get('/healthz');
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });

      const missing = await get('/nope');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/json');
      expect(await missing.json()).toHaveProperty('error');

      const wrong = await get('/items', { method: 'POST' });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    });
  });

  describe('bad input', () => {
    it('passes bodies of 32 KiB and more to the component', async () => {
      const response = await get('/items', { method: 'POST', body: 'x'.repeat(64 * 1024) });
      expect(response.status).toBe(405);
      expect(await response.json()).toHaveProperty('error');
    });
  });
});
