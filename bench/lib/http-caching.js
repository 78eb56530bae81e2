// Child process of the bench: what HTTP caching costs inside the runner, in-process (like
// cost-probe.js). On one SQLite store it times component.handle() for
//   - hit:          GET /items with the cache warm (200, ETag, Cache-Control, Server-Timing),
//   - notModified:  the same GET with `If-None-Match: <its ETag>` (304, no body),
//   - referenceHit: (with referenceWasm) the warm hit of another build, e.g. one from before the
//                   caching headers, interleaved request by request with `hit` so that both see
//                   the same machine load; hitRatio = p50(hit) / p50(referenceHit).
// Prints one JSON document on stdout.
//
//   node bench/lib/http-caching.js '{"wasm": "dist/cache-with-az-redis.wasm",
//     "referenceWasm": "path/to/before.wasm", "sqliteFile": "/tmp/kv.db", "iterations": 400, "warmup": 50}'
import { loadComponent } from '../../runner/component.js';
import { hostImports } from '../../runner/host/imports.js';
import { KvRegistry } from '../../runner/kv/index.js';
import { summarize } from './stats.js';

const { wasm, referenceWasm, sqliteFile, iterations = 400, warmup = 50, itemsMaxAge = '0' } = JSON.parse(process.argv[2]);

const registry = new KvRegistry(new Map([['default', { type: 'spin', path: sqliteFile }]]), { log: () => {} });
const imports = hostImports({
  allowedLabels: ['default'],
  backendFor: (label) => registry.open(label),
  variables: new Map([
    ['cache_admin_token', ''],
    ['items_max_age', itemsMaxAge],
  ]),
});
registry.openAll();

const authority = '127.0.0.1:3000';
const getItems = (extraHeaders = []) => ({
  method: 'GET',
  pathWithQuery: '/items',
  authority,
  headers: [
    ['host', authority],
    ['accept', '*/*'],
    ['spin-full-url', `http://${authority}/items`],
    ['spin-path-info', '/items'],
    ['spin-matched-route', '/...'],
    ['spin-base-path', '/'],
    ['spin-raw-component-route', '/...'],
    ['spin-component-route', ''],
    ['spin-client-addr', '127.0.0.1:50000'],
    ...extraHeaders,
  ],
  body: new Uint8Array(0),
});

const header = (response, name) => {
  const found = response.headers.find(([n]) => n === name);
  return found ? Buffer.from(found[1]).toString('latin1') : null;
};

function handleOnce(component, request) {
  const instance = component.instantiate();
  const started = performance.now();
  const response = component.handle(instance, request);
  return { ms: performance.now() - started, response };
}

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

/** Loads a build and warms its cache with one miss; returns it with the ETag it sends (if any). */
async function prepare(file) {
  const component = await loadComponent(file, imports);
  const { response } = handleOnce(component, getItems());
  if (response.status !== 200) throw new Error(`${file}: GET /items answered ${response.status}`);
  return { component, etag: header(response, 'etag') };
}

const current = await prepare(wasm);
if (!current.etag) throw new Error(`${wasm}: GET /items sends no ETag`);
const reference = referenceWasm ? await prepare(referenceWasm) : null;

const scenarios = {
  hit: { component: current.component, request: getItems(), status: 200, fromCache: 'true' },
  notModified: { component: current.component, request: getItems([['if-none-match', current.etag]]), status: 304, fromCache: 'true' },
  ...(reference ? { referenceHit: { component: reference.component, request: getItems(), status: 200, fromCache: 'true' } } : {}),
};

const times = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
const wrong = [];
for (let i = 0; i < warmup + iterations; i++) {
  // One request of each scenario per round, so drift in machine load hits all of them alike.
  for (const [name, scenario] of Object.entries(scenarios)) {
    const { ms, response } = handleOnce(scenario.component, scenario.request);
    if (response.status !== scenario.status || header(response, 'x-served-from-cache') !== scenario.fromCache) {
      if (wrong.length < 5) wrong.push({ name, status: response.status, fromCache: header(response, 'x-served-from-cache') });
    }
    if (i >= warmup) times[name].push(ms);
    await yieldToLoop();
  }
}
registry.closeAll();

const results = Object.fromEntries(Object.entries(times).map(([name, values]) => [name, summarize(values)]));
const hitRatio = reference ? results.hit.p50 / results.referenceHit.p50 : null;
process.stdout.write(JSON.stringify({ iterations, etag: current.etag, results, hitRatio, wrongResponses: wrong }));
process.exit(0);
