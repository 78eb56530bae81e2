// A minimal sequential HTTP client on one keep-alive connection (node:http), for scenarios that
// need per-request control (a DELETE before every timed GET, header checks, a hung backend).
import http from 'node:http';

/**
 * A body that reaches the client at least this long after its head was held back on the way:
 * Spin's Nagle waiting for the client's delayed ACK (40 ms on Linux; see docs/spin-nagle.md).
 * Without that, head and body arrive together or well under a millisecond apart.
 */
export const HELD_BACK_MS = 20;

export function keepAliveAgent() {
  return new http.Agent({ keepAlive: true, maxSockets: 1 });
}

/**
 * @param {string} baseUrl
 * @param {{ method?: string, path?: string, headers?: Record<string, string>, agent?: http.Agent, timeoutMs?: number }} [options]
 * @returns {Promise<{ status: number, headers: http.IncomingHttpHeaders, body: Buffer, ms: number, bodyWaitMs: number }>}
 *   `bodyWaitMs`: from the parsed response head to the end of the body. Near 0 when head and body
 *   arrive together; about the client's delayed-ACK timer when the server's Nagle held the body back.
 */
export function request(baseUrl, { method = 'GET', path = '/items', headers, agent, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(new URL(path, baseUrl), { method, headers, agent }, (res) => {
      const head = performance.now();
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const end = performance.now();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: end - started, bodyWaitMs: end - head });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
