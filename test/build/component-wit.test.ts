// The built component must run on the Spin hosts we deploy to (Spin 3.6.3 in the SpinKube shim,
// Spin 4.x locally): every interface it imports must be one Spin 3.6.3 provides, at a version its
// sources declare, and it must export the HTTP handler Spin's trigger calls.
import { readFile } from 'node:fs/promises';
import { componentWit } from '@bytecodealliance/jco';
import { beforeAll, describe, expect, it } from 'vitest';

const COMPONENT = new URL('../../dist/cache-with-az-redis.wasm', import.meta.url);

// spinframework/spin tag v3.6.3, wit/world.wit (`platform`) and wit/deps/{spin@2.0.0,spin@3.2.0}/world.wit:
// `wasi:cli/imports` and `wasi:http/outgoing-handler` at 0.2.0, 0.2.3 and 0.2.6, and `fermyon:spin/platform@2.0.0`.
const WASI_CLI_IMPORTS = [
  'wasi:clocks/monotonic-clock',
  'wasi:clocks/wall-clock',
  'wasi:filesystem/types',
  'wasi:filesystem/preopens',
  'wasi:sockets/network',
  'wasi:sockets/instance-network',
  'wasi:sockets/udp',
  'wasi:sockets/udp-create-socket',
  'wasi:sockets/tcp',
  'wasi:sockets/tcp-create-socket',
  'wasi:sockets/ip-name-lookup',
  'wasi:random/random',
  'wasi:random/insecure',
  'wasi:random/insecure-seed',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
];
const WASI_HTTP_IMPORTS = ['wasi:http/types', 'wasi:http/outgoing-handler'];
const FERMYON_SPIN_2_0_0 = ['llm', 'redis', 'mqtt', 'rdbms-types', 'postgres', 'mysql', 'sqlite', 'key-value', 'variables'];

const SPIN_3_6_3_IMPORTS: ReadonlySet<string> = new Set([
  ...['0.2.0', '0.2.3', '0.2.6'].flatMap((version) =>
    [...WASI_CLI_IMPORTS, ...WASI_HTTP_IMPORTS].map((name) => `${name}@${version}`),
  ),
  ...FERMYON_SPIN_2_0_0.map((name) => `fermyon:spin/${name}@2.0.0`),
]);

let imports: string[];
let exports: string[];

beforeAll(async () => {
  const wit = await componentWit(await readFile(COMPONENT));
  imports = [...wit.matchAll(/^\s*import ([^;]+);/gm)].map((m) => m[1]!);
  exports = [...wit.matchAll(/^\s*export ([^;]+);/gm)].map((m) => m[1]!);
});

describe('built component', () => {
  it('imports only interfaces Spin 3.6.3 provides, at versions it declares', () => {
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((name) => !SPIN_3_6_3_IMPORTS.has(name))).toEqual([]);
  });

  it('imports the Spin key-value and variables interfaces it uses', () => {
    expect(imports).toContain('fermyon:spin/key-value@2.0.0');
    expect(imports).toContain('fermyon:spin/variables@2.0.0');
  });

  it('exports exactly one wasi:http/incoming-handler@0.2.*, the export Spin 3.6.3 serves', () => {
    expect(exports).toHaveLength(1);
    expect(exports[0]).toMatch(/^wasi:http\/incoming-handler@0\.2\.(0|3|6)$/);
  });
});
