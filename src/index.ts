// Spin entry point: wiring only. Everything with behaviour lives in modules that tests can load in Node.
import { Kv, Variables } from '@fermyon/spin-sdk';
import type { Store } from './cache';
import { createRouter } from './routes';
import { warmUp } from './warm-up';

// Not part of the DOM lib; this is the slice of the service-worker event the runtime dispatches.
interface FetchEvent extends Event {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}

// Spin SDK 2.0.0's `set` JSON-stringifies every object, Uint8Array included (bytes [91,123]
// would be stored as '{"0":91,"1":123}'); only strings are encoded as-is. So bytes go in as the
// string they encode. Fatal decoding makes non-UTF-8 input a failed write instead of silent
// corruption, and ignoreBOM keeps the round trip byte-exact.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Opening is a host call, so it runs inside a request (where failures are handled), never at module load.
const openSpinStore = (): Store => {
  const kv = Kv.openDefault();
  return {
    // A missing key arrives as `undefined` (WIT option::none) despite the SDK's `| null` typing.
    get: (key) => kv.get(key) ?? null,
    set: (key, value) => kv.set(key, utf8.decode(value)),
    delete: (key) => kv.delete(key),
  };
};

// Variables.get returns null when the variable is unset or cannot be resolved: that means "no protection".
const readAdminToken = (): string => Variables.get('cache_admin_token') ?? '';
const readItemsMaxAge = (): string => Variables.get('items_max_age') ?? '';

const router = createRouter({
  openStore: openSpinStore,
  adminToken: readAdminToken,
  itemsMaxAge: readItemsMaxAge,
  log: (line) => console.error(line),
});

warmUp(createRouter);

addEventListener('fetch', (event) => {
  const fetchEvent = event as FetchEvent;
  fetchEvent.respondWith(router.fetch(fetchEvent.request));
});
