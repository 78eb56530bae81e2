#!/usr/bin/env node
// A Spin-compatible runner for this app's component: `spin up` for the subset it supports.
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareComponent } from './component.js';
import { createGuestPool } from './guest-pool.js';
import { ManifestError, loadManifest, resolveVariables } from './manifest.js';
import { createServer } from './server.js';
import { DotenvError, readDotenv } from './dotenv.js';
import { redactSecrets } from './kv/index.js';
import { RuntimeConfigError, loadRuntimeConfig } from './runtime-config.js';

const USAGE = `Usage: npm start -- [options]

Runs the Spin HTTP component(s) of spin.toml under Node, a fresh instance per request.

Options:
  -f, --from FILE                 the Spin manifest (default: spin.toml)
      --listen ADDR:PORT          where to serve (default: 127.0.0.1:3000; port 0 picks a free one)
      --runtime-config-file FILE  Spin runtime config, e.g. runtime-config/redis.toml
      --variable NAME=VALUE       set an application variable (repeatable);
                                  SPIN_VARIABLE_<NAME> in the environment works too
                                  (or from .env in the current directory)
      --kv-timeout MS             NOT Spin's behaviour: give up on a Redis operation after MS
                                  milliseconds (1-600000) and stop trying for a while after
                                  repeated failures; without it, Redis is used as Spin does
                                  (a request waits for Redis however long it takes)
      --max-body-bytes N          NOT Spin's behaviour: answer 413 to larger request bodies
                                  (default: no limit, as Spin)
  -h, --help                      show this help`;

class UsageError extends Error {}

function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string', short: 'f', default: 'spin.toml' },
      listen: { type: 'string', default: '127.0.0.1:3000' },
      'runtime-config-file': { type: 'string' },
      variable: { type: 'string', multiple: true, default: [] },
      'kv-timeout': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return {
    help: values.help,
    manifestFile: values.from,
    listen: parseListen(values.listen),
    runtimeConfigFile: values['runtime-config-file'],
    variables: new Map(values.variable.map(parseVariable)),
    kvTimeoutMs: values['kv-timeout'] === undefined ? null : wholeNumber('--kv-timeout', values['kv-timeout'], 1, MAX_KV_TIMEOUT_MS),
    maxBodyBytes: values['max-body-bytes'] === undefined ? null
      : wholeNumber('--max-body-bytes', values['max-body-bytes'], 1, Number.MAX_SAFE_INTEGER),
  };
}

// Beyond ten minutes a timeout protects nothing (and Node cannot time past 2^31-1 ms).
const MAX_KV_TIMEOUT_MS = 600_000;

function parseListen(value) {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  const hostOk = host !== undefined && (isIP(host) !== 0 || (!/^[\d.]+$/.test(host) && /^[A-Za-z0-9.-]+$/.test(host)));
  if (!match || port > 65535 || !hostOk) {
    throw new UsageError(`--listen: expected ADDR:PORT with an IP address or host name (e.g. 127.0.0.1:3000), got "${value.slice(0, 64)}"`);
  }
  return { host: /** @type {string} */ (host), port };
}

/** @returns {[string, string]} */
function parseVariable(value) {
  const eq = value.indexOf('=');
  // Never quote the argument: without "=" it may be the secret itself.
  if (eq <= 0) throw new UsageError('--variable: expected NAME=VALUE (an argument has no "=" or no name)');
  return [value.slice(0, eq), value.slice(eq + 1)];
}

function wholeNumber(flag, value, min, max) {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got "${value.slice(0, 32)}"`);
  }
  return n;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** Spin's log directory for the app, with one file pair per component (`spin up` appends). */
function openLogs(appDir, componentId) {
  const dir = path.join(appDir, '.spin', 'logs');
  mkdirSync(dir, { recursive: true });
  return {
    stdoutLog: openSync(path.join(dir, `${componentId}_stdout.txt`), 'a'),
    stderrLog: openSync(path.join(dir, `${componentId}_stderr.txt`), 'a'),
  };
}

const log = (line) => console.error(line);

export async function main(argv) {
  const options = parseCommandLine(argv);
  if (options.help) return console.log(USAGE);

  const manifest = loadManifest(options.manifestFile);
  const runtimeConfig = loadRuntimeConfig(options.runtimeConfigFile, { appDir: manifest.dir });
  if (options.kvTimeoutMs !== null) {
    log(`--kv-timeout ${options.kvTimeoutMs}: Redis operations give up after ${options.kvTimeoutMs} ms and a circuit breaker `
      + 'fails them fast after repeated failures. This is NOT what Spin does: under Spin a stalled Redis stalls the request.');
  }
  if (options.maxBodyBytes !== null) {
    log(`--max-body-bytes ${options.maxBodyBytes}: larger request bodies get 413. This is NOT what Spin does: Spin passes any body to the component.`);
  }
  const dotenv = readDotenv('.env');

  const components = new Map();
  for (const { component } of manifest.routes) {
    if (components.has(component.id)) continue;
    if (!existsSync(component.source)) {
      throw new UsageError(`${path.relative(process.cwd(), component.source)} not found: build it with \`npm run build\` (\`npm start\` builds it when missing)`);
    }
    for (const label of component.keyValueStores) {
      if (!runtimeConfig.keyValueStores.has(label)) {
        throw new UsageError(`component ${component.id}: key_value_stores label "${label}" is not defined (add [key_value_store.${label}] to the runtime config)`);
      }
    }
    components.set(component.id, await createGuestPool({
      prepared: await prepareComponent(component.source),
      stores: runtimeConfig.keyValueStores,
      kvOptions: { timeoutMs: options.kvTimeoutMs ?? undefined },
      allowedLabels: component.keyValueStores,
      variables: resolveVariables(manifest, component, { cli: options.variables, env: process.env, dotenv }),
      logs: openLogs(manifest.dir, component.id),
    }));
  }
  log(`Logging component stdio to "${path.relative(process.cwd(), path.join(manifest.dir, '.spin', 'logs')) || '.'}/"`);

  const server = createServer({
    routes: manifest.routes,
    componentFor: (route) => components.get(route.component.id),
    appInfo: { name: manifest.name, version: manifest.version },
    maxBodyBytes: options.maxBodyBytes,
    log,
  });
  await new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new UsageError(`cannot listen on ${options.listen.host}:${options.listen.port} (${/** @type {any} */ (error).code ?? error.message})`)));
    server.listen(options.listen.port, options.listen.host, () => resolve(undefined));
  });
  const { address, port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  if (!LOOPBACK.test(address)) {
    log(`Warning: listening on ${address}, reachable from other machines. This runner is a development tool; serve production traffic with Spin.`);
  }
  const base = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  const routeLines = manifest.routes.map(({ route, component }) => {
    const wildcard = route.endsWith('/...');
    return `  ${component.id}: ${base}${wildcard ? route.slice(0, -4) : route}${wildcard ? ' (wildcard)' : ''}`;
  });
  // One write, so whoever waits for the "Serving" line also has the routes.
  process.stdout.write(`Serving ${base}\nAvailable Routes:\n${routeLines.join('\n')}\n`);

  const stop = () => {
    server.close();
    server.closeAllConnections();
    for (const pool of components.values()) void pool.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Runs the CLI: any start-up failure is one line (no stack trace, no secret) and a non-zero exit. */
export function run(argv) {
  main(argv).catch((error) => {
    const usage = error instanceof UsageError || error instanceof ManifestError || error instanceof RuntimeConfigError
      || error instanceof DotenvError || error.code?.startsWith('ERR_PARSE_ARGS');
    console.error(`Error: ${oneLine(error)}`);
    process.exit(usage ? 2 : 1);
  });
}

/** @param {any} error */
function oneLine(error) {
  return redactSecrets(String(error?.message ?? error).split('\n')[0]).slice(0, 500);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) run(process.argv.slice(2));
