// The deployment smoke test (`npm run smoke -- URL`) passes against the real component served by
// the runner, exactly as a user runs it after `npm start`.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppDir, makeAppDir } from '../support/app-dir';
import { APP_DIR, type RunningApp, startRunner } from '../support/runner';

describe('smoke test against the runner', () => {
  let app: AppDir;
  let runner: RunningApp;

  beforeAll(async () => {
    app = makeAppDir();
    runner = await startRunner({ args: ['-f', app.manifest, '--variable', 'cache_admin_token=smoke-token'] });
  });

  afterAll(async () => {
    await runner?.stop();
    app?.remove();
  });

  const smoke = (...args: string[]) =>
    spawnSync(process.execPath, ['deploy/smoke.js', runner.baseUrl, ...args], { cwd: APP_DIR, encoding: 'utf8', timeout: 30_000 });

  it('passes every step with the admin token', () => {
    const result = smoke('--token', 'smoke-token');
    expect(result.stderr + result.stdout).not.toContain('smoke-token');
    expect(result.stdout).toMatch(/PASS/);
    expect(result.stdout).not.toMatch(/FAIL/);
    expect(result.status).toBe(0);
  });

  it('fails, naming the step, without the token', () => {
    const result = smoke();
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/FAIL.*(DELETE|cache)/i);
  });
});
