// Start-up mistakes end with one clear line naming the file, key or flag, and a non-zero exit;
// nothing the user typed that could be a secret is echoed. (Behaviour shared with Spin is in
// spin-parity.test.ts; these are the runner's own command line and messages.)
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppDir, makeAppDir } from '../support/app-dir';
import { runRunnerToExit, startRunner } from '../support/runner';

let app: AppDir | undefined;
afterEach(() => app?.remove());

describe('runner start-up errors', () => {
  it('tells you to build when the component is missing', async () => {
    app = makeAppDir({ withComponent: false });
    const { code, stderr } = await runRunnerToExit(['-f', app.manifest]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('dist/cache-with-az-redis.wasm not found');
    expect(stderr).toContain('npm run build');
  });

  it('names the runtime-config file and key when the TOML is malformed', async () => {
    app = makeAppDir();
    const config = path.join(app.dir, 'broken.toml');
    writeFileSync(config, '[key_value_store.default\ntype = "redis"\n');
    const { code, stderr } = await runRunnerToExit(['-f', app.manifest, '--runtime-config-file', config]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('broken.toml');
  });

  it('names the key of a bad Redis URL without echoing the password', async () => {
    app = makeAppDir();
    const config = path.join(app.dir, 'bad-url.toml');
    writeFileSync(config, '[key_value_store.default]\ntype = "redis"\nurl = "http://:s3cret-pw@localhost:6379"\n');
    const { code, stderr } = await runRunnerToExit(['-f', app.manifest, '--runtime-config-file', config]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('bad-url.toml');
    expect(stderr).toContain('key_value_store.default.url');
    expect(stderr).not.toContain('s3cret-pw');
  });

  it('names a malformed --listen value', async () => {
    const { code, stderr } = await runRunnerToExit(['--listen', 'localhost']);
    expect(code).toBe(2);
    expect(stderr).toContain('--listen');
  });

  it('names an unknown flag', async () => {
    const { code, stderr } = await runRunnerToExit(['--frobnicate']);
    expect(code).toBe(2);
    expect(stderr).toContain('--frobnicate');
  });

  it('prints the routes like spin up', async () => {
    app = makeAppDir();
    const runner = await startRunner({ args: ['-f', app.manifest] });
    try {
      expect(runner.stdout()).toMatch(/^Available Routes:\n {2}cache-with-az-redis: http:\/\/127\.0\.0\.1:\d+ \(wildcard\)$/m);
    } finally {
      await runner.stop();
    }
  });
});

/** One line on stderr, starting with "Error: ", and no stack trace. */
function expectOneLineError(stderr: string) {
  const lines = stderr.trim().split('\n').filter((line) => !line.startsWith('Logging component stdio'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^Error: /);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('one-line start-up errors without secrets', () => {
  it('never echoes a --variable argument without "=" (it may be the secret itself)', async () => {
    const { code, stderr } = await runRunnerToExit(['--variable', 'hunter2-secret-value']);
    expect(code).toBe(2);
    expect(stderr).toContain('--variable: expected NAME=VALUE');
    expect(stderr).not.toContain('hunter2');
    expectOneLineError(stderr);
  });

  it('names the line of a malformed spin.toml without quoting it', async () => {
    app = makeAppDir();
    writeFileSync(app.manifest, 'spin_manifest_version = 2\n[variables]\ntoken = { default = "hunter2-secret" \n');
    const { code, stderr } = await runRunnerToExit(['-f', app.manifest]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/spin\.toml: malformed TOML at line \d+, column \d+/);
    expect(stderr).not.toContain('hunter2');
    expectOneLineError(stderr);
  });

  it.each([
    ['an IP address that cannot exist', ['--listen', '999.1.1.1:3000'], /--listen: expected ADDR:PORT/],
    ['an address this machine does not have', ['--listen', '192.0.2.1:0'], /cannot listen on 192\.0\.2\.1:0 \(EADDRNOTAVAIL\)/],
  ])('reports %s for --listen in one line', async (_what, args, message) => {
    app = makeAppDir();
    const { code, stderr } = await runRunnerToExit(['-f', app.manifest, ...args], { cwd: app.dir });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
    expectOneLineError(stderr);
  });

  it.each([
    ['under /proc (reading some of those blocks forever)', '/proc/kmsg', /not a place for a database file/],
    ['a directory', '.', /is a directory/],
  ])('refuses a SQLite path %s in one line', async (_what, sqlitePath, message) => {
    app = makeAppDir();
    const config = path.join(app.dir, 'rc.toml');
    writeFileSync(config, `[key_value_store.default]\ntype = "spin"\npath = "${sqlitePath}"\n`);
    const { code, stderr } = await runRunnerToExit(['-f', app.manifest, '--runtime-config-file', config]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
    expectOneLineError(stderr);
  });

  it('reports a .spin that cannot be created in one line', async () => {
    app = makeAppDir();
    writeFileSync(path.join(app.dir, '.spin'), 'a file where the directory should be');
    const { code, stderr } = await runRunnerToExit(['-f', app.manifest], { cwd: app.dir });
    expect(code).not.toBe(0);
    expect(stderr).toContain('.spin');
    expectOneLineError(stderr);
  });
});

describe('--kv-timeout (the protective mode, not Spin\'s behaviour)', () => {
  it.each(['0', '3000000000', '600001', '1.5', '-5', 'soon'])('refuses %j, naming the range', async (value) => {
    const { code, stderr } = await runRunnerToExit([`--kv-timeout=${value}`]);
    expect(code).toBe(2);
    expect(stderr).toContain('--kv-timeout: expected a whole number from 1 to 600000');
    expectOneLineError(stderr);
  });

  it('says at start-up that it is not what Spin does', async () => {
    app = makeAppDir();
    const runner = await startRunner({ args: ['-f', app.manifest, '--kv-timeout', '250'], cwd: app.dir });
    try {
      expect(runner.stderr()).toContain("--kv-timeout 250: Redis operations give up after 250 ms");
      expect(runner.stderr()).toContain('This is NOT what Spin does');
    } finally {
      await runner.stop();
    }
  });

  it('is off by default: no such line', async () => {
    app = makeAppDir();
    const runner = await startRunner({ args: ['-f', app.manifest], cwd: app.dir });
    try {
      expect(runner.stderr()).not.toContain('--kv-timeout');
    } finally {
      await runner.stop();
    }
  });
});

describe('listening and logs', () => {
  it('warns when listening beyond loopback', async () => {
    app = makeAppDir();
    const runner = await startRunner({ args: ['-f', app.manifest, '--listen', '0.0.0.0:0'], cwd: app.dir });
    try {
      expect(runner.stderr()).toMatch(/Warning: listening on 0\.0\.0\.0, reachable from other machines/);
    } finally {
      await runner.stop();
    }
  });

  it('appends the component\'s stdout and stderr to .spin/logs/<component>_stdout.txt / _stderr.txt, as spin up does', async () => {
    app = makeAppDir();
    const runner = await startRunner({ args: ['-f', app.manifest], cwd: app.dir });
    try {
      expect(runner.stderr()).toContain('Logging component stdio to ".spin/logs/"');
      // An unparsable port in Host makes the guest itself log an exception.
      await new Promise((resolve) => {
        http.get(`${runner.baseUrl}/healthz`, { headers: { host: 'x:99999' } }, (res) => res.resume().on('end', resolve)).on('error', resolve);
      });
      const stderrLog = path.join(app.dir, '.spin', 'logs', 'cache-with-az-redis_stderr.txt');
      await expect.poll(() => readFileSync(stderrLog, 'utf8')).toContain('Exception while initialization of FetchEvent');
      expect(readFileSync(path.join(app.dir, '.spin', 'logs', 'cache-with-az-redis_stdout.txt'), 'utf8')).toBe('');
    } finally {
      await runner.stop();
    }
  });
});
