import { Router } from 'itty-router/Router';
import { isAuthorized } from './auth';
import { cacheAside, clearCache, type Clock, type Log, type OpenStore } from './cache';
import { describeError } from './describe-error';
import { cacheControlFor, ifNoneMatchMatches, serverTiming } from './http-caching';
import { CACHE_KEYS_TO_CLEAR, ITEMS_BODY, ITEMS_CACHE_KEY, ITEMS_ETAG, isCurrentItems } from './items';
import { checkReadiness } from './readiness';
import { JSON_CONTENT_TYPE, bytesResponse, errorResponse, noContent, withoutBody } from './responses';

export interface RouterDeps {
  openStore: OpenStore;
  /**
   * Bearer token required by `DELETE /cache`; empty means unprotected. A function lets the
   * edge defer reading it until a request actually needs it.
   */
  adminToken: string | (() => string);
  /** Seconds clients may reuse GET /items without asking again (`items_max_age`); empty or 0: revalidate every time. */
  itemsMaxAge?: string | (() => string);
  log: Log;
  /** Times store calls for Server-Timing; defaults to `performance.now`. */
  clock?: Clock;
}

/** All the HTTP surface needs: one Web-standard request in, one response out, never a rejection. */
export interface App {
  fetch(request: Request): Promise<Response>;
}

const CACHE_NOT_CLEARED = 'cache unavailable: the cache was not cleared';

const HEALTHY = new TextEncoder().encode('{"status":"ok"}');

export function createRouter(deps: RouterDeps): App {
  const { openStore, adminToken, itemsMaxAge = '', log, clock = () => performance.now() } = deps;
  const readAdminToken = typeof adminToken === 'function' ? adminToken : () => adminToken;
  const readItemsMaxAge = typeof itemsMaxAge === 'function' ? itemsMaxAge : () => itemsMaxAge;

  const itemsCacheControl = (): string => {
    const { header, problem } = cacheControlFor(readItemsMaxAge());
    if (problem) log(`items_max_age ignored (${problem}); sending Cache-Control: ${header}`);
    return header;
  };

  const serveItems = (request: Request): Response => {
    const cacheControl = itemsCacheControl();
    // cacheAside absorbs every store failure, so nothing here can turn a cache problem into a 500.
    const { body, outcome, storeMs } = cacheAside({
      openStore,
      key: ITEMS_CACHE_KEY,
      load: () => ITEMS_BODY,
      isValid: isCurrentItems,
      log,
      clock,
    });
    // A hit is byte-identical to ITEMS_BODY (isCurrentItems), so one ETag fits both outcomes.
    const headers = {
      etag: ITEMS_ETAG,
      'cache-control': cacheControl,
      'server-timing': serverTiming(outcome, storeMs),
      'x-served-from-cache': String(outcome === 'hit'),
    };
    if (ifNoneMatchMatches(request.headers.get('if-none-match'), ITEMS_ETAG)) {
      return new Response(null, { status: 304, headers });
    }
    return bytesResponse(200, body, { 'content-type': JSON_CONTENT_TYPE, ...headers });
  };

  const clear = (request: Request): Response => {
    // Checked before the store is opened: an unauthorized caller must not cause any store traffic.
    if (!isAuthorized(request.headers.get('authorization'), readAdminToken())) {
      return errorResponse(401, 'unauthorized: a valid bearer token is required', { 'www-authenticate': 'Bearer' });
    }
    // The reason (host names, driver messages) goes to the log, not to the caller.
    return clearCache(openStore, CACHE_KEYS_TO_CLEAR, log) ? noContent() : errorResponse(503, CACHE_NOT_CLEARED);
  };

  // Probes must not depend on the cache backend being reachable.
  const health = (): Response =>
    bytesResponse(200, HEALTHY, { 'content-type': JSON_CONTENT_TYPE });

  // Touches the store on purpose, for a readiness probe with a timeout (see ./readiness).
  const ready = (): Response => checkReadiness(openStore, log);

  // Every path with the handler of each method it allows. Only these method-specific routes are
  // registered: itty-router tests a request against the routes of its own method only, in order,
  // and on Spin each route's regular expression is compiled anew for every request
  // (docs/request-cost.md). So /items comes first: a hit is tested against one pattern.
  const routes: Record<string, Record<string, (request: Request) => Response>> = {
    '/items': { GET: serveItems, HEAD: serveItems },
    '/healthz': { GET: health, HEAD: health },
    '/readyz': { GET: ready, HEAD: ready },
    '/cache': { DELETE: clear },
  };

  // No route answered: a known path (itty-router's patterns also accept trailing slashes) with
  // another method gets 405 naming the methods it allows; anything else is 404.
  const notRouted = (request: Request): Response => {
    const allowed = routes[new URL(request.url).pathname.replace(/\/+$/, '')];
    return allowed
      ? errorResponse(405, 'method not allowed', { allow: Object.keys(allowed).join(', ') })
      : errorResponse(404, 'not found');
  };

  const router = Router<Request, [], Response>({
    // Only genuine bugs get here: every cache failure is handled where it happens.
    catch: (error: unknown) => {
      try {
        log(`unhandled error: ${describeError(error)}`);
      } catch {
        // The logger may be the bug; the client still gets its 500 instead of a dropped request.
      }
      return errorResponse(500, 'internal error');
    },
    finally: [
      (response: Response | undefined, request: Request) => response ?? notRouted(request),
      (response: Response, request: Request) => (request.method === 'HEAD' ? withoutBody(response) : response),
    ],
  });

  for (const [path, handlers] of Object.entries(routes)) {
    for (const [method, handler] of Object.entries(handlers)) router[method]!(path, handler);
  }

  return { fetch: (request) => router.fetch(request) };
}
