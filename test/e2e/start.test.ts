// `npm start` builds the component only when it is missing or older than what its build watches
// (spin.toml's `watch` globs), then serves it with `spin up` and the arguments it was given.
// (test/deploy/spin-binary.test.ts covers how it finds or installs Spin, and `--help`.)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APP_DIR, runToExit, skipWithout, startApp } from '../support/host';

const START = [process.execPath, path.join(APP_DIR, 'deploy', 'start.js')];

let dir: string;

// A manifest whose "build" copies the real component and records that it ran.
function writeApp(buildScript = `require('fs').copyFileSync(${JSON.stringify(path.join(APP_DIR, 'dist/cache-with-az-redis.wasm'))}, 'app.wasm');`) {
  writeFileSync(path.join(dir, 'build.cjs'), `require('fs').appendFileSync('builds.log', 'built\\n');\n${buildScript}\n`);
  writeFileSync(
    path.join(dir, 'spin.toml'),
    `spin_manifest_version = 2
[application]
name = "start-test"
[[trigger.http]]
route = "/..."
component = "app"
[component.app]
source = "app.wasm"
key_value_stores = ["default"]
[component.app.build]
command = "node build.cjs"
watch = ["src/**/*.ts"]
`,
  );
  mkdirSync(path.join(dir, 'src', 'nested'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'nested', 'code.ts'), 'export {};\n');
}

const builds = () => readFileSync(path.join(dir, 'builds.log'), 'utf8').split('\n').filter(Boolean).length;

async function startAndStop() {
  const app = await startApp({ command: START, cwd: dir });
  try {
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
    return app.stderr();
  } finally {
    await app.stop();
  }
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cache-start-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skipWithout())('npm start', () => {
  it('builds a missing component, skips a fresh one, and rebuilds after a watched file changes', async () => {
    writeApp();
    expect(await startAndStop()).toContain('app.wasm is missing');
    expect(builds()).toBe(1);

    await startAndStop();
    expect(builds()).toBe(1);

    const future = new Date(Date.now() + 60_000);
    utimesSync(path.join(dir, 'src', 'nested', 'code.ts'), future, future);
    expect(await startAndStop()).toContain('app.wasm is older than its sources');
    expect(builds()).toBe(2);
  });

  it('stops with a clear message when the build fails', async () => {
    writeApp('process.exit(3);');
    const { code, stderr } = await runToExit(START, { cwd: dir });
    expect(code).toBe(1);
    expect(stderr).toContain('`node build.cjs` failed');
  });
});
