// deploy/lib.sh helpers that the script tests cannot reach: an interrupted private-file write.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BASH, DEPLOY_DIR } from './fakes';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cwar-lib-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('write_private_file', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('leaves no half-written secret behind when the script gets %s', async (signal) => {
    const script = join(dir, 'write.sh');
    const target = join(dir, 'secrets', 'token');
    writeFileSync(
      script,
      [
        'set -euo pipefail',
        `source ${JSON.stringify(join(DEPLOY_DIR, 'lib.sh'))}`,
        "slow() { printf 'first-half'; sleep 2; printf 'second-half'; }",
        `write_private_file ${JSON.stringify(target)} slow`,
        '',
      ].join('\n'),
    );
    const child = spawn(BASH, [script], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '', HOME: dir } });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null))));
    // wait until the temporary file exists, then interrupt
    for (let i = 0; i < 100 && !(existsSync(join(dir, 'secrets')) && readdirSync(join(dir, 'secrets')).length > 0); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(readdirSync(join(dir, 'secrets'))).toHaveLength(1);
    child.kill(signal);
    expect(await exited).not.toBe(0);
    expect(readdirSync(join(dir, 'secrets'))).toEqual([]);
    expect(existsSync(target)).toBe(false);
  });
});
