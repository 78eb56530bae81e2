import { describe, expect, it } from 'vitest';
import { createRouter, type RouterDeps } from '../../src/routes';
import { MemoryStore, logRecorder, opener } from './fakes';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';
import { jsonError, send } from './http';

const TOKEN = 'c0rrect-h0rse-battery';

function setup(adminToken: RouterDeps['adminToken'] = TOKEN) {
  const store = new MemoryStore({ [ITEMS_KEY]: ITEMS_JSON });
  const { openStore, opens } = opener(store);
  const { log, lines } = logRecorder();
  const deps: RouterDeps = { openStore, adminToken, log };
  return { store, opens, lines, deps };
}

const unauthorized = jsonError(401, 'unauthorized: a valid bearer token is required', {
  'www-authenticate': 'Bearer',
});

describe('DELETE /cache with cache_admin_token set', () => {
  it.each([
    ['no Authorization header', {}],
    ['an empty Authorization header', { authorization: '' }],
    ['a wrong token', { authorization: 'Bearer wrong' }],
    ['a wrong scheme', { authorization: `Basic ${TOKEN}` }],
    ['the bare token', { authorization: TOKEN }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['the token plus a suffix', { authorization: `Bearer ${TOKEN}0` }],
    ['the token behind a prefix', { authorization: `Bearer 0${TOKEN}` }],
    ['a scheme without a token', { authorization: 'Bearer' }],
  ])('answers 401 with WWW-Authenticate: Bearer for %s, without touching the store', async (_name, headers) => {
    const { store, opens, lines, deps } = setup();

    const answer = await send(deps, 'DELETE', '/cache', headers);

    expect(answer).toMatchObject(unauthorized);
    expect(JSON.parse(answer.body)).toHaveProperty('error');
    expect(opens()).toBe(0);
    expect(store.calls).toEqual({ get: 0, set: 0, delete: 0 });
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
    expect(lines).toEqual([]);
  });

  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('accepts the right token with scheme %s', async (scheme) => {
    const { store, opens, deps } = setup();

    const answer = await send(deps, 'DELETE', '/cache', { authorization: `${scheme} ${TOKEN}` });

    expect(answer.status).toBe(204);
    expect(answer.headers).toEqual([]);
    expect(answer.body).toBe('');
    expect(opens()).toBe(1);
    expect(store.calls).toEqual({ get: 0, set: 0, delete: 1 });
    expect(store.data.has(ITEMS_KEY)).toBe(false);
  });

  it('does not protect GET /items or /healthz', async () => {
    const { deps } = setup();

    expect((await send(deps, 'GET', '/items')).status).toBe(200);
    expect((await send(deps, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers 405 rather than 401 for another method on /cache', async () => {
    const { opens, deps } = setup();

    const answer = await send(deps, 'POST', '/cache');

    expect(answer).toMatchObject(jsonError(405, 'method not allowed', { allow: 'DELETE' }));
    expect(opens()).toBe(0);
  });
});

describe('DELETE /cache with cache_admin_token empty', () => {
  it.each([
    ['no Authorization header', {}],
    ['any bearer token', { authorization: 'Bearer whatever' }],
    ['another scheme', { authorization: 'Basic abc' }],
  ])('stays open with %s', async (_name, headers) => {
    const { store, deps } = setup('');

    const answer = await send(deps, 'DELETE', '/cache', headers);

    expect(answer.status).toBe(204);
    expect(store.calls.delete).toBe(1);
  });
});

describe('admin token supplied as a function', () => {
  it('is read per DELETE /cache request and not for other routes', async () => {
    let current = '';
    let reads = 0;
    const store = new MemoryStore();
    const { log } = logRecorder();
    const router = createRouter({
      openStore: opener(store).openStore,
      adminToken: () => {
        reads++;
        return current;
      },
      log,
    });
    const del = (authorization?: string) =>
      router.fetch(
        new Request('http://localhost/cache', {
          method: 'DELETE',
          headers: authorization ? { authorization } : {},
        }),
      );

    await router.fetch(new Request('http://localhost/items'));
    await router.fetch(new Request('http://localhost/healthz'));
    expect(reads).toBe(0);

    expect((await del()).status).toBe(204);
    current = TOKEN;
    expect((await del()).status).toBe(401);
    expect((await del(`Bearer ${TOKEN}`)).status).toBe(204);
    expect(reads).toBe(3);
  });
});
