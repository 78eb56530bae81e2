// Child process of the bench: per-request cost inside the runner, in-process, with the runner's
// own modules (loadComponent + hostImports + a real KvRegistry backend). For each request it
// times component.instantiate() and component.handle() separately, yields to the event loop
// between requests (as the HTTP server does), records V8 GC pauses, and counts the host
// key-value calls the guest makes. Prints one JSON document on stdout.
//
//   node bench/lib/cost-probe.js '{"wasm": "...", "backend": "sqlite"|"redis"|"none", ...}'
import { PerformanceObserver } from 'node:perf_hooks';
import { loadComponent } from '../../runner/component.js';
import { hostImports } from '../../runner/host/imports.js';
import { KvRegistry } from '../../runner/kv/index.js';
import { summarize } from './stats.js';

const options = JSON.parse(process.argv[2]);
const { wasm, backend: kind, redisUrl, sqliteFile, scenarios, iterations, warmup, kvTimeoutMs = 250 } = options;

const logLines = [];
const registry = kind === 'none' ? null : new KvRegistry(
  new Map([['default', kind === 'redis' ? { type: 'redis', url: redisUrl } : { type: 'spin', path: sqliteFile }]]),
  { timeoutMs: kvTimeoutMs, log: (line) => logLines.push(line) },
);

const calls = { get: 0, set: 0, delete: 0, exists: 0, getKeys: 0 };
const counting = (b) => ({
  get: (k) => (calls.get++, b.get(k)),
  set: (k, v) => (calls.set++, b.set(k, v)),
  delete: (k) => (calls.delete++, b.delete(k)),
  exists: (k) => (calls.exists++, b.exists(k)),
  getKeys: () => (calls.getKeys++, b.getKeys()),
});

const imports = hostImports({
  allowedLabels: registry ? ['default'] : [],
  backendFor: (label) => {
    const b = registry?.open(label);
    return b ? counting(b) : null;
  },
  variables: new Map([['cache_admin_token', '']]),
});

const loadStarted = performance.now();
const component = await loadComponent(wasm, imports);
const loadMs = performance.now() - loadStarted;
registry?.openAll();

const authority = '127.0.0.1:3000';
const requestFor = (method, path) => ({
  method,
  pathWithQuery: path,
  authority,
  headers: [
    ['host', authority],
    ['user-agent', 'bench'],
    ['accept', '*/*'],
    ['spin-full-url', `http://${authority}${path}`],
    ['spin-path-info', path],
    ['spin-matched-route', '/...'],
    ['spin-base-path', '/'],
    ['spin-raw-component-route', '/...'],
    ['spin-component-route', ''],
    ['spin-client-addr', '127.0.0.1:50000'],
  ],
  body: new Uint8Array(0),
});

/** What a miss stores, taken from a real miss below, so a primed hit reads exactly what the app wrote. */
let catalogBytes = new Uint8Array(0);
/** The app's cache key: it is named after the catalog's content, so it is read from the store after a miss below. */
let itemsKey = '';

// `before` runs once before a scenario, `each` before every request (untimed, on the raw backend,
// so its store calls are not counted as the component's).
const SCENARIOS = {
  baseline: { request: requestFor('GET', '/items'), status: 200, fromCache: null },
  hit: { request: requestFor('GET', '/items'), status: 200, fromCache: 'true', before: () => registry.open('default').set(itemsKey, catalogBytes) },
  miss: { request: requestFor('GET', '/items'), status: 200, fromCache: 'false', each: () => registry.open('default').delete(itemsKey) },
  delete: { request: requestFor('DELETE', '/cache'), status: 204, fromCache: null },
};

const gcEntries = [];
const observer = new PerformanceObserver((list) => gcEntries.push(...list.getEntries()));
observer.observe({ entryTypes: ['gc'] });

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));
const header = (response, name) => {
  const found = response.headers.find(([n]) => n === name);
  return found ? Buffer.from(found[1]).toString('latin1') : null;
};

function once(scenario) {
  const t0 = performance.now();
  const instance = component.instantiate();
  const t1 = performance.now();
  const response = component.handle(instance, scenario.request);
  const t2 = performance.now();
  return { instantiateMs: t1 - t0, handleMs: t2 - t1, response };
}

if (registry) {
  once(SCENARIOS.delete); // whatever key the app uses, it is gone now
  const { response } = once(SCENARIOS.miss);
  catalogBytes = new Uint8Array(response.body);
  const keys = registry.open('default').getKeys();
  if (keys.length !== 1) throw new Error(`expected the app's one key in the store after a miss, found ${keys.length}: ${keys.join(', ')}`);
  itemsKey = keys[0];
}

const results = {};
for (const name of scenarios) {
  const scenario = SCENARIOS[name];
  scenario.before?.();
  for (let i = 0; i < warmup; i++) {
    scenario.each?.();
    once(scenario);
    await yieldToLoop();
  }
  await yieldToLoop();
  const inst = [];
  const handle = [];
  const wrong = [];
  const callsBefore = { ...calls };
  const windowStart = performance.now();
  for (let i = 0; i < iterations; i++) {
    scenario.each?.();
    const { instantiateMs, handleMs, response } = once(scenario);
    inst.push(instantiateMs);
    handle.push(handleMs);
    const fromCache = header(response, 'x-served-from-cache');
    if (response.status !== scenario.status || (scenario.fromCache !== null && fromCache !== scenario.fromCache)) {
      if (wrong.length < 5) wrong.push({ status: response.status, fromCache });
      else wrong.push(null);
    }
    await yieldToLoop();
  }
  const windowEnd = performance.now();
  // let the observer deliver the last entries
  await new Promise((resolve) => setTimeout(resolve, 50));
  const gcs = gcEntries.filter((e) => e.startTime >= windowStart && e.startTime <= windowEnd);
  const major = gcs.filter((e) => e.detail?.kind === 4 /* NODE_PERFORMANCE_GC_MAJOR */);
  const perRequest = {};
  for (const [op, n] of Object.entries(calls)) {
    const d = n - callsBefore[op];
    if (d) perRequest[op] = d / iterations;
  }
  results[name] = {
    iterations,
    instantiate: summarize(inst),
    handle: summarize(handle),
    total: summarize(inst.map((v, i) => v + handle[i])),
    kvCallsPerRequest: perRequest,
    wrongResponses: wrong.length,
    wrongExamples: wrong.filter(Boolean),
    gc: {
      count: gcs.length,
      major: major.length,
      totalMs: gcs.reduce((s, e) => s + e.duration, 0),
      majorMs: major.reduce((s, e) => s + e.duration, 0),
      windowMs: windowEnd - windowStart,
    },
  };
}
observer.disconnect();
registry?.closeAll();
process.stdout.write(JSON.stringify({ loadMs, sizeBytes: component.sizeBytes, results, log: logLines.slice(0, 20) }));
process.exit(0);
