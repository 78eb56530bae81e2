// Child process of the bench: the runner's HTTP server (runner/server.js) built in-process the
// way runner/cli.js builds it, with `preinstantiate` switched on or off, on the default SQLite
// store. Used for the before/after comparison of pre-instantiation. Prints "Serving <url>".
// On SIGUSR2 it prints one JSON line with the onTiming figures since the last report.
//
//   node bench/lib/server-variant.js <wasm> <sqlite file> on|off
import { loadComponent } from '../../runner/component.js';
import { hostImports } from '../../runner/host/imports.js';
import { KvRegistry } from '../../runner/kv/index.js';
import { createServer } from '../../runner/server.js';

const [wasm, sqliteFile, mode] = process.argv.slice(2);
const stores = new KvRegistry(new Map([['default', { type: 'spin', path: sqliteFile }]]), {});
const imports = hostImports({
  allowedLabels: ['default'],
  backendFor: (label) => stores.open(label),
  variables: new Map([['cache_admin_token', '']]),
});
const component = await loadComponent(wasm, imports);
stores.openAll();

let timings = [];
const server = createServer({
  routes: [{ route: '/...', component: { id: 'cache-with-az-redis', source: wasm, keyValueStores: ['default'], variables: {} } }],
  componentFor: () => component,
  maxBodyBytes: 10 * 1024 * 1024,
  log: (line) => console.error(line),
  onTiming: (t) => timings.push(t),
  preinstantiate: mode === 'on',
});
process.on('SIGUSR2', () => {
  const inline = timings.filter((t) => !t.preinstantiated);
  process.stdout.write(`${JSON.stringify({
    requests: timings.length,
    preinstantiated: timings.length - inline.length,
    inlineInstantiateMs: inline.map((t) => t.instantiateMs),
  })}\n`);
  timings = [];
});
const stop = () => {
  server.close();
  server.closeAllConnections();
  stores.closeAll();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
server.listen(0, '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`Serving http://127.0.0.1:${port}\n`);
});
