// The app served against a Redis runtime config, as `spin up --runtime-config-file` runs it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type AppDir, makeAppDir } from './app-dir';
import { type HostName, type RunningApp, type StartOptions, startApp } from './host';

export interface RedisBackedApp {
  app: AppDir;
  server: RunningApp;
  get(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export function writeRedisRuntimeConfig(app: AppDir, url: string): string {
  const config = path.join(app.dir, 'redis.toml');
  writeFileSync(config, `[key_value_store.default]\ntype = "redis"\nurl = "${url}"\n`, { mode: 0o600 });
  return config;
}

export async function startRedisBackedApp(host: HostName, url: string, options: StartOptions = {}): Promise<RedisBackedApp> {
  const app = makeAppDir();
  const config = writeRedisRuntimeConfig(app, url);
  const server = await startApp(host, {
    ...options,
    cwd: app.dir,
    args: ['-f', app.manifest, '--runtime-config-file', config, ...(options.args ?? [])],
  }).catch((error: unknown) => {
    app.remove();
    throw error;
  });
  return {
    app,
    server,
    get: (p, init) => fetch(`${server.baseUrl}${p}`, init),
    stop: async () => {
      await server.stop();
      app.remove();
    },
  };
}

/** Polls until GET /items is served from the cache again (Redis reachable and written to). */
export async function waitForCacheHit(app: RedisBackedApp, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const response = await app.get('/items', { signal: AbortSignal.timeout(Math.max(1, timeoutMs - (Date.now() - started))) });
    await response.arrayBuffer();
    if (response.headers.get('x-served-from-cache') === 'true') return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no cache hit within ${timeoutMs} ms`);
}
