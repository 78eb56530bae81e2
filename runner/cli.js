#!/usr/bin/env node
// A Spin-compatible runner for this app's component: `spin up` for the subset it supports.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadComponent } from './component.js';
import { hostImports } from './host/imports.js';
import { ManifestError, loadManifest, resolveVariables } from './manifest.js';
import { createServer } from './server.js';
import { KvRegistry } from './kv/index.js';
import { RuntimeConfigError, loadRuntimeConfig } from './runtime-config.js';

const USAGE = `Usage: npm start -- [options]

Runs the Spin HTTP component(s) of spin.toml under Node, a fresh instance per request.

Options:
  -f, --from FILE                 the Spin manifest (default: spin.toml)
      --listen ADDR:PORT          where to serve (default: 127.0.0.1:3000; port 0 picks a free one)
      --runtime-config-file FILE  Spin runtime config, e.g. runtime-config/redis.toml
      --variable NAME=VALUE       set an application variable (repeatable);
                                  SPIN_VARIABLE_<NAME> in the environment works too
      --kv-timeout MS             give up on a Redis operation after MS milliseconds (default: 250)
      --max-body-bytes N          reject larger request bodies with 413 (default: 10485760)
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
      'kv-timeout': { type: 'string', default: '250' },
      'max-body-bytes': { type: 'string', default: String(10 * 1024 * 1024) },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return {
    help: values.help,
    manifestFile: values.from,
    listen: parseListen(values.listen),
    runtimeConfigFile: values['runtime-config-file'],
    variables: new Map(values.variable.map(parseVariable)),
    kvTimeoutMs: positiveInteger('--kv-timeout', values['kv-timeout']),
    maxBodyBytes: positiveInteger('--max-body-bytes', values['max-body-bytes']),
  };
}

function parseListen(value) {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new UsageError(`--listen: expected ADDR:PORT (e.g. 127.0.0.1:3000), got "${value}"`);
  return { host: match[1] ?? match[2], port };
}

/** @returns {[string, string]} */
function parseVariable(value) {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`--variable: expected NAME=VALUE, got "${value.split('=')[0]}…"`);
  return [value.slice(0, eq), value.slice(eq + 1)];
}

function positiveInteger(flag, value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag}: expected a positive whole number, got "${value}"`);
  return n;
}

const log = (line) => console.error(line);

export async function main(argv) {
  const options = parseCommandLine(argv);
  if (options.help) return console.log(USAGE);

  const manifest = loadManifest(options.manifestFile);
  const runtimeConfig = loadRuntimeConfig(options.runtimeConfigFile, { appDir: manifest.dir });
  const stores = new KvRegistry(runtimeConfig.keyValueStores, { timeoutMs: options.kvTimeoutMs, log });

  const components = new Map();
  for (const { component } of manifest.routes) {
    if (components.has(component.id)) continue;
    if (!existsSync(component.source)) {
      throw new UsageError(`${path.relative(process.cwd(), component.source)} not found: build it with \`npm run build\` (\`npm start\` builds it when missing)`);
    }
    for (const label of component.keyValueStores) {
      if (!stores.has(label)) {
        throw new UsageError(`component ${component.id}: key_value_stores label "${label}" is not defined (add [key_value_store.${label}] to the runtime config)`);
      }
    }
    const imports = hostImports({
      allowedLabels: component.keyValueStores,
      backendFor: (label) => stores.open(label),
      variables: resolveVariables(manifest, component, { cli: options.variables, env: process.env }),
    });
    components.set(component.id, await loadComponent(component.source, imports));
  }
  // Connect now so an unreachable Redis is reported at start; the app still serves (it fails open).
  stores.openAll();

  const server = createServer({
    routes: manifest.routes,
    componentFor: (route) => components.get(route.component.id),
    maxBodyBytes: options.maxBodyBytes,
    log,
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, options.listen.host, () => resolve(undefined));
  });
  const { address, port } = /** @type {import('node:net').AddressInfo} */ (server.address());
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
    stores.closeAll();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Runs the CLI, turning configuration mistakes into one clear line and a non-zero exit. */
export function run(argv) {
  main(argv).catch((error) => {
    const known = error instanceof UsageError || error instanceof ManifestError || error instanceof RuntimeConfigError
      || error.code?.startsWith('ERR_PARSE_ARGS') || error.code === 'EADDRINUSE' || error.code === 'EACCES';
    console.error(known ? `Error: ${error.message}` : error);
    process.exit(known ? 2 : 1);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) run(process.argv.slice(2));
