#!/usr/bin/env node
// `npm run bench`: four components built with the same toolchain, served by real Spin side by side
// on a Redis store (a loopback redis-server started here) and on the SQLite store: the no-store
// floor (fixtures/baseline.js), the app (dist/), the least a hit can do (fixtures/least-hit.ts) and
// the article's handler pattern (fixtures/tutorial.ts). Writes results.md; see its "How to read"
// paragraph for what is measured.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BuildError, buildComponent, ensureApp } from './lib/build.js';
import { HELD_BACK_MS, keepAliveAgent, percentile, request, runLoad, sleep } from './lib/http.js';
import { killAllNow, stopAll } from './lib/procs.js';
import { callDelta, redisServerVersion, startRedis } from './lib/redis.js';
import { machineFacts, renderMarkdown } from './lib/report.js';
import { makeAppDir, resolveSpin, startSpin } from './lib/spin.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_DIR = path.join(ROOT, 'bench');
const WORK_DIR = path.join(BENCH_DIR, 'work');
/** What GET /items answers (src/catalog.ts), and so what every arm must answer. */
const CATALOG_BODY = '[{"id":1,"title":"Black Coffee"},{"id":2,"title":"Latte"},{"id":3,"title":"Caramel Latte"},'
  + '{"id":4,"title":"Cappuccino"},{"id":5,"title":"Americano"},{"id":6,"title":"Espresso"}]';
const CONNECTIONS = [1, 8, 32];
const PAUSE_REQUESTS = 3;
const PAUSE_TIMEOUT_MS = 3000;
const RECOVERY_LIMIT_MS = 15_000;

/** The arms. `key`: the one Redis key the arm uses; `isHit`: how a response says it was a hit. */
const ARMS = {
  floor: { entry: 'bench/fixtures/baseline.js', store: false },
  app: {
    store: true,
    key: `items:${createHash('sha256').update(CATALOG_BODY).digest('hex').slice(0, 16)}`, // src/items.ts
    hasDelete: true,
    isHit: (res) => res.headers['x-served-from-cache'] === 'true',
    isMiss: (res) => res.headers['x-served-from-cache'] === 'false',
  },
  least: { entry: 'bench/fixtures/least-hit.ts', store: true, key: 'least-hit' },
  tutorial: { entry: 'bench/fixtures/tutorial.ts', store: true, key: 'items' },
};
const STORE_ARMS = Object.keys(ARMS).filter((arm) => ARMS[arm].store);
const FIXTURES = Object.keys(ARMS).filter((arm) => ARMS[arm].entry);

const USAGE = `Usage: npm run bench -- [options]

Serves the no-store floor, the app, the least a hit can do and the tutorial's handler pattern
on real Spin, on a Redis store (a loopback redis-server it starts) and on the SQLite store, and
writes results.md.
Spin: found as npm start finds it (SPIN_BIN, PATH, its cache, or an install).

  --quick           a short run (≈1 min once compiled: 1 round, 1 s load runs, the compile
                    cache kept in bench/work/quick-home/) into bench/work/
  --duration <s>    seconds per load run (default 4; --quick 1)
  --rounds <n>      rounds the arms alternate in (default 3; --quick 1)
  --out <dir>       where results.md goes (default bench/, with --quick bench/work/)
  --no-redis        the SQLite store only (no redis-server needed)
  --compare-app <wasm>
                    another build of the app (say, from an earlier commit) measured beside
                    dist/'s on the Redis store: size, first start, kept-alive p50, req/s, RSS
  -h, --help        this text`;

class UsageError extends Error {}
class Fatal extends Error {}

const say = (line) => process.stderr.write(`[bench] ${line}\n`);
const ms = (x) => `${Math.round(x)} ms`;

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { quick: { type: 'boolean' }, duration: { type: 'string' }, rounds: { type: 'string' }, out: { type: 'string' }, 'no-redis': { type: 'boolean' }, 'compare-app': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new UsageError(String(error.message).split('\n')[0]);
  }
  const int = (flag, fallback, min, max) => {
    const v = values[flag];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new UsageError(`--${flag}: expected a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  };
  const quick = Boolean(values.quick);
  if (values.out === '') throw new UsageError('--out: expected a directory');
  const compareApp = values['compare-app'] && path.resolve(values['compare-app']);
  if (compareApp && !fs.statSync(compareApp, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`--compare-app: no file ${compareApp}`);
  if (compareApp && values['no-redis']) throw new UsageError('--compare-app: measured on the Redis store, so not with --no-redis');
  // requests: per latency scenario over all rounds; opsN: requests per Redis command count
  return { help: Boolean(values.help), quick, compareApp, noRedis: Boolean(values['no-redis']), requests: quick ? 30 : 150, opsN: quick ? 10 : 50,
    durationS: int('duration', quick ? 1 : 4, 1, 60), rounds: int('rounds', quick ? 1 : 3, 1, 20), out: path.resolve(values.out ?? (quick ? WORK_DIR : BENCH_DIR)) };
}

async function main(argv) {
  const o = parseOptions(argv);
  if (o.help) return void console.log(USAGE);
  const t0 = performance.now();
  const spin = await resolveSpin(say);
  if (typeof spin !== 'string') throw new Fatal(spin.error);
  const redisVersion = o.noRedis ? null : redisServerVersion();
  if (!o.noRedis && !redisVersion) throw new Fatal('redis-server is not on PATH: install it (Debian package redis-server) or pass --no-redis');
  const stores = o.noRedis ? ['sqlite'] : ['redis', 'sqlite'];
  const results = { options: o, argv, stores, facts: machineFacts(ROOT, spin, redisVersion), arms: ARMS };
  say(`${results.facts.spin} (${spin}); stores: ${stores.join(', ')}; ${o.rounds} round(s), ${o.durationS} s per load run`);

  fs.mkdirSync(WORK_DIR, { recursive: true });
  const runDir = fs.mkdtempSync(path.join(WORK_DIR, 'run-'));
  process.on('exit', () => fs.rmSync(runDir, { recursive: true, force: true }));
  // One HOME, so one wasmtime compile cache, for every arm: new for each run, except that --quick
  // keeps its own between quick runs, so that only the first pays the compiles (~30 s each).
  const home = o.quick ? path.join(WORK_DIR, 'quick-home') : path.join(runDir, 'home');
  fs.mkdirSync(home, { recursive: true });
  results.cacheWasEmpty = fs.readdirSync(home).length === 0;

  const wasm = { app: await ensureApp(ROOT, say) };
  if (o.compareApp) {
    wasm.compared = o.compareApp;
    ARMS.compared = ARMS.app;
  }
  for (const arm of FIXTURES) wasm[arm] = (await buildComponent({ root: ROOT, workDir: WORK_DIR, name: arm, entry: ARMS[arm].entry, say })).wasm;
  results.sizes = Object.fromEntries(Object.entries(wasm).map(([arm, f]) => [arm, fs.statSync(f).size]));

  const redis = o.noRedis ? null : await startRedis({ workDir: runDir });
  if (redis) say(`redis-server ${redisVersion} on ${redis.url}`);

  const launch = async (arm, store, name) => {
    const dir = makeAppDir({ runDir, name, wasm: wasm[arm], root: ROOT, kind: ARMS[arm].entry ? 'fixture' : 'app', store: ARMS[arm].store, redisUrl: store === 'redis' ? redis.url : null });
    return startSpin({ bin: spin, home, name, ...dir });
  };
  // The first start of each component compiles it into the cache: timed, then stopped, so that no
  // measured instance carries the compile in its start time or peak RSS.
  results.firstStartMs = {};
  for (const arm of Object.keys(ARMS)) {
    const s = await launch(arm, 'sqlite', `${arm}-first`);
    await request(s.baseUrl);
    await s.stop();
    results.firstStartMs[arm] = s.startMs;
    say(`${arm}: first start ${ms(s.startMs)}`);
  }
  const servers = {};
  results.startMs = {};
  for (const [arm, store] of [['floor', null], ...STORE_ARMS.flatMap((a) => stores.map((st) => [a, st]))]) {
    const id = store ? `${arm}:${store}` : arm;
    const s = await launch(arm, store, id.replace(':', '-'));
    servers[id] = { ...s, arm, store, spec: ARMS[arm] };
    results.startMs[id] = s.startMs;
    say(`${id}: ${s.baseUrl} (pid ${s.pid}) ready in ${ms(s.startMs)}`);
  }
  await sanityChecks(servers);

  if (redis) {
    say('Redis commands per request (INFO commandstats)…');
    results.ops = {};
    for (const arm of STORE_ARMS) results.ops[arm] = await countRedisOps(servers[`${arm}:redis`], redis, o.opsN);
  }
  say(`kept-alive latency, one connection, ${o.requests} requests per scenario…`);
  results.latency = await sequentialLatency(servers, stores, redis, o);
  say(`throughput at ${CONNECTIONS.join('/')} connections, ${o.rounds} round(s) of ${o.durationS} s…`);
  results.load = await loadRuns(servers, o);
  results.peakRssMiB = Object.fromEntries(Object.entries(servers).map(([id, s]) => [id, s.peakRssMiB()]));
  // Both fresh, so that their peak RSS covers the same requests.
  if (o.compareApp) results.compare = await compareBuilds(await launch('app', 'redis', 'current-redis'), await launch('compared', 'redis', 'compared-redis'), o);
  if (redis) {
    results.paused = {};
    for (const arm of ['app', 'tutorial']) {
      say(`${arm}:redis with redis-server paused (SIGSTOP): ${PAUSE_REQUESTS} requests, ${PAUSE_TIMEOUT_MS / 1000} s client timeout…`);
      results.paused[arm] = await pausedRedis(servers[`${arm}:redis`], redis);
    }
  }

  for (const s of Object.values(servers)) await s.stop();
  if (redis) await redis.stop();
  results.facts.loadAvgEnd = os.loadavg();
  results.totalS = (performance.now() - t0) / 1000;
  const md = renderMarkdown(results);
  fs.mkdirSync(o.out, { recursive: true });
  fs.writeFileSync(path.join(o.out, 'results.md'), md);
  process.stdout.write(md);
  say(`wrote ${path.relative(process.cwd(), path.join(o.out, 'results.md')) || 'results.md'} (${Math.round(results.totalS)} s)`);
}

const isCatalog = (res) => res.status === 200 && res.body.toString() === CATALOG_BODY;

/** Every arm answers the catalog, and the app's miss and hit say so, before anything is timed. */
async function sanityChecks(servers) {
  const problems = [];
  for (const [id, s] of Object.entries(servers)) {
    if (s.spec.hasDelete) {
      const d = await request(s.baseUrl, { method: 'DELETE', path: '/cache' });
      if (d.status !== 204) problems.push(`${id} DELETE /cache: ${d.status}`);
    }
    const first = await request(s.baseUrl);
    const second = await request(s.baseUrl);
    if (!isCatalog(first) || !isCatalog(second)) problems.push(`${id} GET /items: ${first.status}, ${second.status} (${second.body.length} bytes)`);
    if (s.spec.isHit && !(s.spec.isMiss(first) && s.spec.isHit(second))) problems.push(`${id}: expected a miss then a hit`);
  }
  if (problems.length) throw new Error(`sanity checks failed:\n  ${problems.join('\n  ')}`);
}

/** Commands per request from INFO commandstats deltas: hits, misses (key deleted by the bench), DELETE /cache. */
async function countRedisOps(server, redis, n) {
  const agent = keepAliveAgent();
  const url = server.baseUrl;
  const { key } = server.spec;
  const per = (total) => Object.fromEntries(Object.entries(total).map(([k, v]) => [k, v / n]));
  const out = { wrong: 0 };
  const check = (res, ok) => ok(res) || out.wrong++;
  await request(url, { agent });
  if (!(await redis.admin.exists(key))) throw new Error(`${server.name}: key ${key} is not in Redis after GET /items`);
  let before = await redis.commandCalls();
  for (let i = 0; i < n; i++) check(await request(url, { agent }), isCatalog);
  out.hit = per(callDelta(before, await redis.commandCalls()));
  const total = {};
  for (let i = 0; i < n; i++) {
    await redis.admin.del(key);
    before = await redis.commandCalls();
    check(await request(url, { agent }), isCatalog);
    for (const [k, v] of Object.entries(callDelta(before, await redis.commandCalls()))) total[k] = (total[k] ?? 0) + v;
  }
  out.miss = per(total);
  if (server.spec.hasDelete) {
    before = await redis.commandCalls();
    for (let i = 0; i < n; i++) check(await request(url, { agent, method: 'DELETE', path: '/cache' }), (r) => r.status === 204);
    out.delete = per(callDelta(before, await redis.commandCalls()));
  }
  out.n = n;
  agent.destroy();
  return out;
}

/**
 * One keep-alive connection per server, one request at a time, scenarios alternating in rounds.
 * A miss: the bench deletes the key in Redis (untimed), then the timed GET. Each response also
 * records whether its body came ≥ HELD_BACK_MS after its head (Spin's Nagle, docs/spin-nagle.md).
 */
async function sequentialLatency(servers, stores, redis, o) {
  const scenarios = [{ id: 'floor', what: 'GET /items' }];
  for (const store of stores) {
    for (const arm of STORE_ARMS) scenarios.push({ id: `${arm}:${store}`, what: 'GET /items, hit' });
    if (store === 'redis') for (const arm of STORE_ARMS) scenarios.push({ id: `${arm}:${store}`, what: 'GET /items, miss', miss: true });
    scenarios.push({ id: `app:${store}`, what: 'GET /healthz', path: '/healthz' });
  }
  const agents = Object.fromEntries(Object.keys(servers).map((id) => [id, keepAliveAgent()]));
  for (const s of scenarios) {
    s.samples = [];
    s.heldBack = 0;
    s.wrong = 0;
    for (let i = 0; i < 10; i++) await request(servers[s.id].baseUrl, { agent: agents[s.id], path: s.path });
  }
  const rounds = Math.min(o.rounds, o.requests);
  for (let round = 0; round < rounds; round++) {
    const share = Math.floor(o.requests / rounds) + (round < o.requests % rounds ? 1 : 0);
    for (const s of scenarios) {
      const server = servers[s.id];
      for (let i = 0; i < share; i++) {
        if (s.miss) await redis.admin.del(server.spec.key);
        const res = await request(server.baseUrl, { agent: agents[s.id], path: s.path });
        s.samples.push(res.ms);
        if (res.bodyWaitMs >= HELD_BACK_MS) s.heldBack++;
        const expected = s.path ? res.status === 200 : isCatalog(res) && (!server.spec.isHit || (s.miss ? server.spec.isMiss(res) : server.spec.isHit(res)));
        if (!expected) s.wrong++;
      }
    }
  }
  for (const a of Object.values(agents)) a.destroy();
  return scenarios.map(({ samples, ...s }) => ({ ...s, n: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99) }));
}

/** autocannon on GET /items (warm cache) for every server, the order rotating every round. */
async function loadRuns(servers, o) {
  // GET /items of every arm, and the app's /healthz (no store) on the first store, as `app:/healthz`.
  const targets = Object.fromEntries(Object.entries(servers).map(([id, s]) => [id, { url: `${s.baseUrl}/items`, expectBody: CATALOG_BODY }]));
  const app = Object.keys(servers).find((id) => id.startsWith('app:'));
  targets['app:/healthz'] = { url: `${servers[app].baseUrl}/healthz`, expectBody: '{"status":"ok"}' };
  const ids = Object.keys(targets);
  for (const id of ids) await runLoad({ url: targets[id].url, connections: 8, durationS: 1 });
  const runs = Object.fromEntries(ids.map((id) => [id, Object.fromEntries(CONNECTIONS.map((c) => [c, []]))]));
  for (const c of CONNECTIONS) {
    for (let round = 0; round < o.rounds; round++) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[(i + round) % ids.length];
        const r = await runLoad({ ...targets[id], connections: c, durationS: o.durationS });
        runs[id][c].push(r);
        say(`  ${id.padEnd(16)} c=${String(c).padEnd(2)} round ${round + 1}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${r.bad ? `, ${r.bad} bad` : ''}`);
      }
    }
  }
  return runs;
}

/** The app as built and another build of it, alternating on the Redis store: kept-alive hit p50 and req/s at 8 connections. */
async function compareBuilds(current, compared, o) {
  say(`compared build: ${o.compareApp}; ${o.rounds} round(s)…`);
  const builds = { current, compared };
  const runs = { current: { p50: [], rps: [] }, compared: { p50: [], rps: [] } };
  for (let round = 0; round < o.rounds; round++) {
    for (const name of round % 2 ? ['compared', 'current'] : ['current', 'compared']) {
      const agent = keepAliveAgent();
      const times = [];
      for (let i = 0; i < 10 + 50; i++) {
        const res = await request(builds[name].baseUrl, { agent });
        if (i >= 10) times.push(res.ms);
      }
      agent.destroy();
      runs[name].p50.push(percentile(times, 50));
      runs[name].rps.push((await runLoad({ url: `${builds[name].baseUrl}/items`, connections: 8, durationS: o.durationS, expectBody: CATALOG_BODY })).rps);
      say(`  ${name.padEnd(8)} round ${round + 1}: p50 ${runs[name].p50.at(-1).toFixed(2)} ms, ${runs[name].rps.at(-1).toFixed(0)} req/s`);
    }
  }
  const peakRssMiB = { current: current.peakRssMiB(), compared: compared.peakRssMiB() };
  await current.stop();
  await compared.stop();
  return { runs, peakRssMiB };
}

/**
 * Redis SIGSTOPped: a few concurrent GETs with a client timeout, then SIGCONT and GETs every 50 ms
 * (each on a new connection) until one is a hit. Spin's Redis store has no timeout of its own.
 */
async function pausedRedis(server, redis) {
  const url = server.baseUrl;
  await request(url); // the cache is warm
  redis.pause();
  const paused = performance.now();
  const attempts = await Promise.all(Array.from({ length: PAUSE_REQUESTS }, () => request(url, { agent: false, timeoutMs: PAUSE_TIMEOUT_MS }).then(
    (res) => ({ status: res.status, ms: res.ms }),
    () => ({ status: null, ms: performance.now() - paused }),
  )));
  redis.resume();
  const resumed = performance.now();
  let firstHitMs = null;
  const seen = {};
  while (performance.now() - resumed < RECOVERY_LIMIT_MS) {
    const res = await request(url, { agent: false, timeoutMs: RECOVERY_LIMIT_MS }).catch(() => null);
    seen[res?.status ?? 'no answer'] = (seen[res?.status ?? 'no answer'] ?? 0) + 1;
    if (res && isCatalog(res) && (!server.spec.isHit || server.spec.isHit(res))) {
      firstHitMs = performance.now() - resumed;
      break;
    }
    await sleep(50);
  }
  return { attempts, timeoutMs: PAUSE_TIMEOUT_MS, firstHitMs, seen, limitMs: RECOVERY_LIMIT_MS };
}

main(process.argv.slice(2)).catch(async (error) => {
  if (error instanceof UsageError) console.error(`bench: ${error.message} (see --help)`);
  else if (error instanceof Fatal || error instanceof BuildError) console.error(`bench: ${error.message}`);
  else console.error(`bench: failed: ${error?.stack ?? error}`);
  await Promise.race([stopAll(), sleep(5000)]);
  killAllNow();
  process.exit(error instanceof UsageError ? 2 : 1);
});
