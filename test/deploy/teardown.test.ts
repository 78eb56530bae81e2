import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BASH, DEPLOY_DIR, commandLines, createSandbox, hasTool, type Sandbox } from './fakes';

const SCRIPT = 'teardown.sh';
const DELETE = 'az group delete --name rg-cache-with-az-redis --yes --no-wait';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
});
afterEach(() => sb.cleanup());

/** Run teardown.sh with a pseudo-terminal on stdin (util-linux `script`), typing `typed`. */
function runOnTty(typed: string): { status: number | null; output: string } {
  const cmd = `${BASH} ${join(DEPLOY_DIR, SCRIPT)}`;
  const res = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    cwd: sb.root,
    env: {
      PATH: `${sb.bin}:${process.env.PATH ?? ''}`,
      HOME: sb.home,
      FAKE_DIR: sb.fakeDir,
      NAME_SUFFIX: 'test01',
      TERM: 'dumb',
    },
    input: typed,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (res.error) throw res.error;
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe('deploy/teardown.sh', () => {
  it('--help exits 0 with usage', () => {
    const r = sb.run(SCRIPT, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: deploy/teardown.sh');
    expect(r.calls).toEqual([]);
  });

  it('refuses when stdin is not a terminal and --yes is missing, before any az call', () => {
    const r = sb.run(SCRIPT, [], { input: 'rg-cache-with-az-redis\n' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('not a terminal');
    expect(r.stderr).toContain('--yes');
    expect(r.calls).toEqual([]);
  });

  it('--yes deletes the resource group after checking login and existence', () => {
    const r = sb.run(SCRIPT, ['--yes']);
    expect(r.status).toBe(0);
    expect(commandLines(r.calls)).toEqual([
      'az account show --query name -o tsv',
      'az group exists --name rg-cache-with-az-redis',
      DELETE,
    ]);
  });

  it('says that billing stops only when the deletion has finished, and how to follow it', () => {
    const r = sb.run(SCRIPT, ['--yes']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('billing stops when it has finished');
    expect(r.stderr).toContain('az group wait --deleted --name rg-cache-with-az-redis');
    expect(r.stderr).toContain('az group exists --name rg-cache-with-az-redis');
    expect(r.stderr).toContain('names.env');
  });

  it.each([
    [['--redis', 'cache'], 'Azure Cache for Redis rediscwartest01'],
    [[], 'Azure Managed Redis rediscwartest01'],
  ])('%j names the Redis kind it deletes', (args, text) => {
    const r = sb.run(SCRIPT, ['--yes', ...args]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(text);
  });

  it('--yes --wait waits for the deletion', () => {
    const r = sb.run(SCRIPT, ['--yes', '--wait'], { env: { RESOURCE_GROUP: 'rg-other' } });
    expect(r.status).toBe(0);
    expect(commandLines(r.calls).at(-1)).toBe('az group delete --name rg-other --yes');
  });

  it('does nothing when the resource group does not exist', () => {
    const r = sb.run(SCRIPT, ['--yes'], { env: { FAKE_AZ_GROUP_EXISTS: 'false' } });
    expect(r.status).toBe(0);
    expect(commandLines(r.calls).some((l) => l.startsWith('az group delete'))).toBe(false);
    expect(r.stderr).toContain('does not exist');
  });

  it('--dry-run runs nothing and prints the delete command', () => {
    const r = sb.run(SCRIPT, ['--dry-run']);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.stdout).toContain(`+ ${DELETE}`);
  });

  it('stops with a clear message when az is missing', () => {
    const r = sb.run(SCRIPT, ['--yes'], { without: ['az'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/'az' is required/);
    expect(r.calls).toEqual([]);
  });

  it('stops when not logged in', () => {
    const r = sb.run(SCRIPT, ['--yes'], { env: { FAKE_AZ_NOT_LOGGED_IN: '1' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('az login');
    expect(commandLines(r.calls)).toEqual(['az account show --query name -o tsv']);
  });

  describe.skipIf(!hasTool('script'))('at a terminal (needs util-linux script)', () => {
    it('deletes only after the group name is typed', () => {
      const r = runOnTty('rg-cache-with-az-redis\n');
      expect(r.output).toContain('Type its name to confirm');
      expect(r.status).toBe(0);
      expect(commandLines(sb.calls())).toContain(DELETE);
    });

    it('deletes nothing when the typed name does not match', () => {
      const r = runOnTty('yes\n');
      expect(r.status).not.toBe(0);
      expect(r.output).toContain('did not match');
      expect(commandLines(sb.calls()).some((l) => l.startsWith('az group delete'))).toBe(false);
    });
  });
});
