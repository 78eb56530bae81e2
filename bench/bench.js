#!/usr/bin/env node
// `npm run bench`: see bench/lib/args.js for the flags and bench/results.md for what is measured.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, UsageError, parseOptions } from './lib/args.js';
import { makeAppDir, makeBaselineAppDir } from './lib/app-dirs.js';
import { ensureAppBuilt, ensureBaseline, timeBuild, warmTranslations } from './lib/build.js';
import { HOST_LABELS, spinBinFrom, startHost } from './lib/hosts.js';
import { HELD_BACK_MS, keepAliveAgent, request, sleep } from './lib/http.js';
import { runLoad } from './lib/load.js';
import { cpuSnapshot, cpuUsedByOthers, machineFacts, spinVersion } from './lib/machine.js';
import { killAllNow, liveChildren, spawnTracked, stopAll, stopChild, waitExit } from './lib/procs.js';
import { callDelta, redisServerVersion, startRedis } from './lib/redis.js';
import { renderConsole, renderMarkdown } from './lib/report.js';
import { spread, summarize } from './lib/stats.js';
import { latencySvg } from './lib/svg.js';
import { componentCoreInfo } from './lib/wasm-info.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_DIR = path.join(ROOT, 'bench');
const WORK_DIR = path.join(BENCH_DIR, 'work');
const BUILD_TIME_FILE = path.join(WORK_DIR, 'build-time.json');
/** What GET /items answers (src/catalog.ts) and what the baseline fixture answers too. */
const CATALOG_BODY =
  '[{"id":1,"title":"Black Coffee"},{"id":2,"title":"Latte"},{"id":3,"title":"Caramel Latte"},'
  + '{"id":4,"title":"Cappuccino"},{"id":5,"title":"Americano"},{"id":6,"title":"Espresso"}]';
/** Its strong ETag, as src/http-caching.ts derives it: the first 128 bits of the body's SHA-256. */
const ITEMS_ETAG = `"${createHash('sha256').update(CATALOG_BODY).digest('hex').slice(0, 32)}"`;

/** The runner's opt-in Redis operation timeout used for the hung-Redis phase (not Spin's behaviour). */
const HUNG_KV_TIMEOUT_MS = 250;

const say = (line) => process.stderr.write(`[bench] ${line}\n`);
/** Servers are keyed by host and app: `spin:sqlite`, `runner:baseline`, … */
const key = (host, app) => `${host}:${app}`;

async function main(argv) {
  const options = parseOptions(argv);
  if (options.help) {
    console.log(USAGE);
    return;
  }
  let spinBin;
  try {
    spinBin = spinBinFrom(process.env);
  } catch (error) {
    throw new UsageError(error.message);
  }
  const hosts = spinBin ? ['spin', 'runner'] : ['runner'];
  say(spinBin
    ? `measuring Spin (SPIN_BIN=${spinBin}) with the runner beside it`
    : 'SPIN_BIN is not set: measuring the runner only (set SPIN_BIN=/path/to/spin to measure real Spin)');
  const benchStarted = performance.now();
  const cpuStart = cpuSnapshot();
  const outDir = path.resolve(options.out ?? (options.quick ? WORK_DIR : BENCH_DIR));
  fs.mkdirSync(WORK_DIR, { recursive: true });
  fs.mkdirSync(outDir, { recursive: true });
  const runDir = fs.mkdtempSync(path.join(WORK_DIR, 'run-'));
  // SQLite files, app dirs and the redis-server dirs of this run; removed however the bench ends
  process.on('exit', () => fs.rmSync(runDir, { recursive: true, force: true }));

  const redisVersion = options.noRedis ? null : redisServerVersion();
  const redisSkipped = options.noRedis
    ? 'disabled with --no-redis'
    : redisVersion === null
      ? 'redis-server is not installed (not found on PATH); install the Debian package redis-server to include it'
      : null;
  if (redisSkipped) say(`Redis scenarios skipped: ${redisSkipped}`);

  const results = {
    options: { ...options, out: path.relative(ROOT, outDir) || '.' },
    command: `${spinBin ? 'SPIN_BIN=… ' : ''}npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine: { ...machineFacts(ROOT, redisVersion), spin: spinBin ? spinVersion(spinBin) : null },
    hosts,
    redisSkipped,
    backends: redisSkipped ? ['sqlite'] : ['sqlite', 'redis'],
  };

  // ---------------------------------------------------------------- builds
  const appBuild = await ensureAppBuilt(ROOT, say);
  const baseline = await ensureBaseline(ROOT, WORK_DIR, say);
  const appWasm = path.join(ROOT, 'dist', 'cache-with-az-redis.wasm');
  results.sizes = {
    app: fs.statSync(appWasm).size,
    baseline: fs.statSync(baseline.wasm).size,
  };
  results.baselineBuild = baseline;
  // A component the runner has not seen is translated by jco on first load (~2 s, lots of memory):
  // do it now, so that the runners' start-up and memory figures are those of a normal start.
  results.translation = await warmTranslations(ROOT, [appWasm, baseline.wasm]);
  results.core = { app: componentCoreInfo(ROOT, appWasm), baseline: componentCoreInfo(ROOT, baseline.wasm) };
  if (options.skipBuild) {
    const last = readJson(BUILD_TIME_FILE);
    results.build = last ? { ...last, reused: true } : appBuild ? { totalMs: appBuild.ms, steps: null, measuredAt: new Date().toISOString(), reused: false } : null;
  } else {
    say('timing the build (knitwit → webpack → j2w, outputs in bench/work/timed-build/)');
    results.build = { ...(await timeBuild(ROOT, WORK_DIR)), reused: false };
    fs.writeFileSync(BUILD_TIME_FILE, JSON.stringify(results.build, null, 2));
  }

  // ---------------------------------------------------------------- processes
  // One redis-server per host, so that each host's command counts are its own.
  const redis = {};
  if (!redisSkipped) {
    for (const host of hosts) {
      redis[host] = await startRedis({ workDir: runDir });
      say(`redis-server ${redisVersion} for ${HOST_LABELS[host]} on 127.0.0.1:${redis[host].port} (pid ${redis[host].pid})`);
    }
  }
  // A host's first start of a component it has not seen pays a one-off cost (Spin compiles it
  // and caches the result; the runner fills its caches) in time and memory. A throw-away start
  // of each component on each host first keeps that out of the start-up and memory figures.
  results.firstStartMs = {};
  for (const host of hosts) {
    for (const [app, dir] of Object.entries({
      baseline: makeBaselineAppDir({ workDir: runDir, name: `${host}-warm-baseline`, wasm: baseline.wasm }),
      app: makeAppDir({ root: ROOT, workDir: runDir, name: `${host}-warm-app` }),
    })) {
      const s = await startHost({ host, root: ROOT, spinBin, name: `warm-up ${app}`, cwd: dir.dir, args: dir.args });
      await request(s.baseUrl);
      await s.stop();
      results.firstStartMs[key(host, app)] = s.startupMs;
    }
  }
  say(`first starts (warm-up, not measured further): ${Object.entries(results.firstStartMs).map(([k, ms]) => `${k} ${Math.round(ms)} ms`).join(', ')}`);

  const servers = {};
  say(`starting ${hosts.map((h) => HOST_LABELS[h]).join(' and ')}: baseline, app on SQLite${redisSkipped ? '' : ', app on Redis'}…`);
  // Started one after the other: start-up time is a figure of its own, not a race for the CPU.
  for (const host of hosts) {
    const apps = {
      baseline: makeBaselineAppDir({ workDir: runDir, name: `${host}-baseline`, wasm: baseline.wasm }),
      sqlite: makeAppDir({ root: ROOT, workDir: runDir, name: `${host}-app-sqlite` }),
      ...(redis[host] ? { redis: makeAppDir({ root: ROOT, workDir: runDir, name: `${host}-app-redis`, redisUrl: redis[host].url }) } : {}),
    };
    for (const [app, dir] of Object.entries(apps)) {
      const s = await startHost({ host, root: ROOT, spinBin, name: app, cwd: dir.dir, args: dir.args });
      servers[key(host, app)] = s;
      say(`  ${HOST_LABELS[host]} ${app}: ${s.baseUrl} (pid ${s.pid}, ready in ${Math.round(s.startupMs)} ms)`);
    }
  }
  results.startupMs = Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, s.startupMs]));

  await sanityChecks(servers, hosts, results);
  results.memory = { before: memoryOf(servers) };

  // ---------------------------------------------------------------- KV operations (Redis)
  if (!redisSkipped) {
    say('counting Redis commands per request (INFO commandstats)…');
    results.redisOps = {};
    for (const host of hosts) results.redisOps[host] = await countRedisOps(servers[key(host, 'redis')], redis[host], options.quick ? 20 : 100);
  }

  // ---------------------------------------------------------------- sequential latency
  say(`sequential latency: ${options.requests} timed requests per scenario, one keep-alive connection…`);
  results.sequential = await sequentialLatency(servers, hosts, results.backends, options);

  // ---------------------------------------------------------------- load
  results.load = await loadRuns(servers, hosts, results.backends, options);
  results.memory.after = memoryOf(servers);

  for (const s of Object.values(servers)) await s.stop();

  // ---------------------------------------------------------------- hung Redis (runner --kv-timeout)
  // On Spin, and on the runner by default, a paused Redis stalls the request until Redis resumes
  // (no operation timeout): the end-to-end tests cover that. What is timed here is the runner's
  // opt-in protective mode, started for this phase only.
  if (redis.runner) {
    const dir = makeAppDir({ root: ROOT, workDir: runDir, name: 'runner-app-redis-kv-timeout', redisUrl: redis.runner.url });
    const guarded = await startHost({ host: 'runner', root: ROOT, name: `redis, --kv-timeout ${HUNG_KV_TIMEOUT_MS}`, cwd: dir.dir, args: [...dir.args, '--kv-timeout', String(HUNG_KV_TIMEOUT_MS)] });
    say(`hung Redis (runner --kv-timeout ${HUNG_KV_TIMEOUT_MS}): SIGSTOP redis-server, sequential GETs, cool-off, SIGCONT…`);
    results.hung = await hungRedis(guarded, redis.runner);
    await guarded.stop();
  }

  // ---------------------------------------------------------------- pre-instantiation before/after
  say('pre-instantiation before/after (runner/server.js, preinstantiate off vs on, SQLite hit)…');
  results.preinstantiate = await preinstantiateComparison(appWasm, runDir, options);

  // ---------------------------------------------------------------- in-process cost
  say(`per-request cost inside the runner (in-process, ${options.iterations} requests per scenario)…`);
  results.cost = {
    baseline: await costProbe({ wasm: baseline.wasm, backend: 'none', scenarios: ['baseline'] }, options),
    sqlite: await costProbe({ wasm: appWasm, backend: 'sqlite', sqliteFile: path.join(runDir, 'probe', 'kv.db'), scenarios: ['hit', 'miss', 'delete'] }, options),
    ...(redis.runner ? { redis: await costProbe({ wasm: appWasm, backend: 'redis', redisUrl: redis.runner.url, scenarios: ['hit', 'miss', 'delete'] }, options) } : {}),
  };

  for (const r of Object.values(redis)) await r.stop();
  await stopAll();

  results.machine.loadAvgEnd = os.loadavg();
  results.machine.otherCpu = cpuUsedByOthers(cpuStart, cpuSnapshot());
  results.totalS = (performance.now() - benchStarted) / 1000;

  const svgFile = path.join(outDir, 'latency.svg');
  const mdFile = path.join(outDir, 'results.md');
  fs.writeFileSync(svgFile, latencySvg(results));
  fs.writeFileSync(mdFile, renderMarkdown(results, { svgName: path.basename(svgFile) }));
  fs.writeFileSync(path.join(WORK_DIR, 'last-results.json'), JSON.stringify(results, null, 2));
  fs.rmSync(runDir, { recursive: true, force: true });
  process.stdout.write(renderConsole(results));
  say(`wrote ${path.relative(process.cwd(), mdFile)} and ${path.relative(process.cwd(), svgFile)} (${results.totalS.toFixed(0)} s)`);
  const left = liveChildren();
  if (left.length) say(`warning: still running: ${left.map((c) => `${c.name} (${c.pid})`).join(', ')}`);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function memoryOf(servers) {
  return Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, s.memory()]));
}

const fromCache = (res) => res.headers['x-served-from-cache'] ?? null;

/** Every server answers what it should before anything is timed. */
async function sanityChecks(servers, hosts, results) {
  const agent = keepAliveAgent();
  const problems = [];
  const expect = (cond, what) => cond || problems.push(what);
  for (const host of hosts) {
    const b = await request(servers[key(host, 'baseline')].baseUrl, { agent });
    expect(b.status === 200 && b.body.toString() === CATALOG_BODY, `${host} baseline GET /items: ${b.status} ${b.body.length} bytes`);
    expect(b.headers['content-type'] === 'application/json', `${host} baseline content-type ${b.headers['content-type']}`);
    for (const backend of results.backends) {
      const url = servers[key(host, backend)].baseUrl;
      const d = await request(url, { method: 'DELETE', path: '/cache', agent });
      expect(d.status === 204, `${host} ${backend} DELETE /cache: ${d.status}`);
      const miss = await request(url, { agent });
      expect(miss.status === 200 && fromCache(miss) === 'false' && miss.body.toString() === CATALOG_BODY, `${host} ${backend} first GET: ${miss.status} from-cache=${fromCache(miss)}`);
      const hit = await request(url, { agent });
      expect(hit.status === 200 && fromCache(hit) === 'true' && hit.body.toString() === CATALOG_BODY, `${host} ${backend} second GET: ${hit.status} from-cache=${fromCache(hit)}`);
    }
  }
  agent.destroy();
  results.bodyBytes = Buffer.byteLength(CATALOG_BODY);
  if (problems.length) throw new Error(`sanity checks failed:\n  ${problems.join('\n  ')}`);
}

/** Exact Redis command counts per request, from INFO commandstats deltas. */
async function countRedisOps(server, redis, n = 100) {
  const agent = keepAliveAgent();
  const url = server.baseUrl;
  const add = (total, delta) => {
    for (const [k, v] of Object.entries(delta)) total[k] = (total[k] ?? 0) + v;
  };
  const perRequest = (total) => Object.fromEntries(Object.entries(total).map(([k, v]) => [k, v / n]));
  const out = {};

  // hit: warm the cache, then n GETs between two snapshots
  await request(url, { agent });
  // The app names its key after the catalog's content, so the bench reads it from its own
  // redis-server, where it is the only key.
  const keys = await redis.admin.keys('*');
  if (keys.length !== 1) throw new Error(`expected the app's one key in the bench's redis-server, found ${keys.length}: ${keys.join(', ')}`);
  const [itemsKey] = keys;
  let wrong = 0;
  let before = await redis.commandCalls();
  for (let i = 0; i < n; i++) if (fromCache(await request(url, { agent })) !== 'true') wrong++;
  out.hit = { n, perRequest: perRequest(callDelta(before, await redis.commandCalls())), wrong };

  // miss: the bench deletes the key with its own client, then snapshot, GET, snapshot
  const total = {};
  wrong = 0;
  for (let i = 0; i < n; i++) {
    await redis.admin.del(itemsKey);
    before = await redis.commandCalls();
    if (fromCache(await request(url, { agent })) !== 'false') wrong++;
    add(total, callDelta(before, await redis.commandCalls()));
  }
  out.miss = { n, perRequest: perRequest(total), wrong };

  // delete: n DELETE /cache between two snapshots
  wrong = 0;
  before = await redis.commandCalls();
  for (let i = 0; i < n; i++) if ((await request(url, { method: 'DELETE', path: '/cache', agent })).status !== 204) wrong++;
  out.delete = { n, perRequest: perRequest(callDelta(before, await redis.commandCalls())), wrong };
  agent.destroy();
  return out;
}

/**
 * One keep-alive connection per server, one request at a time. Scenarios run in rounds (a share
 * of the requests of every scenario per round) so drift is spread over all of them. A miss is a
 * DELETE /cache (untimed) followed by the timed GET, which must say x-served-from-cache: false.
 * Every response also records how long its body came after its head (see HELD_BACK_MS).
 */
async function sequentialLatency(servers, hosts, backends, options) {
  const scenarios = hosts.flatMap((host) => [
    { host, app: 'baseline', name: 'baseline (no store)' },
    ...backends.flatMap((b) => [
      { host, app: b, name: `${b} hit`, expect: 'true' },
      // A client revalidating its copy: the same hit, answered 304 with no body.
      { host, app: b, name: `${b} hit, 304`, expect: 'true', headers: { 'if-none-match': ITEMS_ETAG }, status: 304 },
      { host, app: b, name: `${b} miss`, expect: 'false', wipe: true },
      { host, app: b, name: `${b} DELETE /cache`, method: 'DELETE', path: '/cache', status: 204 },
    ]),
    { host, app: 'sqlite', name: 'GET /healthz', path: '/healthz' },
  ]).map((s) => ({ ...s, key: `${s.host}:${s.name}`, label: `${HOST_LABELS[s.host]} · ${s.name}` }));
  const agents = Object.fromEntries(Object.keys(servers).map((k) => [k, keepAliveAgent()]));
  const samples = Object.fromEntries(scenarios.map((s) => [s.key, []]));
  const held = Object.fromEntries(scenarios.map((s) => [s.key, 0]));
  const wrong = Object.fromEntries(scenarios.map((s) => [s.key, 0]));
  const rounds = Math.max(1, Math.min(options.repeats, options.requests));
  const warm = Math.min(20, options.requests);
  for (const s of scenarios) {
    const k = key(s.host, s.app);
    for (let i = 0; i < warm; i++) await request(servers[k].baseUrl, { agent: agents[k], method: s.method, path: s.path, headers: s.headers });
  }
  for (let round = 0; round < rounds; round++) {
    const share = Math.floor(options.requests / rounds) + (round < options.requests % rounds ? 1 : 0);
    for (const s of scenarios) {
      const k = key(s.host, s.app);
      const url = servers[k].baseUrl;
      const agent = agents[k];
      if (s.expect === 'true') await request(url, { agent }); // make sure the cache is warm
      for (let i = 0; i < share; i++) {
        if (s.wipe) await request(url, { agent, method: 'DELETE', path: '/cache' });
        const res = await request(url, { agent, method: s.method, path: s.path, headers: s.headers });
        samples[s.key].push(res.ms);
        if (res.bodyWaitMs >= HELD_BACK_MS) held[s.key]++;
        if (res.status !== (s.status ?? 200) || (s.expect && fromCache(res) !== s.expect)) wrong[s.key]++;
      }
    }
  }
  for (const a of Object.values(agents)) a.destroy();
  return scenarios.map((s) => ({ key: s.key, host: s.host, name: s.name, label: s.label, latency: summarize(samples[s.key]), heldBack: held[s.key], wrong: wrong[s.key] }));
}

/**
 * autocannon runs. GET /items on the baseline and the warm-cache hit path of each backend, on
 * every host, alternate (round-robin, rotating the order every repeat); then DELETE /cache per
 * backend and host. Arms are keyed `host:baseline`, `host:sqlite-hit`, …
 */
async function loadRuns(servers, hosts, backends, options) {
  const arms = hosts.flatMap((host) => [
    { key: key(host, 'baseline'), server: key(host, 'baseline') },
    ...backends.map((b) => ({ key: key(host, `${b}-hit`), server: key(host, b) })),
  ]);
  const say2 = (line) => say(`  ${line}`);
  say('load: warming up each server (1 s at 8 connections)…');
  for (const s of Object.values(servers)) {
    await request(s.baseUrl); // fills the cache for the app servers
    await runLoad({ url: `${s.baseUrl}/items`, connections: 8, durationS: 1 });
  }
  const hit = [];
  for (const connections of options.connections) {
    const runs = Object.fromEntries(arms.map((a) => [a.key, []]));
    for (let rep = 0; rep < options.repeats; rep++) {
      const order = arms.map((_, i) => arms[(i + rep) % arms.length]);
      for (const arm of order) {
        const server = servers[arm.server];
        if (!arm.key.endsWith(':baseline')) {
          const check = await request(server.baseUrl);
          if (fromCache(check) !== 'true') throw new Error(`${arm.key}: cache not warm before the run`);
        }
        const r = await runLoad({ url: `${server.baseUrl}/items`, connections, durationS: options.durationS, expectBody: CATALOG_BODY, samplePid: server.pid });
        runs[arm.key].push(r);
        say2(`GET /items ${arm.key.padEnd(18)} c=${String(connections).padEnd(3)} rep ${rep + 1}: ${r.rps.toFixed(0)} req/s, p50 ${r.latency.p50.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms`);
      }
    }
    hit.push({ connections, runs });
  }
  const del = [];
  for (const connections of options.connections) {
    const runs = {};
    for (const host of hosts) {
      for (const b of backends) {
        const server = servers[key(host, b)];
        const r = await runLoad({ url: `${server.baseUrl}/cache`, method: 'DELETE', connections, durationS: options.durationS, samplePid: server.pid });
        runs[key(host, `${b}-delete`)] = [r];
        say2(`DELETE /cache ${key(host, b).padEnd(14)} c=${String(connections).padEnd(3)}: ${r.rps.toFixed(0)} req/s, p50 ${r.latency.p50.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms`);
      }
    }
    del.push({ connections, runs });
  }
  return { hit, delete: del };
}

async function hungRedis(runner, redis) {
  const defaults = redisDefaults();
  const coolOffMs = Number.isFinite(defaults.breaker.coolOffMs) ? defaults.breaker.coolOffMs : 2000;
  const agent = keepAliveAgent();
  const url = runner.baseUrl;
  const events = [];
  const mark = runner.stderr().length;
  let t0 = performance.now();
  const probe = async (phase, { method = 'GET', path = '/items' } = {}) => {
    const at = performance.now() - t0;
    const res = await request(url, { agent, method, path, timeoutMs: 15_000 });
    const e = { phase, method, path, atMs: at, ms: res.ms, status: res.status, fromCache: fromCache(res) };
    events.push(e);
    return e;
  };
  // a warm cache first
  await request(url, { agent });
  const warm = await probe('before');

  redis.pause();
  t0 = performance.now();
  for (let i = 0; i < 6; i++) await probe('hung');
  await probe('hung', { method: 'DELETE', path: '/cache' });
  const lastHung = performance.now();
  await sleep(Math.max(0, coolOffMs + 300 - (performance.now() - lastHung)));
  for (let i = 0; i < 3; i++) await probe('hung, after cool-off');

  redis.resume();
  const resumedAt = performance.now() - t0;
  let recoveredAt = null;
  const limit = performance.now() + 15_000;
  while (performance.now() < limit) {
    const e = await probe('resumed');
    if (e.fromCache === 'true') {
      recoveredAt = e.atMs - resumedAt;
      break;
    }
    await sleep(100);
  }
  // and a few more, to show it stays healthy
  for (let i = 0; i < 3; i++) await probe('resumed');
  agent.destroy();
  const log = runner.stderrSince(mark).split('\n').filter(Boolean).slice(0, 40);
  return { warm, events, resumedAtMs: resumedAt, recoveredAfterMs: recoveredAt, log, waitedMs: coolOffMs + 300, ...defaults };
}

/**
 * Before/after of the spare instance in runner/server.js: the same server, in-process in two
 * child processes (bench/lib/server-variant.js), `preinstantiate: false` (before) and `true`
 * (after), on their own SQLite files, warm cache, alternating. Patterns: back-to-back sequential
 * GETs, sequential GETs with 10 ms of idle time between them (a lightly used service), and
 * autocannon at 1 and 8 connections.
 */
async function preinstantiateComparison(wasm, runDir, options) {
  const variants = {};
  for (const mode of ['off', 'on']) {
    const child = spawnTracked(`server (preinstantiate ${mode})`, process.execPath, [
      path.join(BENCH_DIR, 'lib', 'server-variant.js'), wasm, path.join(runDir, `variant-${mode}.db`), mode,
    ], { cwd: ROOT });
    let out = '';
    const waiters = [];
    child.stdout.on('data', (c) => {
      out += c;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith('Serving ')) variants[mode].baseUrl = line.slice(8).trim();
        else if (line.startsWith('{')) waiters.shift()?.(JSON.parse(line));
      }
    });
    variants[mode] = {
      child,
      baseUrl: null,
      stats: () => new Promise((resolve) => {
        waiters.push(resolve);
        child.kill('SIGUSR2');
      }),
    };
  }
  const deadline = performance.now() + 30_000;
  while (Object.values(variants).some((v) => !v.baseUrl)) {
    if (performance.now() > deadline) throw new Error('pre-instantiation servers did not start');
    await sleep(20);
  }
  for (const v of Object.values(variants)) {
    await request(v.baseUrl); // fills the cache
    await runLoad({ url: `${v.baseUrl}/items`, connections: 8, durationS: 1 });
    await v.stats();
  }
  const n = Math.max(10, Math.round(options.requests / 2));
  const gapN = Math.max(10, Math.round(options.requests / 3));
  const reps = options.repeats;
  /** @type {Array<[string, number]>} autocannon patterns and their connections */
  const loadPatterns = [['c=1', 1], ['c=8', 8]];
  const patterns = ['back-to-back', 'idle 10 ms', ...loadPatterns.map(([p]) => p)];
  const isLoad = (pattern) => loadPatterns.some(([p]) => p === pattern);
  /** @type {Record<string, Record<string, { latencies: number[], runs: any[], requests: number, preinstantiated: number, wrong: number }>>} */
  const data = Object.fromEntries(['off', 'on'].map((m) => [m, Object.fromEntries(patterns.map((p) => [p, { latencies: [], runs: [], requests: 0, preinstantiated: 0, wrong: 0 }]))]));
  const note = (mode, pattern, stats) => {
    data[mode][pattern].requests += stats.requests;
    data[mode][pattern].preinstantiated += stats.preinstantiated;
  };
  for (let rep = 0; rep < reps; rep++) {
    for (const mode of rep % 2 ? ['on', 'off'] : ['off', 'on']) {
      const v = variants[mode];
      const agent = keepAliveAgent();
      const seq = async (pattern, count, gapMs) => {
        for (let i = 0; i < count; i++) {
          if (gapMs) await sleep(gapMs);
          const res = await request(v.baseUrl, { agent });
          data[mode][pattern].latencies.push(res.ms);
          if (fromCache(res) !== 'true') data[mode][pattern].wrong++;
        }
        note(mode, pattern, await v.stats());
      };
      await seq('back-to-back', n, 0);
      await seq('idle 10 ms', gapN, 10);
      agent.destroy();
      for (const [pattern, connections] of loadPatterns) {
        const r = await runLoad({ url: `${v.baseUrl}/items`, connections, durationS: options.durationS, expectBody: CATALOG_BODY });
        data[mode][pattern].runs.push(r);
        data[mode][pattern].wrong += r.errors + r.timeouts + r.mismatches + r.non2xx;
        note(mode, pattern, await v.stats());
      }
    }
  }
  for (const v of Object.values(variants)) await stopChild(v.child);
  const rows = patterns.map((pattern) => {
    const row = { pattern };
    for (const mode of ['off', 'on']) {
      const d = data[mode][pattern];
      row[mode] = isLoad(pattern)
        ? { rps: spread(d.runs.map((r) => r.rps)), p50: spread(d.runs.map((r) => r.latency.p50)).median, p90: spread(d.runs.map((r) => r.latency.p90)).median, p99: spread(d.runs.map((r) => r.latency.p99)).median, spareShare: d.preinstantiated / d.requests, wrong: d.wrong }
        : { ...summarize(d.latencies), spareShare: d.preinstantiated / d.requests, wrong: d.wrong };
    }
    return row;
  });
  return { reps, sequentialN: n, gapN, rows };
}

/**
 * The settings of the hung-Redis phase: the --kv-timeout the bench passes, and the breaker
 * defaults read from runner/kv/redis.js so the report describes the code that ran.
 */
function redisDefaults() {
  const num = (text, re) => Number(re.exec(text)?.[1] ?? NaN);
  const redisJs = fs.readFileSync(path.join(ROOT, 'runner', 'kv', 'redis.js'), 'utf8');
  return {
    kvTimeoutMs: HUNG_KV_TIMEOUT_MS,
    breaker: {
      threshold: num(redisJs, /breakerThreshold:\s*(\d+)/),
      coolOffMs: num(redisJs, /breakerCoolOffMs:\s*(\d+)/),
      connectTimeoutMs: num(redisJs, /connectTimeoutMs:\s*(\d+)/),
    },
  };
}

/** Runs bench/lib/cost-probe.js in a child process and parses its JSON. */
async function costProbe(config, options) {
  const child = spawnTracked('cost probe', process.execPath, [
    path.join(BENCH_DIR, 'lib', 'cost-probe.js'),
    JSON.stringify({ ...config, iterations: options.iterations, warmup: Math.min(50, options.iterations) }),
  ], { cwd: ROOT });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  await waitExit(child, 300_000);
  if (child.exitCode !== 0) throw new Error(`cost probe (${config.backend}) failed (${child.signalCode ?? child.exitCode}):\n${err.slice(-3000)}`);
  return JSON.parse(out);
}

main(process.argv.slice(2)).catch(async (error) => {
  if (error instanceof UsageError) {
    console.error(`Error: ${error.message}\n\n${USAGE}`);
  } else {
    console.error(`[bench] failed: ${error?.stack ?? error}`);
  }
  try {
    await Promise.race([stopAll(), sleep(5000)]);
  } finally {
    killAllNow();
    process.exit(error instanceof UsageError ? 2 : 1);
  }
});
