// The app served by the runner against a Redis runtime config, as `spin up
// --runtime-config-file` would run it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type AppDir, makeAppDir } from './app-dir';
import { type RunningApp, startRunner } from './runner';

export interface RedisBackedApp {
  app: AppDir;
  runner: RunningApp;
  get(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export async function startRedisBackedApp(url: string, { args = [] as string[], env = {} as NodeJS.ProcessEnv } = {}): Promise<RedisBackedApp> {
  const app = makeAppDir();
  const config = path.join(app.dir, 'redis.toml');
  writeFileSync(config, `[key_value_store.default]\ntype = "redis"\nurl = "${url}"\n`, { mode: 0o600 });
  const runner = await startRunner({ args: ['-f', app.manifest, '--runtime-config-file', config, ...args], env });
  return {
    app,
    runner,
    get: (p, init) => fetch(`${runner.baseUrl}${p}`, init),
    stop: async () => {
      await runner.stop();
      app.remove();
    },
  };
}

/** Polls until GET /items is served from the cache again (Redis reachable and written to). */
export async function waitForCacheHit(app: RedisBackedApp, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const response = await app.get('/items');
    await response.arrayBuffer();
    if (response.headers.get('x-served-from-cache') === 'true') return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no cache hit within ${timeoutMs} ms`);
}
