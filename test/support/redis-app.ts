// The app served against a Redis runtime config, as `spin up --runtime-config-file` runs it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AppDir } from './app-dir';
import type { StartOptions } from './host';
import { type ServedApp, serveApp } from './served-app';

export type RedisBackedApp = ServedApp;

export function writeRedisRuntimeConfig(app: AppDir, url: string): string {
  const config = path.join(app.dir, 'redis.toml');
  writeFileSync(config, `[key_value_store.default]\ntype = "redis"\nurl = "${url}"\n`, { mode: 0o600 });
  return config;
}

export function startRedisBackedApp(url: string, options: StartOptions = {}): Promise<RedisBackedApp> {
  return serveApp({ ...options, configure: (app) => ['--runtime-config-file', writeRedisRuntimeConfig(app, url)] });
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
