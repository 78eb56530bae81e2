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
    // Read before the store: with a large value in the store, calls after the read are the risky ones.
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

  const methodNotAllowed = (allowed: string) => (): Response =>
    errorResponse(405, 'method not allowed', { allow: allowed });

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
      (response: Response | undefined) => response ?? errorResponse(404, 'not found'),
      (response: Response, request: Request) => (request.method === 'HEAD' ? withoutBody(response) : response),
    ],
  });

  router
    .get('/items', serveItems)
    .head('/items', serveItems)
    .all('/items', methodNotAllowed('GET, HEAD'))
    .delete('/cache', clear)
    .all('/cache', methodNotAllowed('DELETE'))
    .get('/healthz', health)
    .head('/healthz', health)
    .all('/healthz', methodNotAllowed('GET, HEAD'))
    .get('/readyz', ready)
    .head('/readyz', ready)
    .all('/readyz', methodNotAllowed('GET, HEAD'));

  return { fetch: (request) => router.fetch(request) };
}
