import type { Log, OpenStore } from './cache';
import { describeError } from './describe-error';
import { JSON_CONTENT_TYPE, bytesResponse, errorResponse } from './responses';

/**
 * Read by the readiness check and never written: a lookup of an absent key is the cheapest read
 * every store offers (one `GET` on Redis), and it does not depend on what the cache holds.
 */
export const READINESS_PROBE_KEY = 'readiness:probe';

const READY = new TextEncoder().encode('{"status":"ready"}');
const NOT_READY = 'cache unavailable';

/**
 * `GET /readyz`: opens the store and reads one key, so it takes as long as the store does.
 *
 * A store that reports an error answers 503 at once. A store that does not answer at all (on
 * Spin, a paused, silent, dead or unreachable Redis: the host call can block for minutes) makes
 * this request hang too, which is the point: a readiness probe with a timeout then fails, and
 * the pod leaves the Service instead of holding its clients' requests. Liveness must not use
 * this (`/healthz` stays independent of the store), or an outage of Redis would restart pods.
 */
export function checkReadiness(openStore: OpenStore, log: Log): Response {
  try {
    openStore().get(READINESS_PROBE_KEY);
  } catch (error) {
    // The detail (host names, driver messages) goes to the log, never to the caller.
    log(`readiness check failed: ${describeError(error)}`);
    return errorResponse(503, NOT_READY);
  }
  return bytesResponse(200, READY, { 'content-type': JSON_CONTENT_TYPE });
}
