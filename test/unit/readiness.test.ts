import { describe, expect, it } from 'vitest';
import { READINESS_PROBE_KEY } from '../../src/readiness';
import type { RouterDeps } from '../../src/routes';
import { ERROR_SHAPES, FailingStore, MemoryStore, failingOpener, logRecorder, opener } from './fakes';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';
import { headerList, jsonError, send } from './http';

const READY_BODY = '{"status":"ready"}';
const readyHeaders = headerList({ 'content-type': 'application/json', 'content-length': String(READY_BODY.length) });

class KeyRecordingStore extends MemoryStore {
  readonly keysRead: string[] = [];

  override get(key: string): Uint8Array | null {
    this.keysRead.push(key);
    return super.get(key);
  }
}

function setup(store: MemoryStore = new MemoryStore()) {
  const { openStore, opens } = opener(store);
  const { log, lines } = logRecorder();
  const deps: RouterDeps = { openStore, adminToken: 'secret', log };
  return { store, opens, lines, deps };
}

describe('GET /readyz', () => {
  it('opens the store, reads one absent key and answers 200 {"status":"ready"}', async () => {
    const { store, opens, lines, deps } = setup();

    const answer = await send(deps, 'GET', '/readyz');

    expect(answer).toEqual({ status: 200, headers: readyHeaders, body: READY_BODY, bodyIsNull: false });
    expect(opens()).toBe(1);
    expect(store.calls).toEqual({ get: 1, set: 0, delete: 0 });
    expect(store.data.size).toBe(0);
    expect(lines).toEqual([]);
  });

  it('reads its own key, so it neither depends on nor disturbs what the cache holds', async () => {
    const store = new KeyRecordingStore({ [ITEMS_KEY]: ITEMS_JSON });
    const { deps } = setup(store);

    const answer = await send(deps, 'GET', '/readyz');

    expect(answer.status).toBe(200);
    expect(store.keysRead).toEqual([READINESS_PROBE_KEY]);
    expect(READINESS_PROBE_KEY).not.toBe(ITEMS_KEY);
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
  });

  it('answers the same with HEAD, without a body', async () => {
    const { deps } = setup();

    const answer = await send(deps, 'HEAD', '/readyz');

    expect(answer).toEqual({ status: 200, headers: readyHeaders, body: '', bodyIsNull: true });
  });

  it('needs no bearer token: a probe carries none', async () => {
    const { deps } = setup();

    expect((await send({ ...deps, adminToken: 'secret' }, 'GET', '/readyz')).status).toBe(200);
  });

  it.each(ERROR_SHAPES)('answers 503 JSON when the store cannot be opened ($name), logging the reason', async ({ error, described }) => {
    const { openStore, opens } = failingOpener(error);
    const { log, lines } = logRecorder();

    const answer = await send({ openStore, adminToken: '', log }, 'GET', '/readyz');

    expect(answer).toEqual({ ...jsonError(503, 'cache unavailable'), bodyIsNull: false });
    expect(opens()).toBe(1);
    expect(lines).toEqual([`readiness check failed: ${described}`]);
  });

  it.each(ERROR_SHAPES)('answers 503 JSON when the read fails ($name), without the detail in the body', async ({ error, described }) => {
    const store = new FailingStore(['get'], error);
    const { deps, lines } = setup(store);

    const answer = await send(deps, 'GET', '/readyz');

    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toEqual({ error: 'cache unavailable' });
    expect(answer.body).not.toContain(described);
    expect(store.calls).toEqual({ get: 1, set: 0, delete: 0 });
    expect(lines).toEqual([`readiness check failed: ${described}`]);
  });

  it('HEAD on a failing store answers 503 with no body', async () => {
    const { openStore } = failingOpener(new Error('refused'));
    const { log } = logRecorder();

    const answer = await send({ openStore, adminToken: '', log }, 'HEAD', '/readyz');

    expect(answer.status).toBe(503);
    expect(answer.bodyIsNull).toBe(true);
  });

  it.each(['POST', 'PUT', 'DELETE'])('%s /readyz is 405 with Allow: GET, HEAD and touches no store', async (method) => {
    const { opens, deps } = setup();

    const answer = await send(deps, method, '/readyz');

    expect(answer).toEqual({ ...jsonError(405, 'method not allowed', { allow: 'GET, HEAD' }), bodyIsNull: false });
    expect(opens()).toBe(0);
  });
});

describe('/healthz stays independent of the store', () => {
  it('answers 200 while the store cannot even be opened, and never opens it', async () => {
    const { openStore, opens } = failingOpener(new Error('refused'));
    const { log, lines } = logRecorder();

    const answer = await send({ openStore, adminToken: '', log }, 'GET', '/healthz');

    expect(answer.status).toBe(200);
    expect(opens()).toBe(0);
    expect(lines).toEqual([]);
  });
});
