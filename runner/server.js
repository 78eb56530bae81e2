// Serves HTTP with node:http and hands each request to a fresh component instance, like Spin's
// HTTP trigger. Guest failures become 500s and oversize bodies 413s; nothing a client sends can
// take the runner down.
import http from 'node:http';
import { matchRoute } from './manifest.js';

const json = (status, error) => ({
  status,
  headers: [['content-type', 'application/json']],
  body: Buffer.from(JSON.stringify({ error })),
});

/**
 * @param {{
 *   routes: import('./manifest.js').HttpRoute[],
 *   componentFor: (route: import('./manifest.js').HttpRoute) => Awaited<ReturnType<typeof import('./component.js').loadComponent>>,
 *   maxBodyBytes: number,
 *   log: (line: string) => void,
 *   onTiming?: (timing: { instantiateMs: number, handleMs: number, preinstantiated: boolean }) => void,
 *   preinstantiate?: boolean,
 * }} options `preinstantiate` (default true): keep one spare instance per component, made
 *   while the server is idle, so a request pays instantiation only when requests arrive faster
 *   than spares can be made. Every request still gets a fresh, never-used instance (components
 *   of this SDK generation make no host call while being instantiated, so an instance made
 *   early is no different from one made on arrival).
 */
export function createServer({ routes, componentFor, maxBodyBytes, log, onTiming, preinstantiate = true }) {
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

  const server = http.createServer(async (req, res) => {
    let reply;
    try {
      const body = await readBody(req, maxBodyBytes);
      reply = body ? dispatch(req, body) : json(413, `request body exceeds ${maxBodyBytes} bytes`);
    } catch (error) {
      log(`request failed: ${error.message}`);
      reply = json(500, 'internal error');
    }
    send(req, res, reply);
  });

  function dispatch(req, body) {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const match = matchRoute(routes, url.pathname);
    if (!match) return json(404, 'no route matches this path');
    const { address, port } = /** @type {import('node:net').AddressInfo} */ (server.address());
    const authority = req.headers.host ?? `${address}:${port}`;
    const request = {
      method: req.method ?? 'GET',
      pathWithQuery: req.url ?? '/',
      authority,
      headers: [...pairs(req.rawHeaders), ...spinHeaders(req, match, authority)],
      body,
    };
    const component = componentFor(match.route);
    try {
      const started = performance.now();
      const spare = spares.get(component);
      spares.delete(component);
      const instance = spare ?? component.instantiate();
      const instantiated = performance.now();
      const response = component.handle(instance, request);
      onTiming?.({ instantiateMs: instantiated - started, handleMs: performance.now() - instantiated, preinstantiated: spare !== undefined });
      return response;
    } catch (error) {
      log(`component ${match.route.component.id} failed: ${error.message}`);
      return { status: 500, headers: [], body: Buffer.alloc(0) };
    } finally {
      scheduleSpare(component);
    }
  }

  server.on('listening', () => {
    for (const route of routes) {
      try {
        scheduleSpare(componentFor(route));
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

/** Resolves to the whole body, or null once it grows past the limit. */
function readBody(req, limit) {
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data').resume();
        resolve(null);
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** @returns {Array<[string, string]>} */
function pairs(raw) {
  /** @type {Array<[string, string]>} */
  const out = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i].toLowerCase(), raw[i + 1]]);
  return out;
}

/** The request headers Spin's HTTP trigger adds, so components can rely on them here too. */
/** @returns {Array<[string, string]>} */
function spinHeaders(req, match, authority) {
  const { route, basePath, pathInfo } = match;
  return [
    ['spin-full-url', `http://${authority}${req.url}`],
    ['spin-path-info', pathInfo],
    ['spin-matched-route', route.route],
    ['spin-base-path', basePath],
    ['spin-raw-component-route', route.route],
    ['spin-component-route', route.route.replace(/\/\.\.\.$/, '')],
    ['spin-client-addr', `${req.socket.remoteAddress}:${req.socket.remotePort}`],
  ];
}

function send(req, res, { status, headers, body }) {
  try {
    const grouped = new Map();
    for (const [name, value] of headers) {
      grouped.set(name, [...(grouped.get(name) ?? []), Buffer.from(value).toString('latin1')]);
    }
    for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0] : values);
    res.statusCode = status;
  } catch {
    // A header Node refuses (e.g. a control character) must not crash the runner.
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = 500;
    res.end();
    return;
  }
  res.end(req.method === 'HEAD' ? undefined : body);
}
