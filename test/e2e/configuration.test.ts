// How the app is configured under `spin up`: the runtime config and the variables. Each rule names
// the Spin source it rests on (spinframework/spin v3.6.3 and v4.0.2).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AppDir, makeAppDir } from '../support/app-dir';
import { runToExit, skipWithout, spin, startApp } from '../support/host';

describe.skipIf(skipWithout())('start-up', () => {
  let app: AppDir | undefined;
  afterAll(() => app?.remove());

  // crates/factors/src/lib.rs: `#[error("unused runtime config key(s): {}", keys.join(", "))]`.
  it('stops on an unknown runtime-config key, naming it (a typo never leaves the app on SQLite)', async () => {
    app = makeAppDir();
    const config = path.join(app.dir, 'typo.toml');
    writeFileSync(config, '[key_value_stores.default]\ntype = "redis"\nurl = "redis://127.0.0.1:1"\n');
    const { code, stderr } = await runToExit([spin(), 'up', '-f', app.manifest, '--runtime-config-file', config], { cwd: app.dir });
    expect(code).not.toBe(0);
    expect(stderr).toContain('unused runtime config key(s): key_value_stores');
  });
});

// crates/variables-env/src/lib.rs: SPIN_VARIABLE_<NAME> from the environment, and when the
// environment lacks it, from the `.env` file (`dotenv_path` defaults to ".env", relative to the
// directory `spin up` runs in). `--variable` is a provider of its own, ahead of both.
describe.skipIf(skipWithout())('variables', () => {
  const TOKEN = 'tok-en+/=';
  const cases: Array<[string, { env?: NodeJS.ProcessEnv; args?: string[]; dotenv?: string }, string]> = [
    ['SPIN_VARIABLE_CACHE_ADMIN_TOKEN', { env: { SPIN_VARIABLE_CACHE_ADMIN_TOKEN: TOKEN } }, TOKEN],
    ['--variable', { args: ['--variable', `cache_admin_token=${TOKEN}`] }, TOKEN],
    ['.env', { dotenv: `# the admin token\nSPIN_VARIABLE_CACHE_ADMIN_TOKEN="${TOKEN}"\n` }, TOKEN],
    ['the environment over .env', { env: { SPIN_VARIABLE_CACHE_ADMIN_TOKEN: TOKEN }, dotenv: 'SPIN_VARIABLE_CACHE_ADMIN_TOKEN=other\n' }, TOKEN],
  ];

  it.each(cases)('protects DELETE /cache with the token from %s', async (_how, { env = {}, args = [], dotenv }, token) => {
    const app = makeAppDir();
    // .env is read from the directory spin up runs in; run from a subdirectory to show it is not the app's.
    const cwd = path.join(app.dir, 'run-here');
    mkdirSync(cwd);
    if (dotenv) writeFileSync(path.join(cwd, '.env'), dotenv);
    const running = await startApp({ args: ['-f', app.manifest, ...args], cwd, env: { SPIN_VARIABLE_CACHE_ADMIN_TOKEN: undefined, ...env } });
    try {
      const del = (headers: Record<string, string> = {}) => fetch(`${running.baseUrl}/cache`, { method: 'DELETE', headers });
      const missing = await del();
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      expect((await del({ authorization: 'Bearer nope' })).status).toBe(401);
      expect((await del({ authorization: `Bearer ${token}` })).status).toBe(204);
      expect(running.stdout() + running.stderr()).not.toContain(token);
    } finally {
      await running.stop();
      app.remove();
    }
  });

  it('leaves DELETE /cache open when the token is empty', async () => {
    const app = makeAppDir();
    const running = await startApp({ args: ['-f', app.manifest], cwd: app.dir, env: { SPIN_VARIABLE_CACHE_ADMIN_TOKEN: '' } });
    try {
      expect((await fetch(`${running.baseUrl}/cache`, { method: 'DELETE' })).status).toBe(204);
    } finally {
      await running.stop();
      app.remove();
    }
  });
});
