// autocannon (programmatic API) with exact latencies: autocannon's own histogram records whole
// milliseconds, too coarse for 2–5 ms requests, so every response time (float ms from
// process.hrtime) is taken from its 'response' event instead.
//
// The first response on each connection is kept apart: while the runner is saturated by the
// connections that are already open, Node accepts and reads the newer ones late (the handler is
// synchronous), so at 32 connections the first response of some connections waits up to ~1 s.
// That is connection set-up under a burst, not the steady state, and it would otherwise be most
// of the p99 of a 2 s run; it is reported separately ("first response per connection").
import autocannon from 'autocannon';
import { treeMemory } from './hosts.js';
import { summarize } from './stats.js';

/**
 * @param {{ url: string, method?: string, connections: number, durationS: number, expectBody?: string,
 *   samplePid?: number }} options `samplePid`: a process whose VmRSS is sampled every 50 ms during the run
 */
export async function runLoad({ url, method = 'GET', connections, durationS, expectBody, samplePid }) {
  let rssMax = NaN;
  const sampler = samplePid
    ? setInterval(() => {
        const { rssMiB } = treeMemory(samplePid);
        if (!(rssMiB <= rssMax)) rssMax = rssMiB;
      }, 50)
    : null;
  const latencies = [];
  const firsts = [];
  const seen = new Set();
  const statuses = {};
  const started = performance.now();
  const instance = autocannon({
    url,
    method,
    connections,
    duration: durationS,
    pipelining: 1,
    timeout: 10,
    ...(expectBody === undefined ? {} : { expectBody }),
  });
  instance.on('response', (client, statusCode, _bytes, responseTime) => {
    if (seen.has(client)) latencies.push(responseTime);
    else {
      seen.add(client);
      firsts.push(responseTime);
    }
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  let result;
  try {
    result = await instance;
  } finally {
    if (sampler) clearInterval(sampler);
  }
  const elapsedS = (performance.now() - started) / 1000;
  return {
    connections,
    durationS: elapsedS,
    requests: latencies.length + firsts.length,
    rps: (latencies.length + firsts.length) / elapsedS,
    latency: summarize(latencies),
    firstResponse: summarize(firsts),
    allResponses: summarize([...latencies, ...firsts]),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches ?? 0,
    non2xx: result.non2xx,
    rssMaxMiB: rssMax,
  };
}
