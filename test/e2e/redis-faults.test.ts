// Errors that Redis reports reach the component as failed store calls, and the component fails
// open: GET /items answers 200 from the catalog, DELETE /cache says 503, and no log line carries
// the password. (Hangs — Redis killed, paused or unreachable — are in redis-under-spin.test.ts.)
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITEMS_JSON } from '../support/expected';
import { guestStderr } from '../support/guest-log';
import { skipWithout } from '../support/host';
import { type RedisBackedApp, startRedisBackedApp } from '../support/redis-app';
import { type RedisServer, makePassword, startRedisServer } from '../support/redis-server';

/**
 * A loopback stand-in for a Redis that accepts the client's `AUTH` and answers every other command
 * with an error, so Spin reports a failure at once instead of retrying a refused connection for
 * minutes. It records the commands it was sent.
 */
async function startRefusingRedis() {
  const commands: string[][] = [];
  const server = net.createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (let parsed = parseCommand(pending); parsed; parsed = parseCommand(pending)) {
        pending = pending.subarray(parsed.length);
        commands.push(parsed.args);
        socket.write(parsed.args[0]?.toUpperCase() === 'AUTH' ? '+OK\r\n' : '-ERR stand-in refuses every command\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, commands, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** One RESP array of bulk strings from the start of `data`, or null until it is complete. */
function parseCommand(data: Buffer): { args: string[]; length: number } | null {
  let at = 0;
  const line = () => {
    const end = data.indexOf('\r\n', at);
    if (end < 0) return null;
    const text = data.toString('latin1', at, end);
    at = end + 2;
    return text;
  };
  const head = line();
  if (head === null || !head.startsWith('*')) return null;
  const args: string[] = [];
  for (let i = 0; i < Number(head.slice(1)); i++) {
    const size = line();
    if (size === null || at + Number(size.slice(1)) + 2 > data.length) return null;
    args.push(data.toString('utf8', at, at + Number(size.slice(1))));
    at += Number(size.slice(1)) + 2;
  }
  return { args, length: at };
}

describe.skipIf(skipWithout())('Redis that answers errors', () => {
  const password = makePassword();
  let standIn: Awaited<ReturnType<typeof startRefusingRedis>>;
  let app: RedisBackedApp;

  beforeAll(async () => {
    standIn = await startRefusingRedis();
    app = await startRedisBackedApp(`redis://:${encodeURIComponent(password)}@127.0.0.1:${standIn.port}/0`);
  });

  afterAll(async () => {
    await app?.stop();
    await standIn?.close();
  });

  it('serves the catalog, refuses the clear, and never logs the password', async () => {
    const items = await app.get('/items', { signal: AbortSignal.timeout(10_000) });
    expect([items.status, await items.text(), items.headers.get('x-served-from-cache')]).toEqual([200, ITEMS_JSON, 'false']);
    const clear = await app.get('/cache', { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
    expect([clear.status, await clear.text()]).toEqual([503, '{"error":"cache unavailable: the cache was not cleared"}']);

    expect(standIn.commands).toContainEqual(['AUTH', password]);
    await expect.poll(() => guestStderr(app)).toMatch(/cache (open|read) failed: .*stand-in refuses every command/);
    await expect.poll(() => guestStderr(app)).toMatch(/cache clear failed: .*stand-in refuses every command/);
    const output = guestStderr(app) + app.server.stdout();
    for (const form of [password, encodeURIComponent(password)]) expect(output).not.toContain(form);
  });
});

describe.skipIf(skipWithout('redis-server'))('Redis with the wrong password', () => {
  let redis: RedisServer;
  let app: RedisBackedApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startRedisBackedApp(redis.urlFor({ password: 'wrong+/=pass' }));
  });

  afterAll(async () => {
    await app?.server.kill(); // its request is still waiting on Redis
    await app?.stop();
    await redis?.stop();
  });

  // Spin opens its one ConnectionManager with redis-rs 0.32 defaults (spin crates/key-value-redis/src/store.rs,
  // `get_connection_manager`); redis-rs retries every failed connect, a refused AUTH included, up to 6 times
  // through backon with `with_factor(100)` on backon's 1 s minimum and 60 s cap (redis
  // src/aio/connection_manager.rs, `new_with_config`/`new_connection`): the store open returns only
  // after 5 to 10 minutes (docs/redis-under-spin.md).
  it('leaves GET /items unanswered for minutes while /healthz answers', async () => {
    const outcome = await app
      .get('/items', { signal: AbortSignal.timeout(5_000) })
      .then((response) => response.status)
      .catch((error: Error) => error.name);
    expect(outcome).toBe('TimeoutError');
    expect((await app.get('/healthz', { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
  });
});
