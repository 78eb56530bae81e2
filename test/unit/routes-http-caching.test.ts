import { describe, expect, it } from 'vitest';
import type { RouterDeps } from '../../src/routes';
import { FailingStore, MemoryStore, failingOpener, logRecorder, opener } from './fakes';
import { ITEMS_ETAG, ITEMS_JSON, ITEMS_KEY } from '../support/expected';
import { headerList, send } from './http';

function setup(store: MemoryStore = new MemoryStore(), extra: Partial<RouterDeps> = {}) {
  const { openStore, opens } = opener(store);
  const { log, lines } = logRecorder();
  const deps: RouterDeps = { openStore, adminToken: '', log, clock: () => 0, ...extra };
  return { store, opens, lines, deps };
}

const cached = () => new MemoryStore({ [ITEMS_KEY]: ITEMS_JSON });

const notModified = (outcome: 'hit' | 'miss' | 'error', cacheControl = 'no-cache') =>
  headerList({
    etag: ITEMS_ETAG,
    'cache-control': cacheControl,
    'server-timing': `cache;desc=${outcome};dur=0`,
    'x-served-from-cache': String(outcome === 'hit'),
  });

describe('If-None-Match on /items', () => {
  it.each([
    ['GET', 'hit', cached],
    ['GET', 'miss', () => new MemoryStore()],
    ['HEAD', 'hit', cached],
    ['HEAD', 'miss', () => new MemoryStore()],
  ] as const)('%s on a %s with the current ETag answers 304 with the ETag and no body', async (method, outcome, store) => {
    const { deps, store: used } = setup(store());

    const answer = await send(deps, method, '/items', { 'if-none-match': ITEMS_ETAG });

    expect(answer.status).toBe(304);
    expect(answer.headers).toEqual(notModified(outcome));
    expect(answer.bodyIsNull).toBe(true);
    expect(answer.body).toBe('');
    // A miss still fills the cache, so the next request is a hit.
    expect(used.text(ITEMS_KEY)).toBe(ITEMS_JSON);
  });

  it('answers 304 when the store is down, too', async () => {
    const { openStore } = failingOpener(new Error('connection refused'));
    const { log } = logRecorder();

    const answer = await send({ openStore, adminToken: '', log, clock: () => 0 }, 'GET', '/items', { 'if-none-match': ITEMS_ETAG });

    expect(answer.status).toBe(304);
    expect(answer.headers).toEqual(notModified('error'));
  });

  it.each([
    ['a weak copy of the tag', `W/${ITEMS_ETAG}`],
    ['a list holding the tag', `"old", ${ITEMS_ETAG}`],
    ['a star', '*'],
  ])('answers 304 for %s', async (_name, header) => {
    const { deps } = setup(cached());
    expect((await send(deps, 'GET', '/items', { 'if-none-match': header })).status).toBe(304);
  });

  it.each([
    ['another tag', '"3fe5576b38495813882981082a040240"'],
    ['the tag without quotes', ITEMS_ETAG.slice(1, -1)],
    ['an empty header', ''],
  ])('answers 200 with the body for %s', async (_name, header) => {
    const { deps } = setup(cached());

    const answer = await send(deps, 'GET', '/items', { 'if-none-match': header });

    expect(answer.status).toBe(200);
    expect(answer.body).toBe(ITEMS_JSON);
    expect(answer.headers).toContainEqual(['etag', ITEMS_ETAG]);
  });

  it('ignores If-Modified-Since (the ETag is the only validator)', async () => {
    const { deps } = setup(cached());
    const answer = await send(deps, 'GET', '/items', { 'if-modified-since': 'Thu, 01 Jan 2099 00:00:00 GMT' });
    expect(answer.status).toBe(200);
  });
});

describe('Cache-Control on /items', () => {
  it.each([
    ['', 'no-cache'],
    ['0', 'no-cache'],
    ['60', 'max-age=60'],
    ['31536000', 'max-age=31536000'],
  ])('items_max_age %j sends %s on 200 and 304, without a log line', async (setting, header) => {
    const { deps, lines } = setup(cached(), { itemsMaxAge: () => setting });

    const ok = await send(deps, 'GET', '/items');
    const conditional = await send(deps, 'GET', '/items', { 'if-none-match': ITEMS_ETAG });

    expect(ok.headers).toContainEqual(['cache-control', header]);
    expect(conditional.headers).toEqual(notModified('hit', header));
    expect(lines).toEqual([]);
  });

  it.each(['-5', 'ten', '1.5', '31536001'])('falls back to no-cache for items_max_age %j with one log line per request', async (setting) => {
    const { deps, lines } = setup(cached(), { itemsMaxAge: () => setting });

    const answer = await send(deps, 'GET', '/items');

    expect(answer.status).toBe(200);
    expect(answer.headers).toContainEqual(['cache-control', 'no-cache']);
    expect(lines).toEqual([
      `items_max_age ignored (expected whole seconds from 0 to 31536000, got ${JSON.stringify(setting)}); sending Cache-Control: no-cache`,
    ]);
  });

  it('reads items_max_age once per /items request and not for other routes', async () => {
    let reads = 0;
    const { deps } = setup(cached(), { itemsMaxAge: () => (reads++, '5') });

    await send(deps, 'GET', '/items');
    await send(deps, 'HEAD', '/items');
    await send(deps, 'GET', '/healthz');
    await send(deps, 'DELETE', '/cache');

    expect(reads).toBe(2);
  });

  it('accepts a plain string', async () => {
    const { deps } = setup(cached(), { itemsMaxAge: '30' });
    expect((await send(deps, 'GET', '/items')).headers).toContainEqual(['cache-control', 'max-age=30']);
  });
});

describe('Server-Timing on /items', () => {
  const ticking = (step: number) => {
    let now = 0;
    return () => (now += step);
  };

  it('reports a hit with the time of open and get', async () => {
    const { deps } = setup(cached(), { clock: ticking(0.25) });
    expect((await send(deps, 'GET', '/items')).headers).toContainEqual(['server-timing', 'cache;desc=hit;dur=0.5']);
  });

  it('reports a miss with the time of open, get and set', async () => {
    const { deps } = setup(new MemoryStore(), { clock: ticking(0.25) });
    expect((await send(deps, 'GET', '/items')).headers).toContainEqual(['server-timing', 'cache;desc=miss;dur=0.75']);
  });

  it('reports an error when the store fails', async () => {
    const { deps } = setup(new FailingStore(['get'], new Error('timed out')), { clock: ticking(1) });
    expect((await send(deps, 'GET', '/items')).headers).toContainEqual(['server-timing', 'cache;desc=error;dur=2']);
  });

  it('uses performance.now when no clock is given', async () => {
    const { openStore } = opener(cached());
    const answer = await send({ openStore, adminToken: '', log: () => {} }, 'GET', '/items');
    const timing = answer.headers.find(([name]) => name === 'server-timing')?.[1];
    expect(timing).toMatch(/^cache;desc=hit;dur=\d+(\.\d{1,3})?$/);
  });

  it('is not sent on other routes', async () => {
    const { deps } = setup(cached());
    for (const [method, path] of [['GET', '/healthz'], ['DELETE', '/cache'], ['GET', '/nope']] as const) {
      const answer = await send(deps, method, path);
      expect(answer.headers.map(([name]) => name)).not.toContain('server-timing');
      expect(answer.headers.map(([name]) => name)).not.toContain('etag');
    }
  });
});
