/**
 * Worker thread that owns the node-redis client of one {@link RedisBackend} in the
 * protective mode (`--kv-timeout`; not Spin's behaviour: see redis-manager-worker.js).
 *
 * Protocol (see redis.js for the calling side):
 *  - `workerData = { port, ctl, target, options }`: `port` is this side of a
 *    MessageChannel, `ctl` an Int32Array on a SharedArrayBuffer, `target` the
 *    parsed URL (see parseRedisUrl) and `options` the connection tunables.
 *  - requests arrive on `port`: `{ id, op, key?, value?, deadline }` where `op` is
 *    ping | get | set | delete | exists | keys and `deadline` is an epoch-ms time after
 *    which the caller has given up.
 *  - every message posted back on `port` is followed by `Atomics.add(ctl[SEQ])`
 *    and `Atomics.notify`, which wakes the caller blocked in `Atomics.wait`:
 *      `{ t: 'reply', id, ok: true, value }`
 *      `{ t: 'reply', id, ok: false, kind: 'timeout'|'unavailable'|'reply', message }`
 *      `{ t: 'event', message }` (one log line per state change)
 *  - `ctl[STATE]` mirrors the connection state; `ctl[ABANDONED]` is the highest
 *    request id the caller stopped waiting for.
 *
 * Guarantees:
 *  - the connection counts as ready (ctl[STATE] = READY) only after AUTH/SELECT
 *    and one PING were answered, and a socket that connects but does not
 *    answer is dropped after connectTimeoutMs;
 *  - nothing is queued while disconnected (`disableOfflineQueue`), so a command
 *    is sent at most once, now or never;
 *  - a request whose deadline passed (or which was abandoned) before it could be
 *    sent is not sent;
 *  - when a request times out after it was sent, the connection is dropped and a
 *    new one is made, so nothing else is pipelined behind a stalled command;
 *
 * Never logs or posts the password.
 */

import { createSecureContext } from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';
import { createClient, ErrorReply, RESP_TYPES } from 'redis';

import { CTL, STATE } from './redis-protocol.js';

const { SEQ, ABANDONED, STATE: STATE_SLOT } = CTL;

/** @type {{ port: import('node:worker_threads').MessagePort, ctl: Int32Array, target: any, options: any }} */
const { port, ctl, target, options } = workerData;
// Parsed once: the trust store holds hundreds of certificates.
const secureContext = target.tls ? createSecureContext(options.ca ? { ca: options.ca } : {}) : undefined;
const { timeoutMs, connectTimeoutMs, reconnectMaxDelayMs } = options;
const TIMED_OUT = `redis timed out after ${timeoutMs} ms`;

const BUFFER_REPLIES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

/** Error codes Node's TLS layer uses for certificate problems. */
const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/** Server error replies that mean "the server cannot serve us", not "bad command". */
const UNAVAILABLE_REPLY = /^(NOAUTH|WRONGPASS|LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|MISCONF|READONLY)\b/;

/** @type {import('redis').RedisClientType | null} */
let client = null;
let generation = 0;
/** @type {number} */
let state = STATE.BOOTING;
let everReady = false;
let lastReason = '';
let loggedReason = '';
/** @type {any} the request being executed, if any */
let current = null;

function bump() {
  Atomics.add(ctl, SEQ, 1);
  Atomics.notify(ctl, SEQ);
}

/** @param {any} msg @param {import('node:worker_threads').Transferable[]} [transfer] */
function post(msg, transfer) {
  try {
    port.postMessage(msg, transfer);
  } catch {
    // port closed: the backend was closed
  }
  bump();
}

/** @param {number} next */
function setState(next) {
  state = next;
  Atomics.store(ctl, STATE_SLOT, next);
  bump();
}

/** @param {string} message */
function event(message) {
  post({ t: 'event', message });
}

/** @param {string} text */
function redact(text) {
  let out = String(text).replace(/(rediss?:\/\/)[^\s"'@/]*@/gi, '$1***@');
  for (const secret of [target.password, target.password && encodeURIComponent(target.password)]) {
    if (secret) out = out.split(secret).join('***');
  }
  return out;
}

/**
 * A short human reason for a connection-level error.
 * @param {any} err
 */
function describe(err) {
  const msg = redact(err?.message ?? String(err)).split('\n')[0] ?? '';
  const code = typeof err?.code === 'string' ? err.code : '';
  if (
    TLS_CODES.has(code) ||
    code.startsWith('ERR_SSL') ||
    code.startsWith('ERR_TLS') ||
    /certificate|ssl|tls/i.test(msg)
  ) {
    return `redis TLS error: ${msg}`;
  }
  if (/^(WRONGPASS|NOAUTH)/.test(msg) || /invalid password|invalid username-password/i.test(msg)) {
    return `redis authentication failed: ${msg}`;
  }
  const cls = classOf(err);
  if (cls === 'ConnectionTimeoutError') return `connect timeout after ${connectTimeoutMs} ms`;
  if (cls === 'SocketClosedUnexpectedlyError') return 'connection closed by the server';
  return msg || 'unknown error';
}

/**
 * node-redis error classes do not set `name`; use the constructor's.
 * @param {any} err
 */
function classOf(err) {
  return err?.constructor?.name ?? err?.name ?? '';
}

/** @param {number} retries */
function backoff(retries) {
  const delay = Math.min(50 * 2 ** Math.min(retries, 16), reconnectMaxDelayMs);
  return delay + Math.floor(Math.random() * 50);
}

/** Creates (or re-creates) the client and starts connecting in the background. */
function connect() {
  const gen = ++generation;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let handshakeTimer;
  const c = createClient({
    socket: {
      host: target.host,
      port: target.port,
      tls: target.tls,
      ...(target.tls ? { rejectUnauthorized: !target.insecure, secureContext } : {}),
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries) => backoff(retries),
    },
    username: target.username,
    password: target.password,
    database: target.database,
    disableOfflineQueue: true,
    disableClientInfo: true,
  });
  client = /** @type {any} */ (c);
  if (state !== STATE.READY) setState(STATE.CONNECTING);

  c.on('connect', () => {
    // Socket is up; AUTH/SELECT follow. A server that accepts the socket but
    // never answers (stopped, overloaded) must not stall us forever.
    clearTimeout(handshakeTimer);
    handshakeTimer = setTimeout(() => {
      if (gen !== generation || state === STATE.READY) return;
      problem(`no reply to the connection handshake within ${connectTimeoutMs} ms`);
      reset();
    }, connectTimeoutMs);
  });
  c.on('ready', () => {
    if (gen !== generation) return;
    // node-redis is "ready" once AUTH/SELECT are answered, or straight after the
    // TCP connect when there is nothing to send. Require one PONG as well, so a
    // server that accepts connections but does not answer (stopped, wedged)
    // never counts as connected. The handshake timer keeps running until then.
    c.sendCommand(['PING']).then(
      () => {
        clearTimeout(handshakeTimer);
        if (gen !== generation) return;
        const again = everReady;
        everReady = true;
        lastReason = '';
        loggedReason = '';
        event(again ? 'redis reconnected' : 'redis connected');
        setState(STATE.READY);
      },
      () => {
        // the connection failed: reported through the 'error' event
      },
    );
  });
  c.on('error', (err) => {
    clearTimeout(handshakeTimer);
    if (gen !== generation) return;
    problem(describe(err));
  });
  c.connect().catch(() => {
    // reported through the 'error' event; the client keeps retrying until reset
  });
}

/**
 * Records a connection problem; logs one line per change of state or reason.
 * @param {string} reason
 */
function problem(reason) {
  const wasReady = state === STATE.READY;
  lastReason = reason;
  // The log event is posted before the state changes: whoever waits for the
  // state (the constructor) then finds the explanation already queued.
  if (reason !== loggedReason || wasReady) {
    loggedReason = reason;
    if (wasReady) event(`redis connection lost: ${reason}; reconnecting in the background`);
    else if (!everReady) {
      event(`redis unreachable: ${reason}; operations fail until it connects (retrying in the background)`);
    } else event(`redis still unreachable: ${reason}`);
  }
  if (state !== STATE.DOWN) setState(STATE.DOWN);
}

/** Drops the current connection (discarding anything in flight) and reconnects. */
function reset() {
  const old = client;
  client = null;
  if (old) {
    try {
      old.destroy();
    } catch {
      // already closed
    }
  }
  connect();
}

/** @param {any} req */
function expired(req) {
  return Date.now() >= req.deadline || Atomics.load(ctl, ABANDONED) >= req.id;
}

/** @param {any} req @param {any} value */
function replyOk(req, value) {
  if (req.done) return;
  req.done = true;
  /** @type {import('node:worker_threads').Transferable[]} */
  const transfer = [];
  if (value instanceof Uint8Array) {
    // Exact-size copy (node-redis buffers may be slices of a larger pool), transferred.
    const copy = new Uint8Array(value);
    transfer.push(copy.buffer);
    value = copy;
  }
  post({ t: 'reply', id: req.id, ok: true, value }, transfer);
}

/** @param {any} req @param {'timeout'|'unavailable'|'reply'} kind @param {string} message */
function replyErr(req, kind, message) {
  if (req.done) return;
  req.done = true;
  post({ t: 'reply', id: req.id, ok: false, kind, message });
}

function notConnected() {
  if (state === STATE.READY) return 'redis not connected';
  if (lastReason) return `redis not connected: ${lastReason}`;
  return 'redis not connected yet (connecting)';
}

/** The request timed out after it was (or may have been) sent. */
/** @param {any} req */
function timedOut(req) {
  replyErr(req, 'timeout', TIMED_OUT);
  if (current === req) current = null;
  if (state === STATE.READY) {
    problem(`no reply within the operation timeout (${req.op})`);
  }
  reset();
}

/**
 * @param {any} req
 * @param {any} err
 */
function failed(req, err) {
  const name = classOf(err);
  const msg = redact(err?.message ?? String(err)).split('\n')[0] ?? '';
  if (name === 'ClientOfflineError' || name === 'ClientClosedError') {
    replyErr(req, 'unavailable', notConnected());
  } else if (err instanceof ErrorReply) {
    replyErr(req, UNAVAILABLE_REPLY.test(msg) ? 'unavailable' : 'reply', `redis error: ${msg}`);
  } else {
    replyErr(req, 'unavailable', `redis error: ${describe(err)}`);
  }
}

/** @param {any} c @param {any} req */
async function execute(c, req) {
  switch (req.op) {
    case 'ping':
      await c.sendCommand(['PING']);
      return undefined;
    case 'get':
      return c.sendCommand(['GET', req.key], BUFFER_REPLIES);
    case 'exists':
      return (await c.sendCommand(['EXISTS', req.key])) > 0;
    case 'keys':
      return c.sendCommand(['KEYS', '*']);
    case 'set':
      await c.sendCommand(['SET', req.key, Buffer.from(req.value.buffer, req.value.byteOffset, req.value.byteLength)]);
      return undefined;
    case 'delete':
      await c.sendCommand(['DEL', req.key]);
      return undefined;
    default:
      throw new Error(`unknown operation ${req.op}`);
  }
}

/** @param {any} req */
async function handle(req) {
  // A new request while an older one is still outstanding means the caller gave
  // up on the older one: the connection is stalled, start a fresh one first.
  if (current && !current.done) timedOut(current);
  if (expired(req)) {
    replyErr(req, 'timeout', TIMED_OUT);
    return;
  }
  const c = client;
  if (!c || state !== STATE.READY || !c.isReady) {
    replyErr(req, 'unavailable', notConnected());
    return;
  }
  current = req;
  const timer = setTimeout(() => {
    if (!req.done && c === client) timedOut(req);
  }, Math.max(0, req.deadline - Date.now()));
  try {
    const value = await execute(c, req);
    replyOk(req, value);
  } catch (err) {
    failed(req, err);
  } finally {
    clearTimeout(timer);
    if (current === req) current = null;
  }
}

port.on('message', (req) => {
  handle(req).catch((err) => replyErr(req, 'unavailable', `redis error: ${describe(err)}`));
});

process.on('unhandledRejection', () => {
  // every promise above is handled; never let a stray one kill the worker
});

connect();
void parentPort;
