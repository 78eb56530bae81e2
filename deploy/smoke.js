#!/usr/bin/env node
// Smoke test for a running cache-with-az-redis: the curl walkthrough as a script.
//
//   npm run smoke -- [BASE_URL] [--token TOKEN] [--timeout MS]
//
// BASE_URL defaults to http://localhost:8080 (`kubectl port-forward svc/... 8080:80`); locally it is
// http://localhost:3000 (`spin up`, `npm start`). It checks the contract, not one particular catalog:
// GET /items answers a JSON array of items, the same bytes on a miss and on a hit, with the cache
// header telling which. The admin token for DELETE /cache comes from --token or CACHE_ADMIN_TOKEN;
// it is never printed. Exit status 0 when every step passes, 1 otherwise, 2 for bad arguments.

import process from 'node:process';

const CACHE_HEADER = 'x-served-from-cache';
const DEFAULT_BASE = 'http://localhost:8080';
const DEFAULT_TIMEOUT_MS = 10_000;

const USAGE = `Usage: npm run smoke -- [BASE_URL] [--token TOKEN] [--timeout MS]

Runs against BASE_URL (default ${DEFAULT_BASE}; locally http://localhost:3000):
  1. GET /healthz               200 {"status":"ok"}
  2. DELETE /cache              204 (start from a cold cache)
  3. GET /items                 200, application/json, a JSON array of {id, title} items,
                                ${CACHE_HEADER}: false
  4. GET /items                 200, the same bytes (and ETag, if any) as step 3,
                                ${CACHE_HEADER}: true
  5. DELETE /cache              204
  6. GET /items                 200, the same bytes (and ETag, if any) as step 3,
                                ${CACHE_HEADER}: false

Any catalog passes: the steps check the contract, not particular items.

Options:
  --token TOKEN   admin token for DELETE /cache (default: $CACHE_ADMIN_TOKEN); never printed
  --timeout MS    per-request timeout in milliseconds (default ${DEFAULT_TIMEOUT_MS})
  -h, --help      show this help`;

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { base: undefined, token: process.env.CACHE_ADMIN_TOKEN || undefined, timeoutMs: DEFAULT_TIMEOUT_MS, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const takeValue = (name) => {
      const eq = arg.indexOf('=');
      if (eq !== -1) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value`);
      return argv[++i];
    };
    if (arg === '-h' || arg === '--help') opts.help = true;
    else if (arg === '--token' || arg.startsWith('--token=')) opts.token = takeValue('--token');
    else if (arg === '--timeout' || arg.startsWith('--timeout=')) {
      const value = takeValue('--timeout');
      const ms = Number(value);
      if (!Number.isInteger(ms) || ms <= 0) throw new UsageError(`--timeout must be a positive integer (milliseconds), got "${value}"`);
      opts.timeoutMs = ms;
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else if (opts.base === undefined) opts.base = arg;
    else throw new UsageError(`unexpected argument ${arg}`);
  }
  opts.base ??= DEFAULT_BASE;
  let url;
  try {
    url = new URL(opts.base);
  } catch {
    throw new UsageError(`not a URL: ${opts.base}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`BASE_URL must be http(s), got ${opts.base}`);
  opts.base = opts.base.replace(/\/+$/, '');
  return opts;
}

/** A failed expectation; `message` is the reason printed next to FAIL. */
class StepFailure extends Error {}
/** The server could not be reached at all: later steps would fail the same way. */
class Unreachable extends StepFailure {}

function describeFetchError(err, url, timeoutMs) {
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no response from ${url} within ${timeoutMs} ms`;
  const code = err?.cause?.code ?? err?.code;
  const detail = code ?? err?.cause?.message ?? err?.message ?? String(err);
  return `cannot reach ${url} (${detail}). Is the app running (npm start / spin up) or the port-forward (kubectl port-forward svc/cache-with-az-redis 8080:80) active?`;
}

async function request(opts, method, path, { auth = false } = {}) {
  const url = `${opts.base}${path}`;
  const headers = {};
  if (auth && opts.token) headers.authorization = `Bearer ${opts.token}`;
  let res;
  try {
    res = await fetch(url, { method, headers, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs) });
  } catch (err) {
    const message = describeFetchError(err, url, opts.timeoutMs);
    throw err?.name === 'TimeoutError' || err?.name === 'AbortError' ? new StepFailure(message) : new Unreachable(message);
  }
  let body;
  try {
    body = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    throw new StepFailure(`reading the response body of ${method} ${url} failed: ${describeFetchError(err, url, opts.timeoutMs)}`);
  }
  return { status: res.status, headers: res.headers, body };
}

function snippet(text, max = 80) {
  const oneLine = JSON.stringify(text);
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

function expectStatus(res, expected, what, opts) {
  if (res.status === expected) return;
  let hint = '';
  if (res.status === 401) {
    hint = opts.token
      ? ' (the admin token was rejected)'
      : ' (the app has cache_admin_token set: pass --token <token> or set CACHE_ADMIN_TOKEN)';
  } else if (res.status === 503) {
    hint = ' (the key-value store is unavailable: check the Redis URL in the runtime config)';
  }
  const body = res.body.length ? `; body ${snippet(res.body.toString('utf8'))}` : '';
  throw new StepFailure(`${what}: expected status ${expected}, got ${res.status}${hint}${body}`);
}

/** Why `text` is not a JSON array of items `{ id: number, title: string }`, or null when it is. */
function itemArrayProblem(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  if (!Array.isArray(value)) return 'the body is JSON but not an array';
  for (const [index, item] of value.entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return `item ${index} is not an object`;
    if (typeof item.id !== 'number' || !Number.isFinite(item.id)) return `item ${index} has no numeric "id"`;
    if (typeof item.title !== 'string') return `item ${index} has no string "title"`;
  }
  return null;
}

function expectCacheHeader(res, expected) {
  const header = res.headers.get(CACHE_HEADER);
  if (header === null) throw new StepFailure(`missing header ${CACHE_HEADER} (expected ${expected})`);
  if (header.trim().toLowerCase() !== expected) {
    throw new StepFailure(`header ${CACHE_HEADER}: expected ${expected}, got ${header}`);
  }
}

function expectJson(res) {
  const contentType = res.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(contentType)) {
    throw new StepFailure(`content-type: expected application/json, got ${contentType || 'none'}`);
  }
}

/** The first GET /items after a clear: any valid item array, answered from the origin. */
function expectCatalog(res, opts) {
  expectStatus(res, 200, 'GET /items', opts);
  expectJson(res);
  const text = res.body.toString('utf8');
  const problem = itemArrayProblem(text);
  if (problem) throw new StepFailure(`not a JSON array of {id, title} items: ${problem} (${res.body.length} bytes): ${snippet(text)}`);
  expectCacheHeader(res, 'false');
  const count = JSON.parse(text).length;
  return `200, ${res.body.length}-byte item array (${count} item${count === 1 ? '' : 's'}), ${CACHE_HEADER}: false`;
}

/**
 * A later GET /items: exactly the bytes first served (and the same ETag, if the first had one), from
 * the cache or not as `expectedCacheHeader` says.
 */
function expectSameCatalog(res, first, expectedCacheHeader, opts) {
  expectStatus(res, 200, 'GET /items', opts);
  if (!first) throw new StepFailure('no catalog from the first GET /items to compare with');
  expectJson(res);
  if (!res.body.equals(first.body)) {
    throw new StepFailure(
      `body differs from the first GET /items (${res.body.length} bytes, expected the same ${first.body.length}): ${snippet(res.body.toString('utf8'))}`,
    );
  }
  const etag = res.headers.get('etag');
  if (first.etag !== null && etag !== first.etag) {
    throw new StepFailure(`etag: expected ${first.etag} as on the first GET /items, got ${etag ?? 'none'}`);
  }
  expectCacheHeader(res, expectedCacheHeader);
  return `200, the same ${first.body.length} bytes, ${CACHE_HEADER}: ${expectedCacheHeader}`;
}

function steps(opts) {
  const deleteCache = async () => {
    const res = await request(opts, 'DELETE', '/cache', { auth: true });
    expectStatus(res, 204, 'DELETE /cache', opts);
    return '204';
  };
  let catalog; // the bytes and ETag of the first GET /items, which every later one must repeat
  const getItems = () => request(opts, 'GET', '/items');
  return [
    {
      name: 'GET /healthz',
      run: async () => {
        const res = await request(opts, 'GET', '/healthz');
        expectStatus(res, 200, 'GET /healthz', opts);
        let parsed;
        try {
          parsed = JSON.parse(res.body.toString('utf8'));
        } catch {
          throw new StepFailure(`body is not JSON: ${snippet(res.body.toString('utf8'))}`);
        }
        if (parsed?.status !== 'ok') throw new StepFailure(`expected {"status":"ok"}, got ${snippet(res.body.toString('utf8'))}`);
        return '200 {"status":"ok"}';
      },
    },
    { name: 'DELETE /cache (start cold)', run: deleteCache },
    {
      name: 'GET /items (cold: served from origin)',
      run: async () => {
        const res = await getItems();
        const detail = expectCatalog(res, opts);
        catalog = { body: res.body, etag: res.headers.get('etag') };
        return detail;
      },
    },
    { name: 'GET /items (warm: served from cache)', run: async () => expectSameCatalog(await getItems(), catalog, 'true', opts) },
    { name: 'DELETE /cache', run: deleteCache },
    { name: 'GET /items (after DELETE: origin again)', run: async () => expectSameCatalog(await getItems(), catalog, 'false', opts) },
  ];
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`smoke: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }

  console.log(`smoke: ${opts.base}${opts.token ? ' (with admin token)' : ''}`);
  const all = steps(opts);
  let failed;
  for (const [index, step] of all.entries()) {
    const label = `${index + 1}. ${step.name}`;
    if (failed) {
      console.log(`SKIP  ${label}`);
      continue;
    }
    try {
      const detail = await step.run();
      console.log(`PASS  ${label}: ${detail}`);
    } catch (err) {
      if (!(err instanceof StepFailure)) throw err;
      console.log(`FAIL  ${label}: ${err.message}`);
      failed = { label, err };
    }
  }
  if (failed) {
    const reason = failed.err instanceof Unreachable ? `${opts.base} is unreachable` : `step "${failed.label}" failed`;
    console.error(`smoke: FAILED against ${opts.base}: ${reason}`);
    return 1;
  }
  console.log(`smoke: all ${all.length} steps passed against ${opts.base}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`smoke: internal error: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
