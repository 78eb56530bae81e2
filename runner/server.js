// Serves HTTP with node:http and hands each request to a fresh component instance, in the order
// Spin's HTTP trigger works (spin crates/trigger-http/src/server.rs `HttpServer::handle`):
// Spin's own /.well-known/spin/ paths, then the route, then the Host header, then the component.
// Nothing a client sends can take the runner down.
import http from 'node:http';
import { matchRoute } from './manifest.js';
import { requestAuthority, requestTarget } from './request-target.js';

const WELL_KNOWN = '/.well-known/spin/';

// Request headers wasmtime's wasi-http removes before the guest sees them
// (wasmtime crates/wasi-http/src/lib.rs DEFAULT_FORBIDDEN_HEADERS, p2/types.rs `new_incoming_request`).
export const FORBIDDEN_HEADERS = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const empty = (status) => ({ status, headers: [], body: Buffer.alloc(0) });

/**
 * @typedef {{ status: number, headers: Array<[string, Uint8Array | string]>, body: Uint8Array,
 *   aborted?: boolean }} Reply `aborted`: the guest broke its response off (wrong length,
 *   unfinished body); the status line, headers and body so far are sent, then the connection is cut
 */

/**
 * @param {{
 *   routes: import('./manifest.js').HttpRoute[],
 *   componentFor: (route: import('./manifest.js').HttpRoute) => Awaited<ReturnType<typeof import('./component.js').loadComponent>>
 *     | Awaited<ReturnType<typeof import('./guest-pool.js').createGuestPool>>,
 *   appInfo?: { name: string, version?: string },
 *   maxBodyBytes?: number | null,
 *   log: (line: string) => void,
 *   onTiming?: (timing: { instantiateMs: number, handleMs: number, preinstantiated: boolean }) => void,
 *   preinstantiate?: boolean,
 * }} options `componentFor` gives a component bound in this thread (run synchronously, one
 *   request at a time) or a guest pool (guest-pool.js: requests run concurrently, as under Spin).
 *   `maxBodyBytes`: answer 413 to larger bodies (null, the default: no limit, as Spin).
 *   `preinstantiate` (default true): keep one spare instance per component, made while the
 *   server is idle, so a request pays instantiation only when requests arrive faster than spares
 *   can be made. Every request still gets a fresh, never-used instance (components of this SDK
 *   generation make no host call while being instantiated, so an instance made early is no
 *   different from one made on arrival).
 */
export function createServer({ routes, componentFor, appInfo = { name: '' }, maxBodyBytes = null, log, onTiming, preinstantiate = true }) {
  /** @typedef {ReturnType<typeof componentFor>} Component */
  /** @type {Map<Component, ReturnType<Component['instantiate']>>} */
  const spares = new Map();
  /** @type {Map<Component, NodeJS.Immediate>} */
  const refills = new Map();
  /** Makes a spare for `component` once the current I/O callbacks (this response included) are done. */
  const scheduleSpare = (component) => {
    if (!preinstantiate || !component || spares.has(component) || refills.has(component)) return;
    refills.set(component, setImmediate(() => {
      refills.delete(component);
      try {
        spares.set(component, component.instantiate());
      } catch {
        // No spare: the next request instantiates inline and reports the failure itself.
      }
    }));
  };

  // Node would answer 400 itself to an HTTP/1.1 request without Host; Spin takes the authority
  // from an absolute-form target instead, or gives no response (see requestAuthority).
  const server = http.createServer({ requireHostHeader: false }, async (req, res) => {
    let reply;
    try {
      reply = await respond(req);
    } catch (error) {
      log(`request failed: ${error.message}`);
      reply = empty(500);
    }
    if (reply === null) {
      // Spin's answer to a request whose authority it cannot determine: none at all (the
      // service returns an error and hyper closes the connection).
      req.socket.destroy();
      return;
    }
    send(req, res, reply);
  });

  /** @returns {Promise<Reply | null>} */
  async function respond(req) {
    const target = requestTarget(req.url ?? '/');
    if (!target) return null;
    if (target.path.startsWith(WELL_KNOWN)) return wellKnown(target.path.slice(WELL_KNOWN.length));

    const match = matchRoute(routes, target.path);
    if (!match) return empty(404); // Spin's `not_found`: an empty 404

    const authority = requestAuthority(firstHost(req.rawHeaders), target.authority);
    if (authority === null) {
      log('request dropped without a response: missing or invalid Host header (as Spin does)');
      return null;
    }

    const body = await readBody(req, maxBodyBytes);
    if (!body) {
      return { status: 413, headers: [['content-type', 'application/json']],
        body: Buffer.from(JSON.stringify({ error: `request body exceeds ${maxBodyBytes} bytes` })) };
    }
    const headers = guestHeaders(req, match);
    // spin crates/trigger-http/src/headers.rs `prepare_request_headers`: a header value that
    // is not UTF-8 fails the request before the component runs.
    if (!headers) return empty(500);
    return dispatch(match, {
      method: req.method ?? 'GET',
      pathWithQuery: target.pathWithQuery,
      authority,
      headers,
      body,
    });
  }

  function wellKnown(name) {
    if (name === 'health') return { status: 200, headers: [], body: Buffer.from('OK') };
    if (name === 'info') {
      const info = { name: appInfo.name, ...(appInfo.version === undefined ? {} : { version: appInfo.version }) };
      return { status: 200, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(info, null, 2)) };
    }
    return empty(404);
  }

  /** @returns {Promise<Reply>} */
  async function dispatch(match, request) {
    const component = componentFor(match.route);
    if ('serve' in component) return serveOnPool(match, component, request);
    try {
      const started = performance.now();
      const spare = spares.get(component);
      spares.delete(component);
      const instance = spare ?? component.instantiate();
      const instantiated = performance.now();
      const response = component.handle(instance, request);
      onTiming?.({ instantiateMs: instantiated - started, handleMs: performance.now() - instantiated, preinstantiated: spare !== undefined });
      if (response.aborted) log(`component ${match.route.component.id}: ${response.aborted}; response aborted`);
      return { ...response, aborted: Boolean(response.aborted) };
    } catch (error) {
      log(`component ${match.route.component.id} failed: ${error.message}`);
      return empty(500);
    } finally {
      scheduleSpare(component);
    }
  }

  async function serveOnPool(match, component, request) {
    try {
      const response = await component.serve(request);
      if (response.aborted) log(`component ${match.route.component.id}: ${response.aborted}; response aborted`);
      return { ...response, aborted: Boolean(response.aborted) };
    } catch (error) {
      log(`component ${match.route.component.id} failed: ${error.message}`);
      return empty(500);
    }
  }

  server.on('listening', () => {
    for (const route of routes) {
      try {
        const component = componentFor(route);
        if ('instantiate' in component) scheduleSpare(component);
      } catch {
        // a route whose component cannot be had fails on its first request instead
      }
    }
  });
  server.on('close', () => {
    for (const immediate of refills.values()) clearImmediate(immediate);
    refills.clear();
    spares.clear();
  });
  server.on('clientError', (_error, socket) => socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n'));
  return server;
}

/** The first Host header (Spin reads the first of several), or undefined. @param {string[]} raw */
function firstHost(raw) {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'host') return raw[i + 1];
  return undefined;
}

/** Resolves to the whole body, or null once it grows past the limit (if any). */
function readBody(req, limit) {
  if (limit !== null && Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (limit !== null && size > limit) {
        req.removeAllListeners('data').resume();
        resolve(null);
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/**
 * The headers the guest sees: the client's, minus the forbidden ones, then the `spin-*` headers
 * (spin crates/trigger-http/src/headers.rs `compute_default_headers`). Null when a value is not
 * UTF-8. Node decodes header bytes as latin1, so `Buffer.from(value, 'latin1')` gives them back.
 * @returns {Array<[string, Uint8Array]> | null}
 */
function guestHeaders(req, match) {
  /** @type {Array<[string, Uint8Array]>} */
  const out = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const bytes = Buffer.from(raw[i + 1], 'latin1');
    try {
      utf8.decode(bytes);
    } catch {
      return null;
    }
    const name = raw[i].toLowerCase();
    if (!FORBIDDEN_HEADERS.has(name)) out.push([name, bytes]);
  }
  const host = firstHost(raw) ?? 'localhost';
  const { route, pathInfo } = match;
  const { remoteAddress = '', remotePort } = req.socket;
  const spin = [
    ['spin-path-info', pathInfo],
    ['spin-full-url', `http://${host}${requestTarget(req.url ?? '/')?.pathWithQuery ?? '/'}`],
    ['spin-matched-route', route.route],
    ['spin-base-path', '/'],
    ['spin-raw-component-route', route.route],
    ['spin-component-route', route.route.replace(/\/\.\.\.$/, '')],
    ['spin-client-addr', `${remoteAddress.includes(':') ? `[${remoteAddress}]` : remoteAddress}:${remotePort}`],
  ];
  for (const [name, value] of spin) out.push([name, Buffer.from(value, 'latin1')]);
  return out;
}

/** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res @param {Reply} reply */
function send(req, res, reply) {
  const { status, headers, body, aborted } = reply;
  try {
    const grouped = new Map();
    for (const [name, value] of headers) {
      grouped.set(name, [...(grouped.get(name) ?? []), Buffer.from(value).toString('latin1')]);
    }
    for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0] : values);
    res.statusCode = status;
  } catch {
    // A header Node refuses must not crash the runner (wasi-http's `fields` already refuses
    // what HTTP cannot carry, so this is a last line of defence).
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = 500;
    res.end();
    return;
  }
  if (aborted) {
    // What a client of Spin sees when the guest's body breaks off: the head, what was written,
    // then the connection closes without a complete body.
    res.flushHeaders();
    if (req.method !== 'HEAD' && body.length > 0) res.write(body, () => res.destroy());
    else setImmediate(() => res.destroy());
    return;
  }
  res.end(req.method === 'HEAD' ? undefined : body);
}
