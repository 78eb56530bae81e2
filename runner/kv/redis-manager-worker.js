/**
 * Worker thread holding one Redis store the way Spin does: a redis-rs `ConnectionManager` with
 * its default configuration (what `KeyValueRedis` in spinframework/spin
 * crates/key-value-redis/src/store.rs creates with `Client::get_connection_manager()`).
 *
 * redis-rs 0.32.5 redis/src/aio/connection_manager.rs, with backon 1.5.2 doing the retrying:
 *  - no response timeout and no connection timeout (`DEFAULT_RESPONSE_TIMEOUT` and
 *    `DEFAULT_CONNECTION_TIMEOUT` are `None`): a command waits as long as the server does;
 *  - connecting is tried once and retried `DEFAULT_NUMBER_OF_CONNECTION_RETRIES` = 6 times; backon's
 *    `ExponentialBuilder` starts at its `min_delay` of 1 s and multiplies by the manager's `factor`
 *    (100), capped at backon's `max_delay` of 60 s, and `with_jitter()` adds up to 100 % more:
 *    1–2 s, then 60–120 s five times. An unreachable Redis therefore fails an operation only after
 *    about 5 to 10 minutes;
 *  - the first connection is made by the first store open; if it fails, that open fails and the
 *    next open starts again (Spin keeps the manager in a `OnceCell` filled by `get_or_try_init`);
 *  - a command that fails because the connection dropped returns its error and starts a
 *    reconnection in the background; commands issued meanwhile wait for that reconnection and
 *    fail with its error if it gives up (a failed reconnection is retried by the next command).
 *
 * Messages: requests `{ id, op, key?, value? }` with op open | get | set | delete | exists | keys;
 * replies `{ t: 'reply', id, ok, value | kind, message }` and `{ t: 'event', message }`, each
 * followed by a bump of ctl[SEQ] (see redis-protocol.js). Never posts the password.
 */

import { createSecureContext } from 'node:tls';
import { workerData } from 'node:worker_threads';
import { createClient, ErrorReply, RESP_TYPES } from 'redis';

import { CTL, STATE } from './redis-protocol.js';

/** @type {{ port: import('node:worker_threads').MessagePort, ctl: Int32Array, target: any, options: any }} */
const { port, ctl, target, options } = workerData;
// Parsed once: the trust store holds hundreds of certificates.
const secureContext = target.tls ? createSecureContext(options.ca ? { ca: options.ca } : {}) : undefined;

/** The retry schedule of a default ConnectionManager (see the module comment); tests may shorten it. */
const RETRIES = options.retries ?? 6;
const FIRST_DELAY_MS = options.firstRetryDelayMs ?? 1000;
const FACTOR = 100;
const MAX_DELAY_MS = options.maxRetryDelayMs ?? 60_000;

const BUFFER_REPLIES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

function bump() {
  Atomics.add(ctl, CTL.SEQ, 1);
  Atomics.notify(ctl, CTL.SEQ);
}

/** @param {any} msg @param {import('node:worker_threads').Transferable[]} [transfer] */
function post(msg, transfer) {
  try {
    port.postMessage(msg, transfer);
  } catch {
    // port closed: the store was closed
  }
  bump();
}

/** @param {number} state */
function setState(state) {
  Atomics.store(ctl, CTL.STATE, state);
  bump();
}

/** @param {string} text */
function redact(text) {
  let out = String(text).replace(/(rediss?:\/\/)[^\s"'@/]*@/gi, '$1***@');
  for (const secret of [target.password, target.password && encodeURIComponent(target.password)]) {
    if (secret) out = out.split(secret).join('***');
  }
  return out;
}

/** @param {any} err */
const messageOf = (err) => redact(err?.message ?? String(err)).split('\n')[0] || (err?.constructor?.name ?? 'unknown error');

/** The delays between connection attempts: backon's ExponentialBuilder as redis-rs configures it. */
function* retryDelays() {
  let delay = FIRST_DELAY_MS;
  for (let retry = 0; retry < RETRIES; retry++) {
    if (retry > 0) delay = Math.min(delay * FACTOR, MAX_DELAY_MS);
    yield delay + delay * Math.random();
  }
}

/** One connection attempt, including AUTH and SELECT; rejects on any failure. */
async function connectOnce() {
  const client = createClient({
    socket: {
      host: target.host,
      port: target.port,
      tls: target.tls,
      ...(target.tls ? { rejectUnauthorized: !target.insecure, secureContext } : {}),
      connectTimeout: 0, // no connection timeout, as redis-rs by default
      reconnectStrategy: false, // reconnecting is the manager's business, as in redis-rs
    },
    username: target.username,
    password: target.password,
    database: target.database,
    // A command on a dropped connection fails at once instead of waiting in node-redis's queue;
    // the manager then reconnects, as redis-rs does.
    disableOfflineQueue: true,
    disableClientInfo: true,
  });
  client.on('error', () => {
    // reported through the failing connect or command
  });
  try {
    await client.connect();
    return client;
  } catch (err) {
    try {
      client.destroy();
    } catch {
      // already closed by the failed connect
    }
    throw err;
  }
}

/** `ConnectionManager::new_connection`: the first attempt, then the retries, then the last error. */
async function newConnection() {
  const delays = retryDelays();
  for (;;) {
    try {
      const client = await connectOnce();
      setState(STATE.READY);
      return client;
    } catch (err) {
      setState(STATE.DOWN);
      const next = delays.next();
      if (next.done) throw err;
      await new Promise((resolve) => setTimeout(resolve, next.value));
    }
  }
}

/** @type {Promise<any> | null} the manager's current connection future; null until the first open */
let current = null;
/** @type {Promise<any> | null} the first connection, shared by concurrent opens */
let creating = null;

/** `ConnectionManager::reconnect`: replaces `seen` (if still current) with a new connection attempt. */
function reconnect(seen) {
  if (current !== seen) return;
  seen.then((client) => {
    try {
      client.destroy();
    } catch {
      // already closed
    }
  }, () => {});
  current = newConnection();
  current.catch(() => {});
}

/** An error that means the connection is gone (not an error reply from the server). */
const isConnectionError = (err) => !(err instanceof ErrorReply);

/** @param {Array<string | Buffer>} args @param {object} [replyOptions] */
async function command(args, replyOptions) {
  await ensureManager(); // Spin always opens first; a direct caller of the backend may not
  const seen = /** @type {Promise<any>} */ (current);
  let client;
  try {
    client = await seen;
  } catch (err) {
    if (isConnectionError(err)) reconnect(seen);
    throw err;
  }
  try {
    return await client.sendCommand(args, replyOptions);
  } catch (err) {
    if (isConnectionError(err)) reconnect(seen);
    throw err;
  }
}

/** `KeyValueRedis::get`: the manager, made on first use; a failure leaves it to the next call. */
async function ensureManager() {
  if (current) return;
  creating ??= newConnection().finally(() => {
    creating = null;
  });
  const client = await creating;
  current ??= Promise.resolve(client);
}

/** A store open: the manager, then `RedisStore::after_open`, a PING whose failure is ignored. */
async function open() {
  await ensureManager();
  await command(['PING']).catch(() => {});
}

/** @param {any} req */
async function execute(req) {
  switch (req.op) {
    case 'open':
      return open();
    case 'get':
      return command(['GET', req.key], BUFFER_REPLIES);
    case 'exists':
      return (await command(['EXISTS', req.key])) > 0;
    case 'keys':
      return command(['KEYS', '*']);
    case 'set':
      await command(['SET', req.key, Buffer.from(req.value.buffer, req.value.byteOffset, req.value.byteLength)]);
      return undefined;
    case 'delete':
      await command(['DEL', req.key]);
      return undefined;
    default:
      throw new Error(`unknown operation ${req.op}`);
  }
}

/** @param {any} req */
async function handle(req) {
  try {
    let value = await execute(req);
    /** @type {import('node:worker_threads').Transferable[]} */
    const transfer = [];
    if (value instanceof Uint8Array) {
      value = new Uint8Array(value); // exact-size copy: node-redis buffers may share a pool
      transfer.push(value.buffer);
    }
    post({ t: 'reply', id: req.id, ok: true, value }, transfer);
  } catch (err) {
    const kind = err instanceof ErrorReply ? 'reply' : 'unavailable';
    post({ t: 'reply', id: req.id, ok: false, kind, message: `redis error: ${messageOf(err)}` });
  }
}

port.on('message', (req) => {
  void handle(req);
});

process.on('unhandledRejection', () => {
  // every promise above is handled; never let a stray one kill the worker
});

setState(STATE.CONNECTING);
