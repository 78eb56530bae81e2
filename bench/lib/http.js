// The two HTTP clients of the bench: one request at a time (node:http, for per-request control and
// timing of head and body), and autocannon for load.
import http from 'node:http';
import autocannon from 'autocannon';

/** A body this long after its head was held back: Spin's Nagle meeting the client's delayed ACK (docs/spin-nagle.md). */
export const HELD_BACK_MS = 30;

export const keepAliveAgent = () => new http.Agent({ keepAlive: true, maxSockets: 1 });
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `bodyWaitMs`: from the parsed head to the end of the body (near 0 unless the body was held back). */
export function request(baseUrl, { method = 'GET', path = '/items', agent, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(new URL(path, baseUrl), { method, agent }, (res) => {
      const head = performance.now();
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const end = performance.now();
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), ms: end - started, bodyWaitMs: end - head });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export function percentile(xs, p) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
export const median = (xs) => percentile(xs, 50);

/** autocannon, with every response time (float ms) taken from its 'response' event: its histogram has whole ms. */
export async function runLoad({ url, connections, durationS, expectBody }) {
  const latencies = [];
  const started = performance.now();
  const instance = autocannon({ url, connections, duration: durationS, pipelining: 1, timeout: 10, ...(expectBody ? { expectBody } : {}) });
  instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  const r = await instance;
  return {
    rps: latencies.length / ((performance.now() - started) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    bad: r.errors + r.timeouts + (r.mismatches ?? 0) + r.non2xx,
  };
}
