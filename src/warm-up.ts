import type { Store } from './cache';
import type { App, RouterDeps } from './routes';

/**
 * Sends one request of every kind through an app built with in-memory stand-ins for the store and
 * the variables. Called at module load, which componentize-js runs while pre-initializing the
 * component at build time: Spin starts every request from that snapshot, so what the engine builds
 * lazily on first use and keeps in the snapshot (function bytecode, object shapes) is built once
 * here instead of on every request (docs/request-cost.md). Nothing of it is kept, and nothing
 * calls the host (the clock is one: `performance.now()` traps while pre-initializing).
 */
export function warmUp(createApp: (deps: RouterDeps) => App): void {
  const values = new Map<string, Uint8Array>();
  const store: Store = {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    delete: (key) => void values.delete(key),
  };
  const app = createApp({ openStore: () => store, adminToken: 'warm-up', itemsMaxAge: '60', log: () => {}, clock: () => 0 });
  const requests: Array<[string, string, Record<string, string>?]> = [
    ['GET', '/items'], // miss
    ['GET', '/items'], // hit
    ['GET', '/items', { 'if-none-match': '"x"' }],
    ['HEAD', '/items'],
    ['GET', '/healthz'],
    ['GET', '/readyz'],
    ['DELETE', '/cache', { authorization: 'Bearer warm-up' }],
    ['POST', '/items'],
    ['GET', '/nowhere'],
  ];
  for (const [method, path, headers] of requests) void app.fetch(new Request(`http://localhost${path}`, { method, headers }));
}
