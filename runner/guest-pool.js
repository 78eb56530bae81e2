// Spin runs every request in its own task, so one request stalled on Redis does not hold up the
// others. A jco-bound component runs synchronously (a key-value call blocks its thread until
// Redis answers), so the runner gives each request in flight a thread of its own: a pool of guest
// threads that grows when all are busy. Each thread has its own store connections.
import { Worker } from 'node:worker_threads';

const WORKER_URL = new URL('./guest-worker.js', import.meta.url);

/**
 * @param {{ prepared: { dir: string, modules: Map<string, WebAssembly.Module>, sizeBytes: number },
 *   stores: Map<string, import('./kv/index.js').StoreSpec>, kvOptions: object, allowedLabels: string[],
 *   variables: Map<string, string>, logs?: { stdoutLog?: number, stderrLog?: number },
 *   initial?: number, max?: number }} options
 *   `initial` threads start at once (default 1); one more is started whenever the last idle one is
 *   taken, up to `max` (default 64); requests beyond `max` wait for a free thread
 */
export async function createGuestPool({ prepared, stores, kvOptions, allowedLabels, variables, logs, initial = 1, max = 64 }) {
  const workerData = { prepared, stores: [...stores], kvOptions, allowedLabels, variables: [...variables], logs };
  /** @type {Set<Worker>} */
  const all = new Set();
  /** @type {Worker[]} */
  const idle = [];
  /** @type {Array<(worker: Worker) => void>} */
  const waiting = [];
  let starting = 0;
  let nextId = 0;
  let closed = false;

  /** @returns {Promise<Worker>} */
  function start() {
    starting += 1;
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_URL, { workerData });
      const onReady = (message) => {
        if (!message?.ready) return;
        worker.off('message', onReady);
        starting -= 1;
        all.add(worker);
        resolve(worker);
      };
      worker.on('message', onReady);
      worker.once('error', (error) => {
        if (!all.has(worker)) {
          starting -= 1;
          reject(error);
        }
      });
      worker.once('exit', () => {
        all.delete(worker);
        const at = idle.indexOf(worker);
        if (at >= 0) idle.splice(at, 1);
      });
    });
  }

  function release(worker) {
    const next = waiting.shift();
    if (next) next(worker);
    else idle.push(worker);
  }

  /** @returns {Promise<Worker>} */
  function acquire() {
    const worker = idle.pop();
    const acquired = worker ? Promise.resolve(worker) : new Promise((resolve) => waiting.push(resolve));
    // Enough threads on the way for every waiting request, plus one ready ahead so the next
    // request does not wait for a thread to start (loading the component takes a second or more
    // on a busy machine).
    while (all.size + starting < max && starting < waiting.length + (idle.length === 0 ? 1 : 0)) start().then(release, () => {});
    return /** @type {Promise<Worker>} */ (acquired);
  }

  for (const worker of await Promise.all(Array.from({ length: initial }, start))) idle.push(worker);

  return {
    /**
     * Runs one request on a free guest thread.
     * @param {import('./wasi/http.js').BufferedRequest} request
     * @returns {Promise<import('./component.js').GuestResponse>}
     */
    async serve(request) {
      if (closed) throw new Error('the guest pool is closed');
      const worker = await acquire();
      const id = ++nextId;
      try {
        const reply = await new Promise((resolve, reject) => {
          const onMessage = (message) => {
            if (message?.id !== id) return;
            cleanup();
            resolve(message);
          };
          const onExit = (code) => {
            cleanup();
            reject(new Error(`guest thread exited (${code}) while serving the request`));
          };
          const cleanup = () => {
            worker.off('message', onMessage);
            worker.off('exit', onExit);
          };
          worker.on('message', onMessage);
          worker.once('exit', onExit);
          worker.postMessage({ id, request });
        });
        if (!reply.ok) throw new Error(reply.message);
        return reply.response;
      } finally {
        if (all.has(worker)) release(worker);
      }
    },
    /** The number of guest threads (for tests and diagnostics). */
    get size() {
      return all.size;
    },
    async close() {
      closed = true;
      await Promise.all([...all].map((worker) => worker.terminate()));
    },
  };
}
