// Command-line flags of `npm run bench`.
import { parseArgs } from 'node:util';

export const USAGE = `Usage: [SPIN_BIN=/path/to/spin] npm run bench [-- options]

Benchmarks the component on loopback on real Spin (\`$SPIN_BIN up\`, when SPIN_BIN is set) with the
runner (node runner/cli.js) beside it in the same run, or on the runner alone when SPIN_BIN is
unset (it says so). Per host: cache hit, cache miss and DELETE /cache, each on the default SQLite
store and on a local redis-server that the bench starts and stops itself, against a baseline
component built from bench/fixtures/baseline.js with the same toolchain; kept-alive latency of
GET /items and GET /healthz at one connection; Redis commands per request; host memory. Writes
bench/results.md and bench/latency.svg.

Options:
  --duration SECONDS     length of each autocannon run (default 2)
  --connections LIST     autocannon concurrency levels (default 1,8,32)
  --repeats N            alternating repeats of baseline / hit runs per level (default 3)
  --requests N           timed requests per scenario in the sequential runs (default 300)
  --iterations N         requests per scenario in the in-process cost probe (default 400)
  --skip-build           do not time the build; report the last measured build time
  --no-redis             run the SQLite part only
  --quick                fast sanity run (a minute or two: 1 s runs, connections 1,8, fewer requests,
                         --skip-build); writes into bench/work/ unless --out is given, so
                         the committed bench/results.md is left alone
  --out DIR              where to write results.md and latency.svg (default bench/)
  -h, --help             show this help

Needs dist/ (built with npm run build when missing). Without redis-server on PATH the Redis
scenarios are skipped and results.md says so.`;

export class UsageError extends Error {}

function positive(flag, value, { integer = true } = {}) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag}: expected a positive ${integer ? 'whole ' : ''}number, got "${value}"`);
  }
  return n;
}

export function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string' },
        connections: { type: 'string' },
        repeats: { type: 'string' },
        requests: { type: 'string' },
        iterations: { type: 'string' },
        'skip-build': { type: 'boolean', default: false },
        'no-redis': { type: 'boolean', default: false },
        quick: { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(error.message);
  }
  const quick = values.quick;
  const connections = (values.connections ?? (quick ? '1,8' : '1,8,32'))
    .split(',')
    .map((s) => positive('--connections', s.trim()));
  return {
    help: values.help,
    quick,
    durationS: positive('--duration', values.duration ?? (quick ? '1' : '2'), { integer: false }),
    connections: [...new Set(connections)],
    repeats: positive('--repeats', values.repeats ?? (quick ? '1' : '3')),
    requests: positive('--requests', values.requests ?? (quick ? '40' : '300')),
    iterations: positive('--iterations', values.iterations ?? (quick ? '60' : '400')),
    skipBuild: values['skip-build'] || quick,
    noRedis: values['no-redis'],
    out: values.out ?? null,
  };
}
