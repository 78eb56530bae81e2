// One thread of the guest pool (see guest-pool.js): it binds the compiled component to its own
// host imports and key-value stores, and runs one request at a time, each on a fresh instance.
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { bindComponent } from './component.js';
import { hostImports } from './host/imports.js';
import { KvRegistry } from './kv/index.js';

const { prepared, stores, kvOptions, allowedLabels, variables, logs } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

const registry = new KvRegistry(new Map(stores), { ...kvOptions, log: (line) => writeSync(2, `${line}\n`) });
// Now rather than on the first request: a bad SQLite path stops start-up, and the protective
// mode's Redis connection starts at once. (With Spin's behaviour a Redis store still connects on
// its first open.)
registry.openAll();
const component = await bindComponent(prepared, hostImports({
  allowedLabels,
  backendFor: (label) => registry.open(label),
  variables: new Map(variables),
  logs,
}));

/** @type {ReturnType<typeof component.instantiate> | null} made while idle, as the in-thread server does */
let spare = null;
const makeSpare = () => setImmediate(() => {
  try {
    spare ??= component.instantiate();
  } catch {
    // the next request instantiates itself and reports the failure
  }
});

port.on('message', ({ id, request }) => {
  try {
    const instance = spare ?? component.instantiate();
    spare = null;
    const response = component.handle(instance, request);
    port.postMessage({ id, ok: true, response });
  } catch (error) {
    port.postMessage({ id, ok: false, message: error instanceof Error ? error.message : String(error) });
  }
  makeSpare();
});

makeSpare();
port.postMessage({ ready: true });
