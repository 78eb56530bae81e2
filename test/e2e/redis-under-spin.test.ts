// What a client sees on real `spin up` when Redis misbehaves, and what the readiness probe sees.
//
// Spin's Redis store has no connection or response timeout and retries a lost connection for
// minutes (docs/redis-under-spin.md has the sources), so a request can only be answered once the
// host call returns. These tests pin both halves:
// - whenever the host call returns, however late and with whatever error, the guest answers
//   (the catalog when the store failed);
// - while it has not returned, `GET /items` and `GET /readyz` get no answer at all, and `/healthz`
//   answers at once: a probe on /readyz with a timeout fails, liveness on /healthz does not.
// Every wait is bounded: a request that Spin would hold for minutes is given up after a few seconds.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ITEMS_JSON } from '../support/expected';
import { guestStderr } from '../support/guest-log';
import { type AppDir, makeAppDir } from '../support/app-dir';
import { type RunningApp, skipWithout, startApp } from '../support/host';
import { type RedisBackedApp, startRedisBackedApp } from '../support/redis-app';
import { type RedisServer, freePort, startRedisServer } from '../support/redis-server';
import { storedKeys } from '../support/sqlite';
import { type TcpProxy, startTcpProxy } from '../support/tcp-proxy';

/** The readiness probe exactly as deploy/spinapp.yaml ships it. */
const readinessProbe = parseYaml(readFileSync(new URL('../../deploy/spinapp.yaml', import.meta.url), 'utf8')).spec.checks.readiness as {
  httpGet: { path: string };
  timeoutSeconds: number;
};
const PROBE_PATH = readinessProbe.httpGet.path;
const PROBE_TIMEOUT_MS = readinessProbe.timeoutSeconds * 1_000;
/** How long a test waits for an answer Spin is expected to withhold. */
const NO_ANSWER_WAIT_MS = 3_000;
/** Upper bound for an answer that does not wait on Redis; generous, for a loaded 2-core machine. */
const PROMPT_MS = 2_000;
/** How long Redis stays unresponsive in the tests where it comes back. */
const OUTAGE_MS = 2_500;
/** What StarlingMonkey logs when the answer is ready but its client has gone. */
const ANSWERED_TOO_LATE = 'Warning: JS event loop terminated without completing the request.';
/** The RESP framing of a GET command, as redis-rs writes it. */
const RESP_GET = '$3\r\nGET\r\n';

type Outcome =
  | { answered: true; ms: number; status: number; body: string; fromCache: string | null }
  | { answered: false; ms: number };

async function request(app: RedisBackedApp, path: string, waitMs: number): Promise<Outcome> {
  const started = performance.now();
  try {
    const response = await app.get(path, { signal: AbortSignal.timeout(waitMs) });
    const body = await response.text();
    const ms = Math.round(performance.now() - started);
    return { answered: true, ms, status: response.status, body, fromCache: response.headers.get('x-served-from-cache') };
  } catch (error) {
    if ((error as Error).name !== 'TimeoutError') throw error;
    return { answered: false, ms: Math.round(performance.now() - started) };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** The measurements, printed once at the end so a run documents itself. */
const record: Array<{ scenario: string; path: string; outcome: string }> = [];
function note(scenario: string, path: string, outcome: Outcome) {
  const what = outcome.answered
    ? `${outcome.status} in ${outcome.ms} ms${outcome.fromCache === null ? '' : `, from cache: ${outcome.fromCache}`}`
    : `no answer within ${outcome.ms} ms`;
  record.push({ scenario, path, outcome: what });
  return outcome;
}

function expectCatalog(outcome: Outcome, fromCache: 'true' | 'false') {
  expect(outcome).toMatchObject({ answered: true, status: 200, body: ITEMS_JSON, fromCache });
}

function expectNoAnswer(outcome: Outcome) {
  expect(outcome.answered).toBe(false);
}

/** Liveness stays fast and readiness times out, while Redis does not answer. */
async function expectProbesWhileStuck(scenario: string, app: RedisBackedApp) {
  const health = note(scenario, '/healthz', await request(app, '/healthz', PROMPT_MS));
  expect(health).toMatchObject({ answered: true, status: 200 });
  const probe = await request(app, PROBE_PATH, PROBE_TIMEOUT_MS);
  expectNoAnswer(note(scenario, `${PROBE_PATH} (probe, ${readinessProbe.timeoutSeconds} s timeout)`, probe));
}

describe.skipIf(skipWithout('redis-server'))('Redis misbehaving under spin up', { timeout: 120_000 }, () => {
  let redis: RedisServer | undefined;
  let proxy: TcpProxy | undefined;
  let app: RedisBackedApp | undefined;

  async function start({ redisArgs = [] as string[], viaProxy = false } = {}) {
    redis = await startRedisServer({ args: redisArgs });
    let url = redis.url;
    if (viaProxy) {
      proxy = await startTcpProxy(redis.port);
      url = redis.urlFor().replace(`:${redis.port}/`, `:${proxy.port}/`);
    }
    app = await startRedisBackedApp(url);
    // Warm: the store is open and the catalog cached, as on a pod that has been serving.
    await request(app, '/items', 30_000);
    const hit = await request(app, '/items', 30_000);
    expectCatalog(hit, 'true');
    const ready = note('healthy', PROBE_PATH, await request(app, PROBE_PATH, 30_000));
    expect(ready).toMatchObject({ answered: true, status: 200, body: '{"status":"ready"}' });
    return { redis, app };
  }

  afterEach(async () => {
    redis?.resume();
    // Spin would wait for the requests still stuck on Redis before it exits on SIGTERM.
    await app?.server.kill();
    await app?.stop();
    await proxy?.close();
    await redis?.stop();
    app = undefined;
    proxy = undefined;
    redis = undefined;
  });

  afterAll(() => {
    console.log(record.map((r) => `${r.scenario.padEnd(34)} ${r.path.padEnd(28)} ${r.outcome}`).join('\n'));
  });

  it('paused: requests wait for Redis, then GET /items answers from the cache', async () => {
    const { redis, app } = await start();
    redis.pause();
    const items = request(app, '/items', 20_000);
    await expectProbesWhileStuck('paused 2.5 s', app);
    const resumeAt = performance.now();
    await sleep(Math.max(0, OUTAGE_MS - PROBE_TIMEOUT_MS - 100));
    redis.resume();
    const answer = note('paused 2.5 s', '/items (client waits)', await items);
    expectCatalog(answer, 'true');
    expect(answer.ms).toBeGreaterThanOrEqual(OUTAGE_MS - 500);
    expect(performance.now() - resumeAt).toBeLessThan(OUTAGE_MS + 5_000);
    expect(note('paused, then resumed', '/readyz', await request(app, '/readyz', 10_000))).toMatchObject({ status: 200 });
    // The probe that timed out was answered too, once Redis resumed, but its client had left:
    // StarlingMonkey cannot write the body to a closed connection and says so. That line means
    // "answered too late", not "did not answer".
    expect(await waitFor(() => guestStderr(app).includes(ANSWERED_TOO_LATE), 5_000)).toBe(true);
  });

  it('answering with an error after a delay (BUSY): GET /items serves the catalog, /readyz says 503', async () => {
    // A script that never ends makes Redis hold every other client for busy-reply-threshold, then
    // answer them all with a BUSY error: a host call that fails late, with Redis's own error.
    const { redis, app } = await start({ redisArgs: ['--busy-reply-threshold', String(OUTAGE_MS)] });
    const scriptClient = (await redis.client()).duplicate();
    await scriptClient.connect();
    const script = scriptClient.eval('while true do end').catch((error: Error) => error);
    await sleep(100);

    const answer = note('BUSY after 2.5 s', '/items (client waits)', await request(app, '/items', 20_000));
    expectCatalog(answer, 'false');
    expect(answer.ms).toBeGreaterThanOrEqual(OUTAGE_MS - 1_000);
    const ready = note('BUSY', '/readyz', await request(app, '/readyz', 10_000));
    expect(ready).toMatchObject({ answered: true, status: 503, body: '{"error":"cache unavailable"}' });
    expect(guestStderr(app)).toMatch(/cache read failed: other: BUSY/);
    expect(guestStderr(app)).toMatch(/readiness check failed: other: BUSY/);
    expect(guestStderr(app)).not.toContain(ANSWERED_TOO_LATE);

    await (await redis.client()).sendCommand(['SCRIPT', 'KILL']);
    expect(String(await script)).toMatch(/killed/i);
    await scriptClient.destroy();
  });

  it('silently dropping: no answer while the connection is silent; a reset then fails the call and the catalog is served', async () => {
    const { app } = await start({ viaProxy: true });
    proxy!.blackholeOn(RESP_GET);
    const items = request(app, '/items', 20_000);
    await expectProbesWhileStuck('silent (GET dropped)', app);
    expectNoAnswer(note('silent (GET dropped)', '/items (client waits 3 s)', await request(app, '/items', NO_ANSWER_WAIT_MS)));

    // The reset is what a NAT or firewall that finally gives up sends; until then Spin waits forever.
    proxy!.cut();
    const answer = note('silent, then reset', '/items (client waits)', await items);
    expectCatalog(answer, 'false');
    expect(guestStderr(app)).toMatch(/cache read failed: /);
    // The probes and the 3 s client above gave up before the reset; when their calls fail, the
    // guest answers a closed connection, which StarlingMonkey may log (ANSWERED_TOO_LATE). The
    // client that waited got the catalog, which is what counts.
  });

  it('silently dropping everything: no answer, not even after the connection is reset', async () => {
    const { app } = await start({ viaProxy: true });
    proxy!.blackhole();
    await expectProbesWhileStuck('black hole', app);
    // The reset fails the pending PING, which Spin ignores; its reconnect then hangs on the silent
    // proxy, because redis-rs 0.32 has no connection timeout by default.
    proxy!.cut();
    expectNoAnswer(note('black hole, reset', '/items (client waits 3 s)', await request(app, '/items', NO_ANSWER_WAIT_MS)));
  });

  it('killed: GET /items and /readyz get no answer (Spin retries the connection for minutes), /healthz does', async () => {
    const { redis, app } = await start();
    await redis.kill();
    expectNoAnswer(note('killed', '/items (client waits 3 s)', await request(app, '/items', NO_ANSWER_WAIT_MS)));
    await expectProbesWhileStuck('killed', app);
  });

  it('never reachable: GET /items and /readyz get no answer, /healthz does', async () => {
    const port = await freePort();
    app = await startRedisBackedApp(`redis://127.0.0.1:${port}/0`);
    expectNoAnswer(note('never reachable', '/items (client waits 3 s)', await request(app, '/items', NO_ANSWER_WAIT_MS)));
    await expectProbesWhileStuck('never reachable', app);
  });
});

// The probe path also works where users start: `spin up` on the local SQLite store.
describe.skipIf(skipWithout('sqlite3'))('readiness on the SQLite store', () => {
  let dir: AppDir | undefined;
  let server: RunningApp | undefined;

  afterAll(async () => {
    await server?.stop();
    dir?.remove();
  });

  it(`answers ${PROBE_PATH} with 200 and writes nothing to the store`, async () => {
    dir = makeAppDir();
    server = await startApp({ args: ['-f', dir.manifest], cwd: dir.dir });
    const response = await fetch(`${server.baseUrl}${PROBE_PATH}`, { signal: AbortSignal.timeout(30_000) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('{"status":"ready"}');
    expect(existsSync(dir.sqliteFile) ? storedKeys(dir.sqliteFile) : []).toEqual([]);
  });
});
