// Loads a Spin HTTP component the way Spin does: translate and compile once, then a fresh
// instance for every request (StarlingMonkey components of this generation serve one request per
// instance, and a fresh instance means no state leaks between requests).
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IncomingRequest, ResponseOutparam } from './wasi/http.js';

const CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/spin-component-runner/', import.meta.url));
// Builds are not byte-for-byte reproducible, so every build adds an entry (~12 MB): keep the few
// most recently used (the app, the bench's baseline, a previous build) and drop the rest.
const CACHE_ENTRIES_KEPT = 4;

/**
 * jco's translation takes ~2 s for an 11 MB component; keep it on disk keyed by the component's
 * hash so restarts (and every end-to-end test) skip it.
 * @param {Uint8Array} wasm
 * @returns {Promise<string>} directory holding component.js and the core modules
 */
async function translate(wasm) {
  const dir = path.join(CACHE_DIR, createHash('sha256').update(wasm).digest('hex').slice(0, 32));
  const present = await readdir(dir).catch(() => []);
  if (present.includes('component.js')) {
    const now = new Date();
    await utimes(dir, now, now).catch(() => {});
    return dir;
  }
  const { transpile } = await import('@bytecodealliance/jco');
  const { files } = await transpile(wasm, /** @type {any} jco's typings omit `typescript` */ ({
    name: 'component',
    instantiation: 'sync',
    typescript: false,
    base64Cutoff: 0, // every core module goes through getCoreModule, so each is compiled once
    quiet: true,
  }));
  const staging = `${dir}.${process.pid}.tmp`;
  await mkdir(staging, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(staging, name), bytes);
  // Another runner may have won the race; its copy is identical.
  await rename(staging, dir).catch(() => rm(staging, { recursive: true, force: true }));
  await pruneCache().catch(() => {}); // best effort: another runner may be pruning too
  return dir;
}

async function pruneCache() {
  const names = (await readdir(CACHE_DIR)).filter((name) => !name.endsWith('.tmp'));
  const entries = await Promise.all(names.map(async (name) => ({ name, used: (await stat(path.join(CACHE_DIR, name))).mtimeMs })));
  entries.sort((a, b) => b.used - a.used);
  for (const { name } of entries.slice(CACHE_ENTRIES_KEPT)) {
    await rm(path.join(CACHE_DIR, name), { recursive: true, force: true });
  }
}

/**
 * @typedef {import('./wasi/http.js').BufferedRequest} BufferedRequest
 * @typedef {{ status: number, headers: Array<[string, Uint8Array]>, body: Uint8Array, aborted: string | null }} GuestResponse
 *   `aborted`: why the body broke off, if it did
 */

/**
 * Translates (once, cached) and compiles a component; the result can be bound to imports in this
 * thread or sent to a worker thread (compiled modules are shared, not copied).
 * @param {string} wasmPath
 * @returns {Promise<{ dir: string, modules: Map<string, WebAssembly.Module>, sizeBytes: number }>}
 */
export async function prepareComponent(wasmPath) {
  const wasm = await readFile(wasmPath);
  const dir = await translate(wasm);
  const coreNames = (await readdir(dir)).filter((name) => name.endsWith('.wasm'));
  /** @type {Map<string, WebAssembly.Module>} */
  const modules = new Map();
  await Promise.all(coreNames.map(async (name) => modules.set(name, await WebAssembly.compile(await readFile(path.join(dir, name))))));
  return { dir, modules, sizeBytes: wasm.length };
}

/**
 * @param {string} wasmPath
 * @param {Record<string, object>} imports host implementations keyed by unversioned interface name
 */
export async function loadComponent(wasmPath, imports) {
  return bindComponent(await prepareComponent(wasmPath), imports);
}

/**
 * @param {{ dir: string, modules: Map<string, WebAssembly.Module>, sizeBytes: number }} prepared
 * @param {Record<string, object>} imports host implementations keyed by unversioned interface name
 */
export async function bindComponent({ dir, modules, sizeBytes }, imports) {
  const { instantiate } = await import(pathToFileURL(path.join(dir, 'component.js')).href);
  const getCoreModule = (name) => modules.get(name);

  return {
    sizeBytes,
    /** A fresh instance: call once per request. */
    instantiate: () => instantiate(getCoreModule, imports),
    /**
     * Runs one request through an instance. Throws if the guest traps or never answers.
     * @param {ReturnType<typeof instantiate>} instance
     * @param {BufferedRequest} request
     * @returns {GuestResponse}
     */
    handle(instance, request) {
      const out = new ResponseOutparam();
      let trap = null;
      try {
        instance.incomingHandler.handle(new IncomingRequest(request), out);
      } catch (error) {
        // Before response-outparam.set the trap is a 500; after it, Spin has already started the
        // response and the trap only cuts its body off (spin crates/trigger-http/src/wasi.rs:
        // "Component error after response started").
        if (out.result?.tag !== 'ok') throw error;
        trap = `trapped after the response started: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (!out.result) throw new Error('guest never invoked response-outparam::set');
      if (out.result.tag === 'err') throw new Error(`guest answered with an error: ${JSON.stringify(out.result.val)}`);
      const response = out.result.val;
      const body = response.outgoingBody;
      const bytes = Buffer.concat(body?.chunks ?? []);
      // Spin streams the body as the guest writes it; one that is never finished, or finished
      // at another length than its content-length, is cut off (wasmtime crates/wasi-http/src/p2/body.rs
      // `HostOutgoingBody::finish` and `abort`).
      const unfinished = !body ? null : body.failure ?? (body.finished ? null : 'response body not finished');
      // A complete response stays complete even if the guest traps afterwards; Spin only logs it.
      const aborted = unfinished && (trap ?? unfinished);
      if (trap && !aborted) console.error(`component ${trap}`);
      const length = body?.expectedLength;
      return {
        status: response.status,
        headers: response.fields.entries(),
        body: length === null || length === undefined ? bytes : bytes.subarray(0, Number(length)),
        aborted,
      };
    },
  };
}
