// What `spin up` does with the built component, asserted the same on both hosts: real Spin (when
// SPIN_BIN is set) and the runner, which must predict it. Each rule names the Spin source it
// comes from (spinframework/spin v3.6.3 and v4.0.2 unless said otherwise).
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppDir, makeAppDir } from '../support/app-dir';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';
import { serveApp } from '../support/served-app';
import { HOSTS, type RunningApp, runToExit, startApp } from '../support/host';
import { type RedisBackedApp, startRedisBackedApp, waitForCacheHit } from '../support/redis-app';
import { type RedisServer, skipUnlessAvailable, startRedisServer } from '../support/redis-server';

/** Sends raw bytes; resolves with everything received before the server closed the connection. */
function raw(baseUrl: string, request: string | Buffer) {
  const { hostname, port } = new URL(baseUrl);
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`no close within 10 s; got ${JSON.stringify(out.slice(0, 200))}`));
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
const bodyOf = (response: string) => response.slice(response.indexOf('\r\n\r\n') + 4);

describe.each(HOSTS)('spin up parity, on %s', (host) => {
  let app: AppDir;
  let server: RunningApp;
  let stop: () => Promise<void>;

  beforeAll(async () => ({ app, server, stop } = await serveApp(host)));
  afterAll(() => stop?.());

  // crates/trigger-http/src/server.rs `handle`: WELL_KNOWN_PREFIX paths are answered before routing.
  it('answers /.well-known/spin/health and /info itself, other well-known paths with an empty 404', async () => {
    const health = await fetch(`${server.baseUrl}/.well-known/spin/health`);
    expect([health.status, await health.text(), health.headers.get('content-type')]).toEqual([200, 'OK', null]);
    const info = await fetch(`${server.baseUrl}/.well-known/spin/info`);
    expect(info.headers.get('content-type')).toBe('application/json');
    expect(await info.text()).toBe('{\n  "name": "cache-with-az-redis",\n  "version": "0.1.0"\n}');
    const other = await fetch(`${server.baseUrl}/.well-known/spin/nothing`);
    expect([other.status, await other.text()]).toEqual([404, '']);
    // Without the trailing slash it is an ordinary path, which the component answers.
    const plain = await fetch(`${server.baseUrl}/.well-known/spin`);
    expect([plain.status, await plain.text()]).toEqual([404, '{"error":"not found"}']);
  });

  // server.rs `set_req_uri`: the Host header must parse as an http::uri::Authority; when it does
  // not, `handle` returns an error and hyper closes the connection without any response.
  it.each(['a b', '[::1', '', 'x/cache?', 'ex%61mple.com'])('gives no response to a routed request with Host %j', async (hostHeader) => {
    const response = await raw(server.baseUrl, `GET /healthz HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`);
    expect(response).toBe('');
  });

  it('gives no response without a Host, or with one that contradicts an absolute-form target', async () => {
    expect(await raw(server.baseUrl, 'GET /healthz HTTP/1.1\r\n\r\n')).toBe('');
    expect(await raw(server.baseUrl, 'GET http://a/healthz HTTP/1.1\r\nHost: b\r\n\r\n')).toBe('');
  });

  it('takes the authority from an absolute-form target, and answers well-known paths whatever the Host', async () => {
    const absolute = await raw(server.baseUrl, 'GET http://a/healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect([statusOf(absolute), bodyOf(absolute)]).toEqual([200, '{"status":"ok"}']);
    const health = await raw(server.baseUrl, 'GET /.well-known/spin/health HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n');
    expect([statusOf(health), bodyOf(health)]).toEqual([200, 'OK']);
    // A userinfo parses as part of an authority; the component then routes on the path alone.
    const userinfo = await raw(server.baseUrl, 'GET /healthz HTTP/1.1\r\nHost: user@host\r\nConnection: close\r\n\r\n');
    expect(statusOf(userinfo)).toBe(200);
  });

  it('never lets the Host header change the path: a "Host: x/cache?" DELETE /healthz clears nothing', async () => {
    await (await fetch(`${server.baseUrl}/items`)).arrayBuffer();
    expect(await raw(server.baseUrl, 'DELETE /healthz HTTP/1.1\r\nHost: x/cache?\r\nConnection: close\r\n\r\n')).toBe('');
    const after = await fetch(`${server.baseUrl}/items`);
    await after.arrayBuffer();
    expect(after.headers.get('x-served-from-cache')).toBe('true');
  });

  // Spin sets no request body limit: the component sees the POST and answers 405 itself
  // (measured on spin up 4.0.2 with a 20 MB body).
  // The component answers without reading the body. Spin sends that answer as soon as the head
  // has arrived and then drops the connection; had the client been uploading meanwhile, the reset
  // could discard the answer before it is read. So the body follows only if no answer came first.
  it('hands a 20 MB POST to the component, which answers 405', async () => {
    const { port } = new URL(server.baseUrl);
    const size = 20_000_000;
    const socket = net.connect(Number(port), '127.0.0.1');
    let reply = '';
    socket.on('data', (data) => (reply += data));
    socket.on('error', () => undefined); // a reset once the server has answered
    await once(socket, 'connect');
    socket.write(`POST /items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${size}\r\n\r\n`);
    await Promise.race([once(socket, 'data'), new Promise((resolve) => setTimeout(resolve, 2_000))]);
    if (reply === '') socket.write(Buffer.alloc(size, 0x61));
    await expect.poll(() => reply, { timeout: 20_000 }).toMatch(/\r\n\r\n/);
    socket.destroy();
    expect(reply).toMatch(/^HTTP\/1\.1 405 /);
    expect(reply).toMatch(/\r\nallow: GET, HEAD\r\n/i);
  });

  // crates/key-value-spin/src/store.rs `get` reads `value` with rusqlite as Vec<u8>, which only a
  // BLOB satisfies; the component serves the catalog, replaces the unreadable row, and logs why to
  // its stderr, which `spin up` also appends to .spin/logs/<component>_stderr.txt
  // (crates/trigger/src/cli/stdio.rs). (test/e2e/cache-values.test.ts covers the healing itself.)
  it('treats a TEXT row as a read error: GET /items serves the catalog and the guest log says why, in .spin/logs too', async () => {
    await (await fetch(`${server.baseUrl}/items`)).arrayBuffer(); // the cache entry exists now
    const db = new Database(app.sqliteFile);
    try {
      db.prepare('UPDATE spin_key_value SET value = CAST(value AS TEXT) WHERE store = ? AND key = ?').run('default', ITEMS_KEY);
    } finally {
      db.close();
    }
    const response = await fetch(`${server.baseUrl}/items`);
    expect([response.status, await response.text(), response.headers.get('x-served-from-cache')]).toEqual([200, ITEMS_JSON, 'false']);
    const line = `cache value under ${ITEMS_KEY} is unreadable (other: InvalidColumnType(0, "value", Text)); overwriting it`;
    await expect.poll(() => server.stderr()).toContain(line);
    const logFile = path.join(app.dir, '.spin', 'logs', 'cache-with-az-redis_stderr.txt');
    expect(readFileSync(logFile, 'utf8')).toContain(line);
  });
});

describe.each(HOSTS)('start-up, on %s', (host) => {
  let app: AppDir | undefined;
  afterAll(() => app?.remove());

  // crates/factors/src/lib.rs: `#[error("unused runtime config key(s): {}", keys.join(", "))]`.
  it('stops on an unknown runtime-config key, naming it (a typo never leaves the app on SQLite)', async () => {
    app = makeAppDir();
    const config = path.join(app.dir, 'typo.toml');
    writeFileSync(config, '[key_value_stores.default]\ntype = "redis"\nurl = "redis://127.0.0.1:1"\n');
    const { code, stderr } = await runToExit(host, { args: ['-f', app.manifest, '--runtime-config-file', config], cwd: app.dir });
    expect(code).not.toBe(0);
    expect(stderr).toContain('unused runtime config key(s): key_value_stores');
  });
});

// crates/variables-env/src/lib.rs: SPIN_VARIABLE_<NAME> from the environment, and when the
// environment lacks it, from the `.env` file (`dotenv_path` defaults to ".env", relative to the
// directory `spin up` runs in). `--variable` is a provider of its own, ahead of both.
describe.each(HOSTS)('variables, on %s', (host) => {
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
    const running = await startApp(host, { args: ['-f', app.manifest, ...args], cwd, env: { SPIN_VARIABLE_CACHE_ADMIN_TOKEN: undefined, ...env } });
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
    const running = await startApp(host, { args: ['-f', app.manifest], cwd: app.dir, env: { SPIN_VARIABLE_CACHE_ADMIN_TOKEN: '' } });
    try {
      expect((await fetch(`${running.baseUrl}/cache`, { method: 'DELETE' })).status).toBe(204);
    } finally {
      await running.stop();
      app.remove();
    }
  });
});

// crates/key-value-redis/src/store.rs keeps one redis-rs ConnectionManager per store, with no
// response timeout (redis-rs 0.32.5 DEFAULT_RESPONSE_TIMEOUT = None); each request runs in its own
// task (crates/trigger-http/src/server.rs `serve_connection` spawns one per connection). So a
// paused Redis stalls the requests that use the store, only those, until it resumes.
describe.skipIf(skipUnlessAvailable('redis-server')).each(HOSTS)('a paused Redis, on %s', (host) => {
  let redis: RedisServer;
  let app: RedisBackedApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startRedisBackedApp(host, redis.url);
    await waitForCacheHit(app);
  });
  afterAll(async () => {
    redis?.resume();
    await app?.stop();
    await redis?.stop();
  });

  it('stalls GET /items until Redis resumes, while other requests are answered meanwhile', async () => {
    redis.pause();
    let items: Promise<Response> | undefined;
    try {
      items = app.get('/items');
      const settled = await Promise.race([items.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 2_000))]);
      expect(settled).toBe('waiting');
      const healthz = await app.get('/healthz', { signal: AbortSignal.timeout(5_000) });
      expect([healthz.status, await healthz.text()]).toEqual([200, '{"status":"ok"}']);
      const health = await app.get('/.well-known/spin/health', { signal: AbortSignal.timeout(5_000) });
      expect(health.status).toBe(200);
    } finally {
      redis.resume();
    }
    const response = await items!;
    expect([response.status, await response.text(), response.headers.get('x-served-from-cache')]).toEqual([200, ITEMS_JSON, 'true']);
  });
});
