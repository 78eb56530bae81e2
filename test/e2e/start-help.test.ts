// `npm start -- --help` prints the options at once: no build, not even a manifest to read.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { START, runRunnerToExit } from '../support/runner';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cache-start-help-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it.each(['--help', '-h'])('npm start -- %s prints the usage without building the missing component', async (flag) => {
  // a component that does not exist yet, and a build that would leave a trace if it ran
  writeFileSync(
    path.join(dir, 'spin.toml'),
    `spin_manifest_version = 2
[application]
name = "help-test"
[[trigger.http]]
route = "/..."
component = "app"
[component.app]
source = "app.wasm"
[component.app.build]
command = "node -e \\"require('fs').writeFileSync('built', '')\\""
`,
  );
  const { code, stdout, stderr } = await runRunnerToExit([flag], { script: START, cwd: dir });
  expect(code, stderr).toBe(0);
  expect(stdout).toMatch(/^Usage: npm start -- \[options\]/);
  expect(stdout).toContain('--runtime-config-file FILE');
  expect(stderr).toBe('');
  expect(readdirSync(dir)).toEqual(['spin.toml']);
});
