// A minimal sequential HTTP client on one keep-alive connection (node:http), for scenarios that
// need per-request control (a DELETE before every timed GET, header checks, a hung backend).
import http from 'node:http';

export function keepAliveAgent() {
  return new http.Agent({ keepAlive: true, maxSockets: 1 });
}

/**
 * @param {string} baseUrl
 * @param {{ method?: string, path?: string, agent?: http.Agent, timeoutMs?: number }} [options]
 * @returns {Promise<{ status: number, headers: http.IncomingHttpHeaders, body: Buffer, ms: number }>}
 */
export function request(baseUrl, { method = 'GET', path = '/items', agent, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(new URL(path, baseUrl), { method, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
