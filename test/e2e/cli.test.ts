// Start-up mistakes end with one clear line naming the file, key or flag, and a non-zero exit.
import { writeFileSync } from 'node:fs';
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

describe('Spin variables', () => {
  const TOKEN = 'tok-en+/=';

  for (const [how, options] of [
    ['SPIN_VARIABLE_CACHE_ADMIN_TOKEN', { env: { SPIN_VARIABLE_CACHE_ADMIN_TOKEN: TOKEN } }],
    ['--variable', { args: [`--variable`, `cache_admin_token=${TOKEN}`] }],
  ] as const) {
    it(`protects DELETE /cache when the token is set with ${how}`, async () => {
      app = makeAppDir();
      const runner = await startRunner({ ...options, args: ['-f', app.manifest, ...('args' in options ? options.args : [])] });
      try {
        const del = (headers: Record<string, string> = {}) => fetch(`${runner.baseUrl}/cache`, { method: 'DELETE', headers });
        const missing = await del();
        expect(missing.status).toBe(401);
        expect(missing.headers.get('www-authenticate')).toBe('Bearer');
        expect((await del({ authorization: 'Bearer nope' })).status).toBe(401);
        expect((await del({ authorization: `Bearer ${TOKEN}` })).status).toBe(204);
        expect(runner.stdout() + runner.stderr()).not.toContain(TOKEN);
      } finally {
        await runner.stop();
      }
    });
  }

  it('leaves DELETE /cache open when no token is set', async () => {
    app = makeAppDir();
    const runner = await startRunner({ args: ['-f', app.manifest], env: { SPIN_VARIABLE_CACHE_ADMIN_TOKEN: '' } });
    try {
      expect((await fetch(`${runner.baseUrl}/cache`, { method: 'DELETE' })).status).toBe(204);
    } finally {
      await runner.stop();
    }
  });
});
