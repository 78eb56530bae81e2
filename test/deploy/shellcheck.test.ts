import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASH, DEPLOY_DIR, hasTool } from './fakes';

const scripts = readdirSync(DEPLOY_DIR)
  .filter((f) => f.endsWith('.sh'))
  .sort();
// lib.sh is sourced by the others; every other script is run directly
const executables = scripts.filter((f) => f !== 'lib.sh');

const haveShellcheck = hasTool('shellcheck');
const SKIP_REASON = 'shellcheck is not installed (apt-get install shellcheck); lint skipped, and it fails instead when CI is set';

describe('deploy/*.sh', () => {
  it('finds the deploy scripts', () => {
    expect(executables).toEqual(['deploy-app.sh', 'install-spinkube.sh', 'provision.sh', 'render-runtime-config.sh', 'teardown.sh', 'verify.sh']);
  });

  it('pass shellcheck (with deploy/.shellcheckrc)', (ctx) => {
    if (!haveShellcheck) {
      if (process.env.CI) throw new Error('shellcheck is required when CI is set (apt-get install shellcheck)');
      console.warn(SKIP_REASON);
      ctx.skip(SKIP_REASON);
    }
    const res = spawnSync('shellcheck', scripts, { cwd: DEPLOY_DIR, encoding: 'utf8' });
    expect(res.stdout + res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  it.each(executables)('%s is an executable bash script with strict mode and --help', (name) => {
    const path = join(DEPLOY_DIR, name);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
    expect(statSync(path).mode & 0o111).not.toBe(0);
    const help = spawnSync(BASH, [path, '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: deploy\//);
  });
});
