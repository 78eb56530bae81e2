/**
 * A real, throw-away `redis-server` for tests, on a free loopback port.
 *
 *     import { startRedisServer } from '../support/redis-server';
 *
 *     describe.skipIf(skipWithout('redis-server'))('…', () => {   // ./host
 *       let redis: RedisServer;
 *       beforeAll(async () => { redis = await startRedisServer(); });
 *       afterAll(() => redis?.stop());
 *       it('…', async () => {
 *         // redis.url  → redis://:<percent-encoded password>@127.0.0.1:<port>/0
 *         // redis.urlFor({ db: 2, insecure: true, password: 'wrong' })
 *         const c = await redis.client();                 // plain node-redis client (closed by stop())
 *         const calls = await redis.commandCalls();       // INFO commandstats → { get: 3, set: 1, … }
 *       });
 *     });
 *
 * The server runs with `--save '' --appendonly no`, a temp `--dir`, loopback-only
 * `--bind`, and `--requirepass` set to a password containing `+ / =` (the
 * characters of Azure access keys) unless `password: ''` is passed. With
 * `{ tls }` (see `./tls`) it listens for TLS only (`--port 0 --tls-port N`,
 * `--tls-auth-clients no`) and `url` is `rediss://…`.
 *
 * Process control: `stop()` (graceful, also closes helper clients and removes
 * the temp dir), `kill()` (SIGKILL, keeps the port for `restart()`), `restart()`
 * (same port and options; the data is gone), `pause()` / `resume()` (SIGSTOP /
 * SIGCONT: the kernel still accepts connections and buffers data, nothing is
 * answered). Every server still running when the test process exits is
 * SIGKILLed, so no process is left behind even if a test forgets `stop()`.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import type { TlsFiles } from './tls';

export type PlainClient = ReturnType<typeof createClient>;

export interface RedisServerOptions {
  /** `--requirepass`; default: a fresh random password containing `+`, `/` and `=`; '' = none */
  password?: string;
  /** serve TLS only, with these files (see generateTlsFiles in ./tls) */
  tls?: TlsFiles;
  /** port to use (default: a free one) */
  port?: number;
  /** extra redis-server arguments, e.g. ['--enable-debug-command', 'yes'] */
  args?: string[];
  /** how long to wait for "Ready to accept connections" (default 10 s) */
  startTimeoutMs?: number;
}

export interface UrlOptions {
  /** database index for the `/N` path (default 0) */
  db?: number;
  /** password to put in the URL (default: the server's), percent-encoded */
  password?: string;
  /** username to put in the URL */
  username?: string;
  /** append `#insecure` */
  insecure?: boolean;
  /** host to use (default 127.0.0.1) */
  host?: string;
}

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** the password (raw, not encoded); '' when none */
  readonly password: string;
  readonly tls: boolean;
  /** `redis[s]://:<encoded password>@127.0.0.1:<port>/0` */
  readonly url: string;
  /** the server's pid (changes on restart) */
  readonly pid: number;
  /** everything the server printed so far (for diagnostics) */
  output(): string;
  /** a URL for this server with other options */
  urlFor(options?: UrlOptions): string;
  /** a connected plain node-redis client (closed by stop()) */
  client(options?: { db?: number }): Promise<PlainClient>;
  /** `INFO <section>` parsed into key → value */
  info(section?: string): Promise<Record<string, string>>;
  /** calls per command from `INFO commandstats`, e.g. { get: 2, set: 1 } */
  commandCalls(): Promise<Record<string, number>>;
  /** graceful shutdown + cleanup (idempotent) */
  stop(): Promise<void>;
  /** SIGKILL; `restart()` brings it back on the same port */
  kill(): Promise<void>;
  /** starts the server again on the same port with the same options (empty data) */
  restart(): Promise<void>;
  /** SIGSTOP */
  pause(): void;
  /** SIGCONT */
  resume(): void;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A random password that contains `+`, `/` and `=` (like an Azure access key). */
export function makePassword(): string {
  return `${crypto.randomBytes(12).toString('base64').replace(/[+/=]/g, 'x')}+/=Az+/=`;
}

/** Starts a redis-server and resolves once it accepts connections. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  installExitHook();
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort());
  const password = options.password ?? makePassword();
  const tls = options.tls;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-redis-'));
  const args = [
    '--port', tls ? '0' : String(port),
    '--bind', '127.0.0.1', '-::1',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--logfile', '',
    '--daemonize', 'no',
  ];
  if (password) args.push('--requirepass', password);
  if (tls) {
    args.push(
      '--tls-port', String(port),
      '--tls-cert-file', tls.serverCert,
      '--tls-key-file', tls.serverKey,
      '--tls-ca-cert-file', tls.caCert,
      '--tls-auth-clients', 'no',
    );
  }
  args.push(...(options.args ?? []));

  let child: ChildProcess | null = null;
  let out = '';
  let paused = false;
  const clients = new Set<PlainClient>();
  let admin: PlainClient | null = null;

  const urlFor = (u: UrlOptions = {}) => {
    const pw = u.password ?? password;
    const user = u.username ? encodeURIComponent(u.username) : '';
    const auth = pw || user ? `${user}${pw ? `:${encodeURIComponent(pw)}` : ''}@` : '';
    return `${tls ? 'rediss' : 'redis'}://${auth}${u.host ?? host}:${port}/${u.db ?? 0}${u.insecure ? '#insecure' : ''}`;
  };

  const launch = async () => {
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    live.add(proc);
    proc.on('exit', () => live.delete(proc));
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`redis-server did not become ready within ${timeoutMs} ms:\n${out}`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited during startup (${signal ?? code}):\n${out}`));
      });
    });
    // onData stays attached: the output keeps being drained (and recorded)
  };

  const waitExit = (proc: ChildProcess, ms: number) =>
    new Promise<boolean>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve(true);
      const timer = setTimeout(() => resolve(false), ms);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });

  const newClient = async (db = 0): Promise<PlainClient> => {
    const c = createClient({
      socket: {
        host,
        port,
        ...(tls ? { tls: true as const, ca: [tls.caPem] } : {}),
        reconnectStrategy: () => 100,
        connectTimeout: 2000,
      },
      password: password || undefined,
      database: db,
    });
    c.on('error', () => {
      // the server is killed/paused on purpose in some tests
    });
    await c.connect();
    clients.add(c);
    return c;
  };

  const info = async (section = 'default') => {
    admin ??= await newClient();
    const text = await admin.info(section);
    const result: Record<string, string> = {};
    for (const line of text.split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('#')) result[line.slice(0, i)] = line.slice(i + 1);
    }
    return result;
  };

  const closeClients = async () => {
    for (const c of clients) {
      try {
        c.destroy();
      } catch {
        // already closed
      }
    }
    clients.clear();
    admin = null;
  };

  await launch();

  const server: RedisServer = {
    host,
    port,
    password,
    tls: Boolean(tls),
    url: urlFor(),
    get pid() {
      return child?.pid ?? -1;
    },
    output: () => out,
    urlFor,
    client: async (o = {}) => newClient(o.db ?? 0),
    info,
    async commandCalls() {
      const stats = await info('commandstats');
      const calls: Record<string, number> = {};
      for (const [k, v] of Object.entries(stats)) {
        const m = /^cmdstat_(.+)$/.exec(k);
        const c = /calls=(\d+)/.exec(v);
        if (m && c) calls[m[1]!] = Number(c[1]);
      }
      return calls;
    },
    async stop() {
      await closeClients();
      const proc = child;
      child = null;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        if (paused) proc.kill('SIGCONT');
        paused = false;
        proc.kill('SIGTERM');
        if (!(await waitExit(proc, 3000))) {
          proc.kill('SIGKILL');
          await waitExit(proc, 3000);
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      const proc = child;
      if (!proc) return;
      proc.kill('SIGKILL');
      paused = false;
      await waitExit(proc, 3000);
    },
    async restart() {
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) await server.kill();
      out = '';
      await launch();
    },
    pause() {
      child?.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      child?.kill('SIGCONT');
      paused = false;
    },
  };
  return server;
}
