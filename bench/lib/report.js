// Turns the bench's results object into bench/results.md and the console summary.
import { HOST_LABELS } from './hosts.js';
import { HELD_BACK_MS } from './http.js';
import { fmt, fmtRatio, spread } from './stats.js';

const MiB = 1024 * 1024;

// ------------------------------------------------------------------ tables

function mdTable(headers, rows, align = []) {
  const sep = headers.map((_, i) => (align[i] === 'l' ? ':--' : '--:'));
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(sep), ...rows.map(line)].join('\n');
}

function textTable(headers, rows, align = []) {
  const all = [headers, ...rows].map((r) => r.map((c) => String(c).replaceAll('`', '').replaceAll('**', '')));
  const widths = headers.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const pad = (c, i) => (align[i] === 'l' ? c.padEnd(widths[i]) : c.padStart(widths[i]));
  const out = all.map((r) => r.map(pad).join('  '));
  out.splice(1, 0, widths.map((w) => '─'.repeat(w)).join('  '));
  return out.join('\n');
}

const ms = (v) => fmt(v, 2);
const range = (s, f = fmt) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

// ------------------------------------------------------------------ derived figures

/** Summary of repeated autocannon runs of one arm. */
function armSummary(runs) {
  return {
    rps: spread(runs.map((r) => r.rps)),
    p50: spread(runs.map((r) => r.latency.p50)),
    p90: spread(runs.map((r) => r.latency.p90)),
    p99: spread(runs.map((r) => r.latency.p99)),
    requests: runs.reduce((s, r) => s + r.requests, 0),
    firstMax: Math.max(...runs.map((r) => r.firstResponse.max)),
    allP99: spread(runs.map((r) => r.allResponses.p99)),
    rssMax: Math.max(...runs.map((r) => r.rssMaxMiB).filter(Number.isFinite)),
    errors: runs.reduce((s, r) => s + r.errors + r.timeouts + r.mismatches + r.non2xx, 0),
  };
}

const hostLabel = (host) => HOST_LABELS[host] ?? host;
/** `spin:sqlite-hit` → `Spin sqlite hit` */
const armLabel = (armKey) => {
  const [host, arm] = armKey.split(':');
  return `${hostLabel(host)} ${arm.replace('-', ' ')}`;
};

/** Hit path ÷ baseline per host and concurrency level, from the alternating runs. */
export function hitRatios(results) {
  return results.load.hit.flatMap(({ connections, runs }) => results.hosts.map((host) => {
    const base = runs[`${host}:baseline`];
    const rows = results.backends.map((b) => {
      const hit = runs[`${host}:${b}-hit`];
      const pairs = hit.map((r, i) => r.rps / base[i].rps);
      const p50Pairs = hit.map((r, i) => r.latency.p50 / base[i].latency.p50);
      const p99Pairs = hit.map((r, i) => r.latency.p99 / base[i].latency.p99);
      return {
        backend: b,
        throughput: spread(pairs),
        p50: spread(p50Pairs),
        p99: spread(p99Pairs),
        hit: armSummary(hit),
      };
    });
    return { host, connections, baseline: armSummary(base), rows };
  }));
}

/**
 * Spin ÷ runner per arm and concurrency level: the two hosts' runs of the same arm in the same
 * repeat (the alternation keeps them minutes apart at most).
 */
export function hostRatios(results) {
  if (!results.hosts.includes('spin') || !results.hosts.includes('runner')) return [];
  const arms = ['baseline', ...results.backends.map((b) => `${b}-hit`)];
  return results.load.hit.flatMap(({ connections, runs }) => arms.map((arm) => {
    const spin = runs[`spin:${arm}`];
    const runner = runs[`runner:${arm}`];
    return {
      connections,
      arm,
      spin: armSummary(spin),
      runner: armSummary(runner),
      throughput: spread(spin.map((r, i) => r.rps / runner[i].rps)),
      p50: spread(spin.map((r, i) => r.latency.p50 / runner[i].latency.p50)),
    };
  }));
}

/** Peak RSS of each host's process tree over the whole run, and its current RSS after the load. */
function memoryRows(results) {
  return Object.keys(results.memory.before).map((k) => ({
    key: k,
    startupMs: results.startupMs[k],
    before: results.memory.before[k],
    after: results.memory.after[k],
  }));
}

/** Sequential result of one host and scenario name, if measured. */
const seq = (results, host, name) => results.sequential.find((s) => s.host === host && s.name === name);

const OPS = ['get', 'set', 'del', 'exists'];

function opsRow(perRequest) {
  const known = OPS;
  const others = Object.entries(perRequest).filter(([k]) => !known.includes(k));
  const v = (k) => fmt(perRequest[k] ?? 0, 2);
  const total = Object.values(perRequest).reduce((s, n) => s + n, 0);
  return [...known.map(v), others.length ? others.map(([k, n]) => `${k} ${fmt(n, 2)}`).join(', ') : '0', fmt(total, 2)];
}

function costRows(results) {
  const rows = [];
  for (const [backend, probe] of Object.entries(results.cost)) {
    for (const [scenario, r] of Object.entries(probe.results)) {
      const share = r.instantiate.mean / (r.instantiate.mean + r.handle.mean);
      rows.push({ backend, scenario, r, share });
    }
  }
  return rows;
}

function hungSummary(hung) {
  const slowLimit = (Number.isFinite(hung.kvTimeoutMs) ? hung.kvTimeoutMs : 250) * 0.8;
  const during = hung.events.filter((e) => e.phase === 'hung' && e.method === 'GET');
  const cool = hung.events.filter((e) => e.phase === 'hung, after cool-off');
  const resumed = hung.events.filter((e) => e.phase === 'resumed');
  const del = hung.events.find((e) => e.phase === 'hung' && e.method === 'DELETE');
  const getStatuses = [...new Set(hung.events.filter((e) => e.method === 'GET').map((e) => e.status))];
  return {
    slowWhileHung: during.filter((e) => e.ms >= slowLimit).length,
    fastWhileHung: during.filter((e) => e.ms < slowLimit).length,
    fastMs: spread(during.filter((e) => e.ms < slowLimit).map((e) => e.ms)),
    slowMs: spread(during.filter((e) => e.ms >= slowLimit).map((e) => e.ms)),
    coolOffFirst: cool[0],
    coolOffSlow: cool.filter((e) => e.ms >= slowLimit).length,
    del,
    getStatuses,
    recoveredAfterMs: hung.recoveredAfterMs,
    resumedRequests: resumed.length,
  };
}

// ------------------------------------------------------------------ markdown

export function renderMarkdown(results, { svgName }) {
  const m = results.machine;
  const o = results.options;
  const out = [];
  const p = (...lines) => out.push(...lines, '');

  const onSpin = results.hosts.includes('spin');
  p('# Benchmark results: cache-with-az-redis');
  p(
    onSpin
      ? `> **Host measured: Spin** (\`${m.spin}\`, \`spin up\` through \`SPIN_BIN\`), with the runner (\`node runner/cli.js\`) beside it in the same run.`
      : '> **Host measured: the runner** (`node runner/cli.js`) only: `SPIN_BIN` was not set. Set it to a `spin` binary to measure real Spin.',
    `> **Measured on this machine** (${m.cpu}, ${m.cores} cores, ${fmt(m.memoryGiB, 1)} GiB, ${m.os}), ${m.date.slice(0, 10)}.`,
    '> Loopback only; absolute figures depend on the machine and on what else runs on it. Compare',
    '> ratios measured in the same run rather than absolute numbers across machines.',
    `> Regenerate with \`SPIN_BIN=/path/to/spin npm run bench\` (${fmt(results.totalS / 60, 1)} minutes on this machine; \`npm run bench -- --help\` for the flags).`,
  );

  p('## Machine');
  p(mdTable(['', ''], [
    ['CPU', `${m.cpu} (${m.cores} cores available)`],
    ['Memory', `${fmt(m.memoryGiB, 1)} GiB`],
    ['OS', m.os],
    ['Hosts', results.hosts.map(hostLabel).join(', ')],
    ['Spin', m.spin ?? 'not measured (SPIN_BIN unset)'],
    ['Node', m.node],
    ['redis-server', m.redis],
    ['Date', m.date],
    ['Commit', m.commit],
    ['Command', `\`${results.command}\``],
    ['Settings', `${o.durationS} s per autocannon run, connections ${o.connections.join(', ')}, ${o.repeats} alternating repeats, ${o.requests} sequential requests and ${o.iterations} in-process requests per scenario`],
    ['Load average (1/5/15 min)', `start ${m.loadAvgStart.map((v) => v.toFixed(2)).join(' / ')}, end ${m.loadAvgEnd.map((v) => v.toFixed(2)).join(' / ')}`],
    ['CPU used by other processes during the run', m.otherCpu && Number.isFinite(m.otherCpu.otherCoreSeconds) ? `${fmt(m.otherCpu.otherCoreSeconds, 1)} core-seconds (${fmt(m.otherCpu.shareOfMachine * 100, 0)} % of the machine over ${fmt(m.otherCpu.wallS, 0)} s)` : 'n/a'],
    ['Bench duration', `${fmt(results.totalS, 0)} s`],
  ], ['l', 'l']));
  if (results.redisSkipped) p(`**Redis was skipped**: ${results.redisSkipped}. Only the SQLite (default store) figures below were measured.`);

  // ---------------- summary
  const ratios = hitRatios(results);
  const costs = costRows(results);
  p('## Summary');
  const bullets = [];
  for (const host of results.hosts) {
    const line = (name) => {
      const r = seq(results, host, name);
      return r ? `${name} p50 **${ms(r.latency.p50)} ms** (body held back ≥ ${HELD_BACK_MS} ms in ${r.heldBack} of ${r.latency.n})` : null;
    };
    const parts = ['sqlite hit', ...(results.backends.includes('redis') ? ['redis hit'] : []), 'GET /healthz', 'baseline (no store)'].map(line).filter(Boolean);
    const why = host === 'spin' ? ' Why a SQLite response on Spin waits ~40 ms: [docs/spin-nagle.md](../docs/spin-nagle.md).' : '';
    bullets.push(`Kept-alive latency on ${hostLabel(host)}, one connection, one request at a time: ${parts.join('; ')}.${why}`);
  }
  if (results.redisOps) {
    const f = (pr) => Object.entries(pr).map(([k, v]) => `${fmt(v, 2)} ${k.toUpperCase()}`).join(' + ') || 'none';
    for (const host of results.hosts) {
      const r = results.redisOps[host];
      bullets.push(`Redis commands per request on ${hostLabel(host)} (measured, INFO commandstats): hit ${f(r.hit.perRequest)}; miss ${f(r.miss.perRequest)}; DELETE ${f(r.delete.perRequest)}.`);
    }
  }
  for (const r of hostRatios(results)) {
    if (r.arm !== 'sqlite-hit' && r.arm !== 'redis-hit') continue;
    bullets.push(`GET /items ${r.arm.replace('-', ' ')} at ${r.connections} connection${r.connections > 1 ? 's' : ''}: Spin ${fmt(r.spin.rps.median, 0)} req/s vs runner ${fmt(r.runner.rps.median, 0)} req/s, Spin ÷ runner ${range(r.throughput, fmtRatio)}.`);
  }
  for (const level of ratios) {
    const parts = level.rows.map((r) => `${r.backend} ${fmtRatio(r.throughput.median)} (${fmtRatio(r.throughput.min)}–${fmtRatio(r.throughput.max)})`);
    bullets.push(`${hostLabel(level.host)}: hit throughput ÷ baseline at ${level.connections} connection${level.connections > 1 ? 's' : ''}: ${parts.join(', ')}; baseline ${fmt(level.baseline.rps.median, 0)} req/s.`);
  }
  for (const host of results.hosts) {
    const mem = memoryRows(results).filter((r) => r.key.startsWith(`${host}:`));
    bullets.push(`Peak RSS of the ${hostLabel(host)} processes (VmHWM${host === 'spin' ? ' of `spin up` plus its `spin trigger http` child' : ''}): ${mem.map((r) => `${r.key.split(':')[1]} ${fmt(r.after.hwmMiB, 0)} MiB`).join(', ')}.`);
  }
  for (const row of costs.filter((c) => c.scenario === 'hit' || c.scenario === 'baseline')) {
    bullets.push(`Inside the runner (not Spin), ${row.backend === 'baseline' ? 'baseline component' : `app on ${row.backend}, hit`}: instantiate ${ms(row.r.instantiate.p50)} ms, handle ${ms(row.r.handle.p50)} ms (medians); instantiation is ${fmt(row.share * 100, 0)} % of the mean per-request cost.`);
  }
  if (results.hung) {
    const h = hungSummary(results.hung);
    bullets.push(`Hung Redis (SIGSTOP), runner with \`--kv-timeout ${results.hung.kvTimeoutMs}\` only (Spin and the default runner wait for Redis): ${h.slowWhileHung} GET(s) paid the ${results.hung.kvTimeoutMs} ms operation timeout, the next ${h.fastWhileHung} answered in ${ms(h.fastMs.median)} ms from the catalog; GET status codes seen: ${h.getStatuses.join(', ')}; caching resumed ${h.recoveredAfterMs === null ? 'NOT within 15 s' : `${fmt(h.recoveredAfterMs / 1000, 1)} s`} after SIGCONT.`);
  }
  if (results.preinstantiate) {
    const gap = results.preinstantiate.rows.find((r) => r.pattern === 'idle 10 ms');
    const c8 = results.preinstantiate.rows.find((r) => r.pattern === 'c=8');
    bullets.push(`Runner only, change made in runner/server.js (a spare instance made while idle): SQLite hit with 10 ms idle gaps p50 ${ms(gap.off.p50)} → ${ms(gap.on.p50)} ms, p99 ${ms(gap.off.p99)} → ${ms(gap.on.p99)} ms; throughput at 8 connections ${fmt(c8.off.rps.median, 0)} → ${fmt(c8.on.rps.median, 0)} req/s (unchanged within noise is the expectation: the same work is done).`);
  }
  bullets.push(`Component size: ${fmt(results.sizes.app / MiB, 2)} MiB vs baseline ${fmt(results.sizes.baseline / MiB, 2)} MiB (+${fmt((results.sizes.app - results.sizes.baseline) / 1024, 0)} KiB).`);
  if (results.build) bullets.push(`Build: ${fmt(results.build.totalMs / 1000, 1)} s${results.build.reused ? ` (measured ${results.build.measuredAt.slice(0, 16).replace('T', ' ')} UTC, reused with --skip-build)` : ''}.`);
  p(bullets.map((b) => `- ${b}`).join('\n'));

  // ---------------- KV ops
  if (results.redisOps) {
    p('## Key-value operations per request (Redis)');
    p(
      `Exact command counts from \`INFO commandstats\` deltas of the bench's own redis-server (one per host), ${results.redisOps[results.hosts[0]].hit.n} requests per`,
      `scenario, divided by ${results.redisOps[results.hosts[0]].hit.n} (the bench's own \`INFO\` calls are excluded). For the miss, the bench deletes the`,
      'key with its own client *before* the first snapshot of each request, so that `DEL` is not counted.',
      '"others" lists any other command seen in the window (e.g. `MULTI`/`EXEC` or `PING`), so nothing is hidden.',
      'Spin sends a `PING` each time a request opens the store; the counts below show what each host sent.',
    );
    const rows = results.hosts.flatMap((host) => ['hit', 'miss', 'delete'].map((s) => {
      const r = results.redisOps[host][s];
      return [hostLabel(host), `${s === 'delete' ? 'DELETE /cache' : `GET /items (${s})`}, measured`, ...opsRow(r.perRequest), r.wrong ? `**${r.wrong} wrong**` : 'ok'];
    }));
    rows.push(['—', 'GET /items (hit), tutorial pattern (computed, not measured)', ...opsRow({ exists: 1, get: 1 }), '—']);
    rows.push(['—', 'GET /items (miss), tutorial pattern (computed, not measured)', ...opsRow({ exists: 1, set: 1 }), '—']);
    p(mdTable(['host', 'scenario', 'GET', 'SET', 'DEL', 'EXISTS', 'others', 'total', 'responses'], rows, ['l', 'l']));
    const host = costs.filter((c) => c.scenario !== 'baseline');
    if (host.length) {
      p('Host key-value calls made by the component (counted in-process by the runner\'s cost probe, per request, both backends):');
      p(mdTable(['backend', 'scenario', 'get', 'set', 'delete', 'exists', 'get-keys'], host.map(({ backend, scenario, r }) => {
        const c = r.kvCallsPerRequest;
        return [backend, scenario, ...['get', 'set', 'delete', 'exists', 'getKeys'].map((k) => fmt(c[k] ?? 0, 2))];
      }), ['l', 'l']));
    }
  }

  // ---------------- hit vs baseline
  p('## Hit path vs baseline (autocannon, alternating runs)');
  p(
    `GET /items with a warm cache against the baseline component (same 178-byte body and headers, no store) on the same host, ${o.repeats} runs of`,
    `${o.durationS} s each per arm and concurrency level, alternating every arm of every host (baseline / SQLite hit / Redis hit) with the order rotated every`,
    'repeat. Ratios are per pair of runs of the same repeat: median (min–max). Throughput ratio < 1 and latency ratio > 1 mean',
    'the app is slower than the baseline. Latencies exclude the first response on each connection (see the section after next).',
  );
  const ratioRows = [];
  for (const level of ratios) {
    for (const r of level.rows) {
      ratioRows.push([hostLabel(level.host), String(level.connections), r.backend, `${fmt(r.hit.rps.median, 0)} / ${fmt(level.baseline.rps.median, 0)}`, range(r.throughput, fmtRatio), range(r.p50, fmtRatio), range(r.p99, fmtRatio)]);
    }
  }
  p(mdTable(['host', 'connections', 'store', 'req/s hit / baseline', 'throughput ÷ baseline', 'p50 latency ratio', 'p99 latency ratio'], ratioRows, ['l', 'r', 'l']));

  const hr = hostRatios(results);
  if (hr.length) {
    p('## Spin vs the runner (same run)');
    p(
      'The same arms as above on both hosts, alternating in one run: Spin ÷ runner per pair of runs of the same repeat,',
      'median (min–max). Throughput ratio > 1 means Spin serves more requests per second; p50 ratio > 1 means Spin answers',
      'slower at the median. At one connection, a Spin arm whose responses are held back (the "body held back" column',
      'below, docs/spin-nagle.md) is bounded by the client\'s delayed ACK, not by work.',
    );
    p(mdTable(['connections', 'arm', 'Spin req/s', 'runner req/s', 'throughput Spin ÷ runner', 'Spin p50 ms', 'runner p50 ms', 'p50 Spin ÷ runner'], hr.map((r) => [
      String(r.connections), r.arm.replace('-', ' '), fmt(r.spin.rps.median, 0), fmt(r.runner.rps.median, 0), range(r.throughput, fmtRatio), ms(r.spin.p50.median), ms(r.runner.p50.median), range(r.p50, fmtRatio),
    ]), ['r', 'l']));
  }

  // ---------------- load table
  p('## Throughput and latency under load (autocannon)');
  p(
    'Latency percentiles are exact (every response time is recorded, not autocannon\'s whole-millisecond histogram)',
    'and exclude the first response on each connection, which is shown apart: autocannon opens all connections at',
    'once, and while a host is saturated by the first ones it accepts and reads the later ones late (on the runner',
    'the request handler is synchronous), so at high concurrency a first response can wait up to about a second.',
    'For the repeated GET runs: median across repeats, (min–max) for req/s and p99. DELETE /cache: one run per level.',
    '"errors" counts connection errors, timeouts, non-2xx answers and body mismatches (must be 0). "host RSS max" is',
    'the highest VmRSS of the host (for Spin: `spin up` plus its `spin trigger http` child) sampled every 50 ms during the run(s).',
  );
  const loadRows = [];
  for (const { connections, runs } of results.load.hit) {
    for (const [key, rs] of Object.entries(runs)) {
      const s = armSummary(rs);
      loadRows.push([`GET /items ${armLabel(key)}`, String(connections), range(s.rps, (v) => fmt(v, 0)), ms(s.p50.median), ms(s.p90.median), range(s.p99, ms), ms(s.allP99.median), ms(s.firstMax), fmt(s.rssMax, 0), String(s.requests), String(s.errors)]);
    }
  }
  for (const { connections, runs } of results.load.delete) {
    for (const [key, rs] of Object.entries(runs)) {
      const s = armSummary(rs);
      loadRows.push([`DELETE /cache ${armLabel(key.replace('-delete', ''))}`, String(connections), fmt(s.rps.median, 0), ms(s.p50.median), ms(s.p90.median), ms(s.p99.median), ms(s.allP99.median), ms(s.firstMax), fmt(s.rssMax, 0), String(s.requests), String(s.errors)]);
    }
  }
  p(mdTable(['scenario', 'conn.', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99 incl. first ms', 'first response per connection, max ms', 'host RSS max MiB', 'requests', 'errors'], loadRows, ['l']));
  p(
    'A cache miss cannot be driven by autocannon honestly (every request would need the key deleted right before',
    'it, and concurrent DELETEs would turn other connections\' misses into hits), so misses are measured',
    'sequentially below.',
  );

  // ---------------- sequential latency + chart
  p('## Latency by scenario (sequential, one keep-alive connection)');
  p(
    `![Latency by scenario: p50 and p99](${svgName})`,
  );
  p(
    `${o.requests} timed requests per scenario, one at a time over one keep-alive connection (node:http), scenarios interleaved in`,
    `${Math.max(1, Math.min(o.repeats, o.requests))} rounds, after 20 untimed warm-up requests. **Miss**: each timed GET follows an untimed DELETE /cache on the`,
    'same connection, and every timed GET must answer `x-served-from-cache: false` (the "wrong" column counts those',
    'that did not; hits must answer `true`).',
    `"body held back" counts responses whose body arrived ${HELD_BACK_MS} ms or more after their head: the server sent the head in`,
    'one TCP segment and Nagle held the body until the client\'s delayed ACK (see docs/spin-nagle.md).',
  );
  p(mdTable(['scenario', 'n', 'min ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'body held back', 'wrong'], results.sequential.map((s) => [
    s.label, String(s.latency.n), ms(s.latency.min), ms(s.latency.p50), ms(s.latency.p90), ms(s.latency.p99), ms(s.latency.max), String(s.heldBack), String(s.wrong),
  ]), ['l']));

  // ---------------- cost inside the runner
  p('## Per-request cost inside the runner (not Spin): instantiate vs handle');
  p(
    'In-process, in a child process of the bench: the runner\'s own `loadComponent` + `hostImports` + a real',
    '`KvRegistry` backend (SQLite file / the bench\'s redis-server), a fresh instance per request as the server does,',
    'yielding to the event loop between requests. `instantiate` = `component.instantiate()`, `handle` =',
    '`component.handle()` (guest code + host calls, incl. the store round trip). GC = V8 pauses seen by a',
    '`PerformanceObserver` during the timed window.',
  );
  p(mdTable(['component', 'scenario', 'n', 'instantiate p50 / p90 / p99 ms', 'handle p50 / p90 / p99 ms', 'total p50 / p99 ms', 'instantiate share of mean', 'GC pauses per 100 req (major)', 'GC ms per req'], costs.map(({ backend, scenario, r, share }) => [
    backend === 'baseline' ? 'baseline' : `app, ${backend}`,
    scenario,
    String(r.iterations),
    `${ms(r.instantiate.p50)} / ${ms(r.instantiate.p90)} / ${ms(r.instantiate.p99)}`,
    `${ms(r.handle.p50)} / ${ms(r.handle.p90)} / ${ms(r.handle.p99)}`,
    `${ms(r.total.p50)} / ${ms(r.total.p99)}`,
    `${fmt(share * 100, 0)} %`,
    `${fmt((r.gc.count / r.iterations) * 100, 0)} (${fmt((r.gc.major / r.iterations) * 100, 0)})`,
    ms(r.gc.totalMs / r.iterations),
  ]), ['l', 'l']));
  {
    const app = costs.find((c) => c.scenario === 'hit') ?? costs[0];
    const core = results.core?.app;
    if (app && core) {
      p(
        `Reading it: instantiation costs about the same for every scenario and for the baseline (${ms(app.r.instantiate.p50)} ms median here), because`,
        `it is the engine being set up (${fmt(core.initialMemoryBytes / MiB, 1)} MiB of linear memory, ${core.dataSegments} data segments); the app's own work and the store`,
        'round trip are in `handle`. The instantiate tail (p90/p99) comes with the GC pauses: every discarded instance leaves its',
        `linear memory to the garbage collector, and a major GC ran about every ${fmt(app.r.iterations / Math.max(1, app.r.gc.major), 0)} requests here.`,
      );
    }
  }
  const wrongCost = costs.filter((c) => c.r.wrongResponses);
  if (wrongCost.length) p(`**Unexpected responses in the probe**: ${wrongCost.map((c) => `${c.backend} ${c.scenario}: ${c.r.wrongResponses} (${JSON.stringify(c.r.wrongExamples)})`).join('; ')}`);

  // ---------------- pre-instantiation
  if (results.preinstantiate) {
    const pi = results.preinstantiate;
    p('## Runner only: a spare instance made while the runner is idle (before/after)');
    const core = results.core?.app;
    const what = core ? ` (the engine's ${fmt(core.initialMemoryBytes / MiB, 1)} MiB initial linear memory and its ${core.dataSegments} data segments, ${fmt(core.dataBytes / MiB, 1)} MiB, are set up for every instance)` : '';
    p(
      `The cost table above shows that instantiating the component is most of the per-request work${what}, and all of it sat on the`,
      'request\'s critical path. `runner/server.js` now keeps one spare instance per component, made with',
      '`setImmediate` after each response (and at start-up); a request takes the spare if there is one, else',
      'instantiates inline as before. Every request still gets a fresh, never-used instance. The CPU work is',
      'the same, so throughput at saturation should not change; latency drops whenever the runner has idle time',
      'between requests.',
    );
    p(
      `Measured here with the same server code in-process (\`bench/lib/server-variant.js\`), \`preinstantiate: false\``,
      `(before) vs \`true\` (after), SQLite store, warm cache, alternating, ${pi.reps} repeat(s): ${pi.sequentialN} back-to-back`,
      `sequential GETs, ${pi.gapN} sequential GETs with 10 ms of idle time before each, and autocannon runs of ${o.durationS} s.`,
      '"served by a spare" is from `onTiming`.',
    );
    const rowsPi = [];
    for (const r of pi.rows) {
      for (const mode of ['off', 'on']) {
        const v = r[mode];
        rowsPi.push([
          r.pattern,
          mode === 'off' ? 'before' : '**after**',
          ms(v.p50), ms(v.p90), ms(v.p99),
          v.rps ? range(v.rps, (x) => fmt(x, 0)) : '—',
          `${fmt(v.spareShare * 100, 0)} %`,
          String(v.wrong),
        ]);
      }
    }
    p(mdTable(['pattern', '', 'p50 ms', 'p90 ms', 'p99 ms', 'req/s', 'served by a spare', 'errors'], rowsPi, ['l', 'l']));
  }

  // ---------------- hung redis
  if (results.hung) {
    const h = results.hung;
    const s = hungSummary(h);
    p(`## Hung Redis (SIGSTOP / SIGCONT), runner with --kv-timeout ${h.kvTimeoutMs} only`);
    p(
      'Under Spin, and under the runner by default, a paused Redis stalls the requests that use it until it resumes. The runner',
      `has an opt-in protective mode, timed here: \`--kv-timeout ${h.kvTimeoutMs}\` (${h.kvTimeoutMs} ms per operation), breaker opens after ${h.breaker.threshold}`,
      `consecutive failures for ${h.breaker.coolOffMs} ms, then lets one trial through. The bench SIGSTOPs its redis-server (the`,
      `kernel still accepts connections, nothing is answered), sends sequential requests, waits ${fmt(h.waitedMs / 1000, 1)} s (the cool-off + 0.3 s), sends three more,`,
      'then SIGCONTs it and sends a GET every 100 ms until one is served from the cache again.',
    );
    p(
      'A request that does not pay the timeout fails fast inside the runner: either the breaker is open, or the backend has',
      'dropped the stalled connection and is reconnecting (a stopped server still accepts the TCP connection but never',
      'answers the handshake), and operations fail at once while it is not connected. The runner log below shows which.',
      'After SIGCONT, recovery is bounded by the breaker: once the connection is back, the first request the breaker lets',
      'through (at the end of the current cool-off) succeeds and closes it.',
    );
    p(
      `- While hung: ${s.slowWhileHung} GET(s) paid the timeout (${ms(s.slowMs.min)}–${ms(s.slowMs.max)} ms), ${s.fastWhileHung} answered fast (${ms(s.fastMs.min)}–${ms(s.fastMs.max)} ms) from the catalog.`,
      `- DELETE /cache while hung: ${s.del ? `${s.del.status} in ${ms(s.del.ms)} ms` : 'n/a'} (a clear must not pretend to have worked).`,
      `- After the cool-off: first GET ${s.coolOffFirst ? `${ms(s.coolOffFirst.ms)} ms (${s.coolOffFirst.status})` : 'n/a'}; ${s.coolOffSlow} of 3 paid the timeout.`,
      `- After SIGCONT: served from the cache again after ${s.recoveredAfterMs === null ? '**more than 15 s (not recovered)**' : `${fmt(s.recoveredAfterMs / 1000, 2)} s`}.`,
      `- GET status codes: ${s.getStatuses.join(', ')} (must all be 200).`,
    );
    p(mdTable(['phase', 'request', 't since SIGSTOP ms', 'latency ms', 'status', 'x-served-from-cache'], h.events.map((e) => [
      e.phase, `${e.method} ${e.path}`, e.phase === 'before' ? '—' : fmt(e.atMs, 0), ms(e.ms), String(e.status), e.fromCache ?? '—',
    ]), ['l', 'l']));
    if (h.log.length) p('Runner log during this phase:', '', '```', ...h.log.slice(0, 20), '```');
  }

  // ---------------- sizes, build, memory
  p('## Component size and build time');
  const rowsSize = [
    ['app (dist/cache-with-az-redis.wasm)', String(results.sizes.app), fmt(results.sizes.app / MiB, 2)],
    ['baseline (bench/fixtures/baseline.js, same toolchain)', String(results.sizes.baseline), fmt(results.sizes.baseline / MiB, 2)],
    ['difference', `+${results.sizes.app - results.sizes.baseline}`, `+${fmt((results.sizes.app - results.sizes.baseline) / MiB, 3)}`],
  ];
  p(mdTable(['component', 'bytes', 'MiB'], rowsSize, ['l']));
  if (results.core?.app && results.core?.baseline) {
    const c = results.core;
    p(
      'Almost all of it is the StarlingMonkey engine. What every fresh instance sets up (largest core module of the',
      'runner\'s jco translation):',
    );
    p(mdTable(['component', 'core modules', 'code section MiB', 'initial linear memory MiB', 'data segments', 'data MiB'], [['app', c.app], ['baseline', c.baseline]].map(([n, i]) => [
      n, String(i.coreModules), fmt(i.codeBytes / MiB, 2), fmt(i.initialMemoryBytes / MiB, 2), String(i.dataSegments), fmt(i.dataBytes / MiB, 2),
    ]), ['l']));
  }
  if (results.build) {
    const b = results.build;
    const steps = b.steps ? ` (knitwit ${fmt(b.steps.knitwit / 1000, 1)} s, webpack ${fmt(b.steps.webpack / 1000, 1)} s, j2w ${fmt(b.steps.j2w / 1000, 1)} s)` : '';
    p(
      `Build: **${fmt(b.totalMs / 1000, 1)} s**${steps}, the three steps of \`npm run build\` run with their outputs redirected to`,
      `\`bench/work/timed-build/\` (so build/ and dist/ are not rewritten while in use)${b.reused ? `; measured ${b.measuredAt} and reused because of --skip-build` : ', measured in this run'}.`,
      b.sizeBytes ? `That build produced ${b.sizeBytes} bytes (componentize-js output is not byte-for-byte reproducible).` : '',
    );
  } else {
    p('Build time: not measured (run once without --skip-build).');
  }
  const translated = (results.translation ?? []).filter((t) => !t.cached);
  if (translated.length) p(`First start after a build: the runner translated ${translated.map((t) => `${t.wasm} in ${fmt(t.ms / 1000, 1)} s`).join(' and ')} with jco (cached afterwards; done before the runners were started, so it is not in their start-up figures).`);
  if (results.baselineBuild.built) p(`The baseline component was (re)built in this run in ${fmt(results.baselineBuild.buildMs / 1000, 1)} s; it is cached in bench/work/ afterwards.`);

  p('## Host memory and start-up (VmRSS / VmHWM from /proc/<pid>/status)');
  p(
    '"before" = after start-up and the sanity checks; "after" = after all load runs; peak = VmHWM (the highest RSS',
    'so far). For Spin the figures add up `spin up` and the `spin trigger http` process it starts (the peak is the sum',
    'of each process\'s own peak, an upper bound). The runner\'s peak is reached under load: every request leaves a',
    'whole instance, linear memory included, to its garbage collector. Start-up is from spawn to `Serving http://…`',
    '(Spin\'s includes loading the compiled component from its cache). Before these servers, the bench started and',
    'stopped each component once on each host, so that one-off work (Spin compiling a component it has not cached,',
    `the runner filling its caches) is not in these figures; those first starts took ${Object.entries(results.firstStartMs ?? {}).map(([k, v]) => `${armLabel(k)} ${fmt(v, 0)} ms`).join(', ') || 'n/a'}.`,
  );
  p(mdTable(['server', 'start-up ms', 'RSS before MiB', 'peak before load MiB', 'RSS after MiB', 'peak after load MiB'], memoryRows(results).map((r) => [
    armLabel(r.key), fmt(r.startupMs, 0), fmt(r.before.rssMiB, 0), fmt(r.before.hwmMiB, 0), fmt(r.after.rssMiB, 0), fmt(r.after.hwmMiB, 0),
  ]), ['l']));

  p('## How it is measured');
  p([
    '- Everything runs on 127.0.0.1. Spin is `$SPIN_BIN up --listen 127.0.0.1:0`, the runner `node runner/cli.js --listen 127.0.0.1:0`, each in its own throw-away app dir under `bench/work/` (a copy of spin.toml, a symlink to the real `dist/`), so the default SQLite store is `<app dir>/.spin/sqlite_key_value.db` and the user\'s `.spin/` is untouched. The Redis servers get a runtime config (`--runtime-config-file`) pointing at a redis-server the bench starts for that host on a free port (`--save \'\' --appendonly no`, temp dir) and stops at the end.',
    '- The baseline is `bench/fixtures/baseline.js` built with `j2w -d build/wit/knitwit -n combined` (same componentize-js, same StarlingMonkey engine), served by the same host through a manifest without stores.',
    '- Load: autocannon 8 (programmatic), one pipelined request per connection, in the bench process. On this 2-core machine the load generator, the host and redis-server share the cores, so absolute req/s is a lower bound; the ratios are measured under identical conditions.',
    '- Every figure comes from this run; nothing is carried over except the build time with --skip-build (labelled).',
    '- Cleanup: every child (runners, redis-server, build steps, probes) runs in its own process group and is killed on exit, on error and on SIGINT/SIGTERM (a stopped redis-server gets SIGCONT first).',
  ].join('\n'));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

// ------------------------------------------------------------------ console

export function renderConsole(results) {
  const out = [];
  const p = (...lines) => out.push(...lines, '');
  const m = results.machine;
  p('', `Benchmark — host${results.hosts.length > 1 ? 's' : ''} ${results.hosts.map(hostLabel).join(' + ')}${m.spin ? ` (${m.spin})` : ' (SPIN_BIN unset)'} — ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date}`);
  if (results.redisSkipped) p(`Redis skipped: ${results.redisSkipped}`);

  if (results.redisOps) {
    p('Redis commands per request (INFO commandstats):');
    p(textTable(['scenario', 'GET', 'SET', 'DEL', 'EXISTS', 'others', 'total'], [
      ...results.hosts.flatMap((host) => ['hit', 'miss', 'delete'].map((s) => [`${hostLabel(host)} ${s}`, ...opsRow(results.redisOps[host][s].perRequest)])),
      ['tutorial hit (computed)', ...opsRow({ exists: 1, get: 1 })],
      ['tutorial miss (computed)', ...opsRow({ exists: 1, set: 1 })],
    ], ['l']));
  }

  p('Hit path ÷ baseline (alternating autocannon runs, median (min–max)):');
  p(textTable(['host', 'conn.', 'store', 'hit req/s', 'baseline req/s', 'throughput ratio', 'p50 ratio', 'p99 ratio'], hitRatios(results).flatMap((level) => level.rows.map((r) => [
    hostLabel(level.host), String(level.connections), r.backend, fmt(r.hit.rps.median, 0), fmt(level.baseline.rps.median, 0), range(r.throughput, fmtRatio), range(r.p50, fmtRatio), range(r.p99, fmtRatio),
  ])), ['l', 'r', 'l']));

  const hr = hostRatios(results);
  if (hr.length) {
    p('Spin ÷ runner (same run, median (min–max)):');
    p(textTable(['conn.', 'arm', 'Spin req/s', 'runner req/s', 'throughput ratio', 'p50 ratio'], hr.map((r) => [
      String(r.connections), r.arm, fmt(r.spin.rps.median, 0), fmt(r.runner.rps.median, 0), range(r.throughput, fmtRatio), range(r.p50, fmtRatio),
    ]), ['r', 'l']));
  }

  p('Load (autocannon):');
  const rows = [];
  for (const { connections, runs } of [...results.load.hit, ...results.load.delete]) {
    for (const [key, rs] of Object.entries(runs)) {
      const s = armSummary(rs);
      rows.push([key, String(connections), fmt(s.rps.median, 0), ms(s.p50.median), ms(s.p90.median), ms(s.p99.median), ms(s.firstMax), String(s.errors)]);
    }
  }
  p(textTable(['scenario', 'conn.', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'first resp. max ms', 'errors'], rows, ['l']));

  p('Sequential latency (one keep-alive connection):');
  p(textTable(['scenario', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'held back', 'wrong'], results.sequential.map((s) => [
    s.label, String(s.latency.n), ms(s.latency.p50), ms(s.latency.p90), ms(s.latency.p99), ms(s.latency.max), String(s.heldBack), String(s.wrong),
  ]), ['l']));

  p('Inside the runner (in-process):');
  p(textTable(['component', 'scenario', 'instantiate p50/p90/p99 ms', 'handle p50/p90/p99 ms', 'GC ms/req'], costRows(results).map(({ backend, scenario, r }) => [
    backend, scenario, `${ms(r.instantiate.p50)} / ${ms(r.instantiate.p90)} / ${ms(r.instantiate.p99)}`, `${ms(r.handle.p50)} / ${ms(r.handle.p90)} / ${ms(r.handle.p99)}`, ms(r.gc.totalMs / r.iterations),
  ]), ['l', 'l']));

  if (results.preinstantiate) {
    p('Spare instance in runner/server.js, before → after (SQLite hit):');
    p(textTable(['pattern', 'p50 ms', 'p90 ms', 'p99 ms', 'req/s', 'served by a spare'], results.preinstantiate.rows.map((r) => [
      r.pattern,
      `${ms(r.off.p50)} → ${ms(r.on.p50)}`,
      `${ms(r.off.p90)} → ${ms(r.on.p90)}`,
      `${ms(r.off.p99)} → ${ms(r.on.p99)}`,
      r.on.rps ? `${fmt(r.off.rps.median, 0)} → ${fmt(r.on.rps.median, 0)}` : '—',
      `${fmt(r.off.spareShare * 100, 0)} % → ${fmt(r.on.spareShare * 100, 0)} %`,
    ]), ['l']));
  }

  if (results.hung) {
    p('Hung Redis:');
    p(textTable(['phase', 'request', 't ms', 'latency ms', 'status', 'from cache'], results.hung.events.map((e) => [
      e.phase, `${e.method} ${e.path}`, fmt(e.atMs, 0), ms(e.ms), String(e.status), e.fromCache ?? '—',
    ]), ['l', 'l']));
  }

  const mem = memoryRows(results).map((r) => `${r.key} ${fmt(r.before.rssMiB, 0)} → ${fmt(r.after.rssMiB, 0)} MiB (peak ${fmt(r.after.hwmMiB, 0)})`);
  p(
    `Sizes: app ${fmt(results.sizes.app / MiB, 2)} MiB, baseline ${fmt(results.sizes.baseline / MiB, 2)} MiB.`
      + (results.build ? ` Build ${fmt(results.build.totalMs / 1000, 1)} s${results.build.reused ? ' (reused)' : ''}.` : ''),
    `Host RSS before → after load: ${mem.join(', ')}.`,
    `Total: ${fmt(results.totalS, 0)} s.`,
  );
  return `${out.join('\n')}\n`;
}

