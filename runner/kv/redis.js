/**
 * Redis key-value backend with a synchronous API, compatible with Spin's
 * `type = "redis"` store: `PING` on every store open, then plain `GET` / `SET` /
 * `DEL` / `EXISTS` / `KEYS *`, no key prefix, the database selected by the URL path.
 *
 * The WIT host calls are synchronous, so the node-redis client lives in a worker
 * thread. Each operation is posted to the worker over a `MessageChannel`; the
 * calling thread then blocks with `Atomics.wait` on a shared counter and picks the
 * reply up with `receiveMessageOnPort`. Replies carry the request id, so a late
 * reply is dropped and can never be taken for the answer to a later request.
 *
 * Two behaviours:
 *  - by default, Spin's (redis-manager-worker.js): one connection manager with
 *    redis-rs's defaults, created by the first store open; no operation timeout, so
 *    a stalled Redis stalls the request, and an unreachable one fails it only after
 *    the reconnection attempts (minutes);
 *  - with `timeoutMs` (the runner's `--kv-timeout`, not Spin's behaviour;
 *    redis-worker.js): connecting starts at once and goes on in the background; an
 *    operation fails at once while disconnected, after `timeoutMs` without a reply,
 *    and instantly for `breakerCoolOffMs` after `breakerThreshold` consecutive
 *    failures (a circuit breaker). Commands are still exactly Spin's, so a write
 *    that reached a stalled server is applied when it wakes up.
 *
 * Nothing here ever logs or throws the password or the URL's userinfo.
 *
 * @module runner/kv/redis
 */

import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { KvBackendError, redactSecrets } from './errors.js';
import { CTL, STATE } from './redis-protocol.js';
import { opensslTrust } from './tls-trust.js';


/** Thrown by {@link parseRedisUrl}; the message never quotes the URL. */
export class RedisUrlError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

/**
 * @typedef {object} RedisTarget
 * @property {boolean} tls           `rediss://`
 * @property {string} host           host name or IP (IPv6 without brackets)
 * @property {number} port           default 6379
 * @property {string | undefined} username  percent-decoded
 * @property {string | undefined} password  percent-decoded
 * @property {number} database       from the `/N` path, default 0
 * @property {boolean} insecure      `#insecure`: skip certificate verification
 * @property {string} display        `redis[s]://host:port/db`, without credentials
 */

const PASSWORD_HINT = 'percent-encode / # ? @ % in the password';

/**
 * Parses and validates a Redis URL the way Spin does:
 * `redis[s]://[[username]:password@]host[:port][/db][#insecure]`. The username
 * and password are percent-decoded (`%2B` → `+`, `%2F` → `/`, `%3D` → `=`);
 * the only fragment accepted is `#insecure`; the query string is ignored.
 *
 * @param {string} url
 * @returns {RedisTarget}
 * @throws {RedisUrlError} with a short reason that quotes nothing but the scheme
 */
export function parseRedisUrl(url) {
  if (typeof url !== 'string' || url.trim() === '') throw new RedisUrlError('empty URL');
  let u;
  try {
    u = new URL(url.trim());
  } catch {
    throw new RedisUrlError(`invalid URL (${PASSWORD_HINT})`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    const scheme = /^[a-z][a-z0-9+.-]*:$/i.test(u.protocol) ? `"${u.protocol}//"` : 'scheme';
    throw new RedisUrlError(`unsupported ${scheme} (expected redis:// or rediss://)`);
  }
  const tls = u.protocol === 'rediss:';
  let host = u.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!host) throw new RedisUrlError(`missing host (${PASSWORD_HINT})`);
  const port = u.port ? Number(u.port) : 6379;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RedisUrlError('invalid port');
  const db = /^\/?(\d*)\/?$/.exec(u.pathname);
  if (!db) throw new RedisUrlError(`invalid database path (expected /N, ${PASSWORD_HINT})`);
  const database = db[1] ? Number(db[1]) : 0;
  if (!Number.isSafeInteger(database)) throw new RedisUrlError('invalid database number');
  let insecure = false;
  if (u.hash) {
    if (u.hash !== '#insecure') {
      throw new RedisUrlError(`unsupported URL fragment (only #insecure is accepted; ${PASSWORD_HINT})`);
    }
    insecure = true;
  }
  let username;
  let password;
  try {
    username = u.username ? decodeURIComponent(u.username) : undefined;
    password = u.password ? decodeURIComponent(u.password) : undefined;
  } catch {
    throw new RedisUrlError('invalid percent-encoding in the credentials');
  }
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    tls,
    host,
    port,
    username,
    password,
    database,
    insecure,
    display: `${u.protocol}//${hostPart}:${port}/${database}`,
  };
}

/**
 * Replaces the userinfo of a Redis URL with `***` (for logs and messages).
 * @param {string} url
 */
export function redactRedisUrl(url) {
  return redactSecrets(url);
}

/**
 * @typedef {object} RedisBackendOptions
 * @property {string} [label='default'] store label, used in log lines only
 * @property {number | null} [timeoutMs=null] per-operation timeout (the calling
 *   thread never blocks longer than this for one operation) and with it the
 *   protective behaviour; null: Spin's behaviour (no timeout, no breaker)
 * @property {number} [breakerThreshold=3] consecutive failures that open the breaker
 * @property {number} [breakerCoolOffMs=2000] how long an open breaker fails
 *   instantly before letting one call through
 * @property {number} [connectTimeoutMs=5000] TCP/TLS connect timeout, and how long a
 *   connected socket may take to finish the handshake (AUTH/SELECT)
 * @property {number} [reconnectMaxDelayMs=2000] cap of the reconnect backoff
 *   (50 ms, 100 ms, 200 ms, ... up to this, plus up to 50 ms of jitter)
 * @property {number} [startupWaitMs=1500] how long the constructor blocks waiting
 *   for the first connection attempt to succeed or fail (so that the first
 *   request after a lazy open normally finds Redis connected); connecting
 *   continues in the background afterwards
 * @property {(line: string) => void} [log=console.error] receives one line per
 *   state change (connected, lost, unreachable, breaker open/closed)
 * @property {{ retries?: number, firstRetryDelayMs?: number, maxRetryDelayMs?: number }} [reconnect]
 *   Spin behaviour only: redis-rs's reconnection schedule (6 retries, 1 s, then 60 s, each
 *   plus up to 100 % jitter); tests shorten it
 */

const DEFAULTS = {
  label: 'default',
  /** @type {number | null} */
  timeoutMs: null,
  breakerThreshold: 3,
  breakerCoolOffMs: 2000,
  connectTimeoutMs: 5000,
  reconnectMaxDelayMs: 2000,
  startupWaitMs: 1500,
};

const PROTECTIVE_WORKER_URL = new URL('./redis-worker.js', import.meta.url);
const SPIN_WORKER_URL = new URL('./redis-manager-worker.js', import.meta.url);

/** Synchronous Redis-backed key-value store (see the module comment). */
export class RedisBackend {
  #target;
  #opts;
  #log;
  #prefix;
  /** @type {Worker | null} */
  #worker = null;
  /** @type {import('node:worker_threads').MessagePort | null} */
  #port = null;
  /** @type {Int32Array} */
  #ctl = new Int32Array(new SharedArrayBuffer(4 * 4));
  #nextId = 0;
  #closed = false;
  #workerDead = false;
  #lastProblem = '';
  // circuit breaker
  #failures = 0;
  #openUntil = 0;
  #breakerOpen = false;
  #lastReason = '';
  /** @type {string[] | undefined} */
  #ca;
  #spinBehaviour = true;

  /**
   * Starts the worker and blocks (at most `startupWaitMs`) for the first
   * connection attempt. Never throws because Redis is unreachable: that is
   * logged and the operations fail fast until it connects.
   *
   * @param {string} url `redis://` or `rediss://` URL (see {@link parseRedisUrl})
   * @param {RedisBackendOptions} [options]
   * @throws {KvBackendError} only for a malformed URL
   */
  constructor(url, options = {}) {
    try {
      this.#target = parseRedisUrl(url);
    } catch (err) {
      throw new KvBackendError(`redis: ${err instanceof Error ? err.message : String(err)}`);
    }
    const { log, ...rest } = options;
    this.#opts = { ...DEFAULTS, ...stripUndefined(rest) };
    this.#log = log ?? ((line) => console.error(line));
    this.#prefix = `kv store "${this.#opts.label}" (${this.#target.display})`;
    this.#ca = this.#target.tls ? opensslTrust().ca : undefined;
    this.#spinBehaviour = this.#opts.timeoutMs === null;
    this.#spawn();
    // Spin connects on the first store open; the protective mode connects now.
    if (!this.#spinBehaviour) this.#awaitStartup();
  }

  /**
   * What Spin does on every `store.open`: with Spin's behaviour, create the connection on
   * first use (throwing if that fails after the reconnection attempts), then send a `PING`
   * whose failure is ignored (spin crates/key-value-redis/src/store.rs, `after_open`).
   * @throws {KvBackendError} when the first connection cannot be made
   */
  afterOpen() {
    if (this.#spinBehaviour) {
      this.#call('open');
      return;
    }
    try {
      this.#call('ping');
    } catch {
      // ignored, as Spin ignores a failed PING
    }
  }

  /** `redis[s]://host:port/db`, without credentials. */
  get display() {
    return this.#target.display;
  }

  /** Current connection state as published by the worker. */
  get state() {
    return /** @type {'booting'|'connecting'|'ready'|'down'} */ (
      ['booting', 'connecting', 'ready', 'down'][Atomics.load(this.#ctl, CTL.STATE)] ?? 'down'
    );
  }

  /**
   * @param {string} key
   * @returns {Uint8Array | null}
   */
  get(key) {
    return /** @type {Uint8Array | null} */ (this.#call('get', key));
  }

  /**
   * @param {string} key
   * @param {Uint8Array} value
   */
  set(key, value) {
    this.#call('set', key, value);
  }

  /** @param {string} key */
  delete(key) {
    this.#call('delete', key);
  }

  /**
   * @param {string} key
   * @returns {boolean}
   */
  exists(key) {
    return /** @type {boolean} */ (this.#call('exists', key));
  }

  /** @returns {string[]} all keys of the selected database (`KEYS *`) */
  getKeys() {
    return /** @type {string[]} */ (this.#call('keys'));
  }

  /** Terminates the worker (and with it the connection). Idempotent. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopWorker();
  }

  // ---------------------------------------------------------------- internals

  #spawn() {
    const { port1, port2 } = new MessageChannel();
    Atomics.store(this.#ctl, CTL.STATE, STATE.BOOTING);
    Atomics.store(this.#ctl, CTL.ABANDONED, this.#nextId);
    const worker = new Worker(this.#spinBehaviour ? SPIN_WORKER_URL : PROTECTIVE_WORKER_URL, {
      workerData: {
        port: port2,
        ctl: this.#ctl,
        target: this.#target,
        options: {
          ca: this.#ca,
          timeoutMs: this.#opts.timeoutMs,
          connectTimeoutMs: this.#opts.connectTimeoutMs,
          reconnectMaxDelayMs: this.#opts.reconnectMaxDelayMs,
          ...this.#opts.reconnect,
        },
      },
      transferList: [port2],
      // the worker never needs the parent's argv or stdin
      argv: [],
      stdin: false,
      execArgv: workerExecArgv(process.execArgv),
    });
    worker.on('error', (err) => {
      this.#workerDead = true;
      this.#emit(`redis worker failed: ${this.#redact(err.message)}`);
    });
    worker.on('exit', () => {
      if (this.#worker === worker) this.#workerDead = true;
    });
    worker.unref();
    // Messages that arrive while this thread is idle (connection events, late
    // replies) are handled asynchronously; during an operation they are pulled
    // synchronously with receiveMessageOnPort instead.
    port1.on('message', (msg) => this.#handle(msg, -1));
    port1.unref();
    this.#worker = worker;
    this.#port = port1;
    this.#workerDead = false;
  }

  #stopWorker() {
    const worker = this.#worker;
    const port = this.#port;
    this.#worker = null;
    this.#port = null;
    port?.close();
    if (worker) worker.terminate().catch(() => {});
  }

  /** Blocks until the first connection attempt settles or startupWaitMs passes. */
  #awaitStartup() {
    const end = performance.now() + this.#opts.startupWaitMs;
    for (;;) {
      const seen = Atomics.load(this.#ctl, CTL.SEQ);
      this.#drain(-1);
      const st = Atomics.load(this.#ctl, CTL.STATE);
      if (st === STATE.READY || st === STATE.DOWN) return;
      const remaining = end - performance.now();
      if (remaining <= 0) break;
      Atomics.wait(this.#ctl, CTL.SEQ, seen, Math.ceil(remaining));
    }
    this.#emit(`redis: still connecting after ${this.#opts.startupWaitMs} ms; continuing in the background (operations fail until connected)`);
  }

  /**
   * Pulls every queued message; returns the reply with id `wanted`, if any.
   * @param {number} wanted
   */
  #drain(wanted) {
    let found;
    const port = this.#port;
    if (!port) return undefined;
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      const r = this.#handle(m.message, wanted);
      if (r) found = r;
    }
    return found;
  }

  /**
   * @param {any} msg
   * @param {number} wanted
   */
  #handle(msg, wanted) {
    if (!msg || typeof msg !== 'object') return undefined;
    if (msg.t === 'event') {
      this.#emit(msg.message);
      return undefined;
    }
    if (msg.t === 'reply' && msg.id === wanted) return msg;
    return undefined; // a late reply to an abandoned request: dropped
  }

  /**
   * @param {'open'|'ping'|'get'|'set'|'delete'|'exists'|'keys'} op
   * @param {string} [key]
   * @param {Uint8Array} [value]
   */
  #call(op, key, value) {
    if (this.#closed) throw new KvBackendError('redis store is closed');
    if (this.#spinBehaviour) return this.#callUntilAnswered(op, key, value);
    const now = performance.now();
    if (this.#failures >= this.#opts.breakerThreshold && now < this.#openUntil) {
      throw new KvBackendError(
        `redis unavailable (cooling off after ${this.#failures} failures: ${this.#lastReason})`,
      );
    }
    if (this.#workerDead || !this.#worker) {
      this.#stopWorker();
      this.#spawn();
    }
    const id = ++this.#nextId;
    const timeoutMs = /** @type {number} */ (this.#opts.timeoutMs);
    const end = now + timeoutMs;
    this.#drain(-1); // discard anything stale before asking
    this.#post({ id, op, key, deadline: Date.now() + timeoutMs }, value);

    let reply;
    for (;;) {
      const seen = Atomics.load(this.#ctl, CTL.SEQ);
      reply = this.#drain(id);
      if (reply) break;
      const remaining = end - performance.now();
      if (remaining <= 0) break;
      Atomics.wait(this.#ctl, CTL.SEQ, seen, Math.ceil(remaining));
    }

    if (!reply) {
      Atomics.store(this.#ctl, CTL.ABANDONED, id);
      return this.#fail(`redis timed out after ${timeoutMs} ms`);
    }
    if (reply.ok) {
      this.#succeed();
      return reply.value;
    }
    if (reply.kind === 'reply') {
      // Redis answered (e.g. WRONGTYPE): the server is up, not a breaker failure.
      this.#succeed();
      throw new KvBackendError(this.#redact(reply.message));
    }
    return this.#fail(this.#redact(reply.message));
  }

  /**
   * Spin's behaviour: wait for the worker's answer however long it takes.
   * @param {'open'|'ping'|'get'|'set'|'delete'|'exists'|'keys'} op
   * @param {string} [key]
   * @param {Uint8Array} [value]
   */
  #callUntilAnswered(op, key, value) {
    if (this.#workerDead || !this.#worker) {
      this.#stopWorker();
      this.#spawn();
    }
    const id = ++this.#nextId;
    this.#drain(-1);
    this.#post({ id, op, key }, value);
    for (;;) {
      const seen = Atomics.load(this.#ctl, CTL.SEQ);
      const reply = this.#drain(id);
      if (reply?.ok) return reply.value;
      if (reply) throw new KvBackendError(this.#redact(reply.message));
      Atomics.wait(this.#ctl, CTL.SEQ, seen);
    }
  }

  /**
   * @param {any} req
   * @param {Uint8Array} [value] copied, exactly its bytes (the view may be on a large wasm memory)
   */
  #post(req, value) {
    /** @type {ArrayBuffer[]} */
    const transfer = [];
    if (value !== undefined) {
      const copy = new Uint8Array(value);
      req.value = copy;
      transfer.push(copy.buffer);
    }
    /** @type {import('node:worker_threads').MessagePort} */ (this.#port).postMessage(req, transfer);
  }

  #succeed() {
    if (this.#breakerOpen) {
      this.#breakerOpen = false;
      this.#emit('redis available again; circuit breaker closed');
    }
    this.#failures = 0;
  }

  /**
   * @param {string} reason
   * @returns {never}
   */
  #fail(reason) {
    this.#failures += 1;
    this.#lastReason = reason;
    if (this.#failures >= this.#opts.breakerThreshold) {
      this.#openUntil = performance.now() + this.#opts.breakerCoolOffMs;
      if (!this.#breakerOpen) {
        this.#breakerOpen = true;
        this.#emit(
          `redis unavailable: circuit breaker open after ${this.#failures} consecutive failures ` +
            `(last: ${reason}); failing fast for ${this.#opts.breakerCoolOffMs} ms at a time`,
        );
      }
    }
    throw new KvBackendError(reason);
  }

  /** @param {string} text */
  #redact(text) {
    return redactSecrets(text, [this.#target.password]);
  }

  /** @param {string} line */
  #emit(line) {
    const text = `${this.#prefix}: ${this.#redact(line)}`;
    if (text === this.#lastProblem) return;
    this.#lastProblem = text;
    try {
      this.#log(text);
    } catch {
      // a failing logger must not break the store
    }
  }
}

/**
 * The parent's Node options minus those that only make sense for the main
 * entry point (`node --input-type=module -e …` would otherwise break the worker).
 * @param {string[]} execArgv
 */
export function workerExecArgv(execArgv) {
  const dropWithValue = new Set(['--input-type', '-e', '--eval', '-p', '--print']);
  const drop = new Set(['-i', '--interactive', '--test', '--watch', '--check', '-c']);
  /** @type {string[]} */
  const out = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = /** @type {string} */ (execArgv[i]);
    const name = arg.split('=')[0] ?? arg;
    if (dropWithValue.has(name)) {
      if (!arg.includes('=')) i++; // and its value
    } else if (!drop.has(name) && !name.startsWith('--test-') && !name.startsWith('--watch-')) {
      out.push(arg);
    }
  }
  return out;
}

/**
 * @template {Record<string, unknown>} T
 * @param {T} obj
 * @returns {Partial<T>}
 */
function stripUndefined(obj) {
  return /** @type {Partial<T>} */ (Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)));
}
