import { describe, expect, it } from 'vitest';
import type { RouterDeps } from '../../src/routes';
import { createRouter } from '../../src/routes';
import { ERROR_SHAPES, FailingStore, MemoryStore, failingOpener, logRecorder, opener } from './fakes';
import { ITEMS_ETAG, ITEMS_JSON, ITEMS_KEY } from '../support/expected';
import { headerList, jsonError, send } from './http';

function setup(store: MemoryStore = new MemoryStore()) {
  const { openStore, opens } = opener(store);
  const { log, lines } = logRecorder();
  const deps: RouterDeps = { openStore, adminToken: '', log, clock: () => 0 };
  return { store, opens, lines, deps };
}

type Outcome = 'hit' | 'miss' | 'error';

/** The headers every GET /items answer carries (a clock that stands still makes dur 0). */
const cachingHeaders = (outcome: Outcome, cacheControl = 'no-cache') => ({
  etag: ITEMS_ETAG,
  'cache-control': cacheControl,
  'server-timing': `cache;desc=${outcome};dur=0`,
  'x-served-from-cache': String(outcome === 'hit'),
});

const itemsHeaders = (outcome: Outcome) =>
  headerList({ 'content-type': 'application/json', 'content-length': '178', ...cachingHeaders(outcome) });

const notModifiedHeaders = (outcome: Outcome, cacheControl?: string) => headerList(cachingHeaders(outcome, cacheControl));

describe('GET /items', () => {
  it('on a miss answers the catalog, stores it under its key, x-served-from-cache: false', async () => {
    const { store, opens, lines, deps } = setup();

    const answer = await send(deps, 'GET', '/items');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(itemsHeaders('miss'));
    expect(answer.body).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(opens()).toBe(1);
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
    expect(lines).toEqual([]);
  });

  it('on a hit answers the stored bytes with exactly one get and no set, x-served-from-cache: true', async () => {
    const { store, opens, lines, deps } = setup(new MemoryStore({ [ITEMS_KEY]: ITEMS_JSON }));

    const answer = await send(deps, 'GET', '/items');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(itemsHeaders('hit'));
    expect(answer.body).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 1, set: 0, delete: 0 });
    expect(opens()).toBe(1);
    expect(lines).toEqual([]);
  });

  it.each([
    ['an empty array', '[]'],
    ['an item array with a duplicate id', ITEMS_JSON.replace('"id":2', '"id":1')],
    ['another valid item array', '[{"id":9,"title":"Tea"}]'],
  ])('answers the catalog, not %s found under the key, and replaces it', async (_name, cached) => {
    const { store, lines, deps } = setup(new MemoryStore({ [ITEMS_KEY]: cached }));

    const answer = await send(deps, 'GET', '/items');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(itemsHeaders('miss'));
    expect(answer.body).toBe(ITEMS_JSON);
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
    expect(lines).toHaveLength(1);
  });

  it.each([
    ['Redis WRONGTYPE', { tag: 'other', val: 'WRONGTYPE: Operation against a key holding the wrong kind of value' }],
    ['a SQLite TEXT row', { tag: 'other', val: 'InvalidColumnType(0, "value", Text)' }],
  ])('answers 200 and overwrites the value after %s', async (_name, error) => {
    const { store, deps } = setup(new FailingStore(['get'], error));

    const answer = await send(deps, 'GET', '/items');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(itemsHeaders('miss'));
    expect(answer.body).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
  });

  it('answers a miss then hits from one router instance, with identical bodies', async () => {
    const { store, deps } = setup();
    const router = createRouter(deps);

    const first = await router.fetch(new Request('http://localhost/items'));
    const second = await router.fetch(new Request('http://localhost/items'));
    const third = await router.fetch(new Request('http://localhost/items'));

    expect(first.headers.get('x-served-from-cache')).toBe('false');
    expect(second.headers.get('x-served-from-cache')).toBe('true');
    expect(third.headers.get('x-served-from-cache')).toBe('true');
    expect(await first.text()).toBe(ITEMS_JSON);
    expect(await second.text()).toBe(ITEMS_JSON);
    expect(await third.text()).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 3, set: 1, delete: 0 });
  });

  it('ignores the query string', async () => {
    const { store, deps } = setup();

    const answer = await send(deps, 'GET', '/items?x=1&refresh=true');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(itemsHeaders('miss'));
    expect(answer.body).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
  });

  it('replaces a cached value that is not JSON with the catalog', async () => {
    const { store, lines, deps } = setup(new MemoryStore({ [ITEMS_KEY]: '{"not":"an array"}' }));

    const answer = await send(deps, 'GET', '/items');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(itemsHeaders('miss'));
    expect(answer.body).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
    expect(lines).toHaveLength(1);
  });

  describe.each(ERROR_SHAPES)('fails open on $name errors', ({ error, described }) => {
    it('answers 200 from the catalog when the store cannot be opened', async () => {
      const { openStore, opens } = failingOpener(error);
      const { log, lines } = logRecorder();

      const answer = await send({ openStore, adminToken: '', log, clock: () => 0 }, 'GET', '/items');

      expect(answer.status).toBe(200);
      expect(answer.headers).toEqual(itemsHeaders('error'));
      expect(answer.body).toBe(ITEMS_JSON);
      expect(opens()).toBe(1);
      expect(lines).toEqual([`cache open failed: ${described}`]);
    });

    it('answers 200 from the catalog without a set when get throws', async () => {
      const { store, lines, deps } = setup(new FailingStore(['get'], error));

      const answer = await send(deps, 'GET', '/items');

      expect(answer.status).toBe(200);
      expect(answer.headers).toEqual(itemsHeaders('error'));
      expect(answer.body).toBe(ITEMS_JSON);
      expect(store.calls).toEqual({ get: 1, set: 0, delete: 0 });
      expect(lines).toEqual([`cache read failed: ${described}`]);
    });

    it('answers 200 from the catalog when set throws', async () => {
      const { store, lines, deps } = setup(new FailingStore(['set'], error));

      const answer = await send(deps, 'GET', '/items');

      expect(answer.status).toBe(200);
      expect(answer.headers).toEqual(itemsHeaders('error'));
      expect(answer.body).toBe(ITEMS_JSON);
      expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
      expect(lines).toEqual([`cache write failed: ${described}`]);
    });
  });
});

describe('HEAD /items', () => {
  it('on a miss has the GET status and headers, no body, and fills the cache', async () => {
    const { store, deps } = setup();

    const answer = await send(deps, 'HEAD', '/items');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(itemsHeaders('miss'));
    expect(answer.bodyIsNull).toBe(true);
    expect(answer.body).toBe('');
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
  });

  it('on a hit reports x-served-from-cache: true with one get and no set', async () => {
    const { store, deps } = setup(new MemoryStore({ [ITEMS_KEY]: ITEMS_JSON }));

    const answer = await send(deps, 'HEAD', '/items');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(itemsHeaders('hit'));
    expect(answer.bodyIsNull).toBe(true);
    expect(store.calls).toEqual({ get: 1, set: 0, delete: 0 });
  });

  it('fails open like GET', async () => {
    const { openStore } = failingOpener({ tag: 'other', val: 'down' });
    const { log, lines } = logRecorder();

    const answer = await send({ openStore, adminToken: '', log, clock: () => 0 }, 'HEAD', '/items');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(itemsHeaders('error'));
    expect(answer.bodyIsNull).toBe(true);
    expect(lines).toEqual(['cache open failed: other: down']);
  });
});

describe('DELETE /cache', () => {
  it('deletes the cached key and answers 204 with no body and no content-type', async () => {
    const { store, opens, deps } = setup(new MemoryStore({ [ITEMS_KEY]: ITEMS_JSON, unrelated: 'x' }));

    const answer = await send(deps, 'DELETE', '/cache');

    expect(answer.status).toBe(204);
    expect(answer.headers).toEqual([]);
    expect(answer.bodyIsNull).toBe(true);
    expect(answer.body).toBe('');
    expect(store.calls).toEqual({ get: 0, set: 0, delete: 1 });
    expect(opens()).toBe(1);
    expect([...store.data.keys()]).toEqual(['unrelated']);
  });

  it('answers 204 when nothing was cached', async () => {
    const { store, deps } = setup();

    const answer = await send(deps, 'DELETE', '/cache');

    expect(answer.status).toBe(204);
    expect(answer.headers).toEqual([]);
    expect(answer.body).toBe('');
    expect(store.calls).toEqual({ get: 0, set: 0, delete: 1 });
  });

  it('makes the next GET a miss', async () => {
    const { store, deps } = setup(new MemoryStore({ [ITEMS_KEY]: ITEMS_JSON }));

    await send(deps, 'DELETE', '/cache?now=1');
    const answer = await send(deps, 'GET', '/items');

    expect(answer.headers).toEqual(itemsHeaders('miss'));
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 1 });
  });

  describe.each(ERROR_SHAPES)('answers 503 on $name errors', ({ error, described }) => {
    it('when the store cannot be opened', async () => {
      const { openStore } = failingOpener(error);
      const { log, lines } = logRecorder();

      const answer = await send({ openStore, adminToken: '', log }, 'DELETE', '/cache');

      expect(answer).toMatchObject(jsonError(503, 'cache unavailable: the cache was not cleared'));
      expect(JSON.parse(answer.body)).toEqual({ error: 'cache unavailable: the cache was not cleared' });
      expect(answer.body).not.toContain(described);
      expect(lines).toEqual([`cache clear failed: ${described}`]);
    });

    it('when delete throws', async () => {
      const { store, lines, deps } = setup(new FailingStore(['delete'], error, { [ITEMS_KEY]: ITEMS_JSON }));

      const answer = await send(deps, 'DELETE', '/cache');

      expect(answer).toMatchObject(jsonError(503, 'cache unavailable: the cache was not cleared'));
      expect(store.calls).toEqual({ get: 0, set: 0, delete: 1 });
      expect(lines).toEqual([`cache clear failed: ${described}`]);
    });
  });
});

describe('/healthz', () => {
  const healthHeaders = headerList({ 'content-type': 'application/json', 'content-length': '15' });

  it('GET answers {"status":"ok"} without opening the store', async () => {
    const { openStore, opens } = failingOpener(new Error('must not be called'));
    const { log, lines } = logRecorder();

    const answer = await send({ openStore, adminToken: 'secret', log }, 'GET', '/healthz');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(healthHeaders);
    expect(answer.body).toBe('{"status":"ok"}');
    expect(opens()).toBe(0);
    expect(lines).toEqual([]);
  });

  it('HEAD answers the same headers without a body', async () => {
    const { opens, deps } = setup();

    const answer = await send(deps, 'HEAD', '/healthz?probe=liveness');

    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual(healthHeaders);
    expect(answer.bodyIsNull).toBe(true);
    expect(opens()).toBe(0);
  });
});

describe('unknown paths', () => {
  it.each(['/', '/item', '/items/1', '/itemsx', '/cache/all', '/health', '/ITEMS'])(
    'GET %s answers a JSON 404 without touching the store',
    async (path) => {
      const { opens, deps } = setup();

      const answer = await send(deps, 'GET', path);

      expect(answer).toMatchObject(jsonError(404, 'not found'));
      expect(opens()).toBe(0);
    },
  );

  it('HEAD on an unknown path answers 404 without a body', async () => {
    const { deps } = setup();

    const answer = await send(deps, 'HEAD', '/nope');

    expect(answer.status).toBe(404);
    expect(answer.headers).toEqual(jsonError(404, 'not found').headers);
    expect(answer.bodyIsNull).toBe(true);
  });
});

describe('methods that a known path does not allow', () => {
  it.each([
    ['POST', '/items', 'GET, HEAD'],
    ['PUT', '/items', 'GET, HEAD'],
    ['DELETE', '/items', 'GET, HEAD'],
    ['PATCH', '/items', 'GET, HEAD'],
    ['OPTIONS', '/items', 'GET, HEAD'],
    ['GET', '/cache', 'DELETE'],
    ['POST', '/cache', 'DELETE'],
    ['PUT', '/cache', 'DELETE'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['DELETE', '/healthz', 'GET, HEAD'],
    ['POST', '/items?x=1', 'GET, HEAD'],
    ['POST', '/items/', 'GET, HEAD'],
    ['PUT', '/readyz//', 'GET, HEAD'],
  ])('%s %s answers a JSON 405 with Allow: %s and touches no store', async (method, path, allow) => {
    const { opens, deps } = setup();

    const answer = await send(deps, method, path);

    expect(answer).toMatchObject(jsonError(405, 'method not allowed', { allow }));
    expect(opens()).toBe(0);
  });

  it('HEAD /cache answers 405 with Allow: DELETE and no body', async () => {
    const { opens, deps } = setup();

    const answer = await send(deps, 'HEAD', '/cache');

    expect(answer.status).toBe(405);
    expect(answer.headers).toEqual(jsonError(405, 'method not allowed', { allow: 'DELETE' }).headers);
    expect(answer.bodyIsNull).toBe(true);
    expect(opens()).toBe(0);
  });
});

describe('genuine bugs', () => {
  it('become a JSON 500 instead of a rejected promise', async () => {
    const store = new FailingStore(['get'], new Error('down'));
    const deps: RouterDeps = {
      openStore: () => store,
      adminToken: '',
      log: () => {
        throw new Error('logger is broken');
      },
    };

    const answer = await send(deps, 'GET', '/items');

    expect(answer).toMatchObject(jsonError(500, 'internal error'));
  });

  it('are logged as one line', async () => {
    const { log, lines } = logRecorder();
    const deps: RouterDeps = {
      openStore: () => new MemoryStore(),
      adminToken: () => {
        throw new Error('variable lookup exploded');
      },
      log,
    };

    const answer = await send(deps, 'DELETE', '/cache');

    expect(answer).toMatchObject(jsonError(500, 'internal error'));
    expect(lines).toEqual(['unhandled error: variable lookup exploded']);
  });
});
