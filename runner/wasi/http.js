// wasi:http@0.2.0 types for the incoming-handler world: the host hands the guest a fully buffered
// request and collects the response it writes. Outgoing HTTP is denied, as Spin does for a
// component without `allowed_outbound_hosts`.
import { InputStream, IoError, OutputStream, Pollable } from './io.js';

const encoder = new TextEncoder();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// The rules of wasmtime's wasi-http `fields` (crates/wasi-http/src/p2/types_impl.rs `HostFields`):
// names must be HTTP tokens (`HeaderName::from_bytes`), values visible ASCII, space, tab or
// obs-text (`HeaderValue::from_bytes`), and the hop-by-hop names of DEFAULT_FORBIDDEN_HEADERS
// (crates/wasi-http/src/lib.rs) are refused with `forbidden`. A name is checked first, then
// whether it is forbidden, then the values, then whether the fields may change.
export class Fields {
  /** @param {Array<[string, Uint8Array]>} entries @param {boolean} immutable */
  constructor(entries = [], immutable = false) {
    /** @type {Array<[string, Uint8Array]>} */
    this.list = entries.map(([name, value]) => [name.toLowerCase(), value]);
    this.immutable = immutable;
  }
  static fromList(entries) {
    for (const [name, value] of entries) {
      checkName(name);
      checkValue(value);
    }
    return new Fields(entries);
  }
  get(name) {
    const key = name.toLowerCase();
    return this.list.filter(([n]) => n === key).map(([, v]) => v);
  }
  has(name) {
    const key = name.toLowerCase();
    return this.list.some(([n]) => n === key);
  }
  set(name, values) {
    checkName(name);
    values.forEach(checkValue);
    this.mutable();
    this.drop(name);
    for (const value of values) this.list.push([name.toLowerCase(), value]);
  }
  delete(name) {
    checkName(name);
    this.mutable();
    this.drop(name);
  }
  append(name, value) {
    checkName(name);
    checkValue(value);
    this.mutable();
    this.list.push([name.toLowerCase(), value]);
  }
  entries() {
    return [...this.list];
  }
  clone() {
    return new Fields(this.entries());
  }
  mutable() {
    if (this.immutable) throw { tag: 'immutable' };
  }
  drop(name) {
    const key = name.toLowerCase();
    this.list = this.list.filter(([n]) => n !== key);
  }
}

const FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

function checkName(name) {
  if (!TOKEN.test(name)) throw { tag: 'invalid-syntax' };
  if (FORBIDDEN.has(name.toLowerCase())) throw { tag: 'forbidden' };
}

/** @param {Uint8Array} value */
function checkValue(value) {
  for (const byte of value) if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) throw { tag: 'invalid-syntax' };
}

/**
 * The body length a response's headers promise, as wasmtime reads it (crates/wasi-http/src/lib.rs
 * `get_content_length`): the first content-length value as a u64; undefined when it is not one.
 * @returns {bigint | null | undefined}
 */
function contentLength(fields) {
  const [first] = fields.get('content-length');
  if (first === undefined) return null;
  const text = Buffer.from(first).toString('latin1');
  if (!/^\+?[0-9]+$/.test(text)) return undefined;
  const n = BigInt(text);
  return n < 2n ** 64n ? n : undefined;
}

const METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);

/**
 * @typedef {{ method: string, pathWithQuery: string, authority: string,
 *   headers: Array<[string, Uint8Array | string]>, body: Uint8Array }} BufferedRequest
 */
export class IncomingRequest {
  /** @param {BufferedRequest} request */
  constructor(request) {
    this.request = request;
    this.consumed = false;
  }
  method() {
    const m = this.request.method.toLowerCase();
    return METHODS.has(m) ? { tag: m } : { tag: 'other', val: this.request.method };
  }
  pathWithQuery() {
    return this.request.pathWithQuery;
  }
  scheme() {
    return { tag: 'HTTP' };
  }
  authority() {
    return this.request.authority;
  }
  headers() {
    return new Fields(this.request.headers.map(([n, v]) => [n, typeof v === 'string' ? encoder.encode(v) : v]), true);
  }
  consume() {
    if (this.consumed) throw undefined;
    this.consumed = true;
    return new IncomingBody(this.request.body);
  }
}

export class IncomingBody {
  constructor(bytes) {
    this.bytes = bytes;
    this.streamTaken = false;
  }
  stream() {
    if (this.streamTaken) throw undefined;
    this.streamTaken = true;
    return new InputStream(this.bytes);
  }
  static finish() {
    return new FutureTrailers();
  }
}

export class FutureTrailers {
  subscribe() {
    return new Pollable();
  }
  get() {
    return { tag: 'ok', val: { tag: 'ok', val: undefined } };
  }
}

export class OutgoingResponse {
  constructor(headers) {
    this.fields = headers;
    this.status = 200;
    this.outgoingBody = null;
  }
  statusCode() {
    return this.status;
  }
  setStatusCode(code) {
    if (!Number.isInteger(code) || code < 100 || code > 999) throw undefined;
    this.status = code;
  }
  headers() {
    return this.fields;
  }
  body() {
    if (this.outgoingBody) throw undefined;
    const expected = contentLength(this.fields);
    if (expected === undefined) throw undefined; // wasmtime refuses a body for an unreadable content-length
    this.outgoingBody = new OutgoingBody(expected);
    return this.outgoingBody;
  }
}

// wasmtime crates/wasi-http/src/p2/body.rs: with a content-length, a write that takes the body
// past it fails (`WrittenState::update`, the bytes are already queued), and `finish` at any other
// length fails with HTTP-response-body-size and aborts the body.
export class OutgoingBody {
  /** @param {bigint | null} [expectedLength] the response's content-length, if it has one */
  constructor(expectedLength = null) {
    /** @type {Uint8Array[]} */
    this.chunks = [];
    this.stream = null;
    this.finished = false;
    this.expectedLength = expectedLength;
    this.written = 0n;
    /** @type {string | null} why the body was aborted */
    this.failure = null;
  }
  write() {
    if (this.stream) throw undefined;
    this.stream = new OutputStream((chunk) => {
      this.chunks.push(chunk);
      this.written += BigInt(chunk.length);
      if (this.expectedLength !== null && this.written > this.expectedLength) {
        throw { tag: 'last-operation-failed', val: new IoError(`body size ${this.written} exceeds content-length ${this.expectedLength}`) };
      }
    });
    return this.stream;
  }
  static finish(body) {
    body.stream?.close();
    if (body.expectedLength !== null && body.written !== body.expectedLength) {
      body.failure = `body of ${body.written} bytes finished against content-length ${body.expectedLength}`;
      throw { tag: 'HTTP-response-body-size', val: body.written };
    }
    body.finished = true;
  }
}

/** Where the guest puts its answer; the host reads `result` after `handle` returns. */
export class ResponseOutparam {
  constructor() {
    /** @type {{tag: 'ok', val: OutgoingResponse} | {tag: 'err', val: unknown} | null} */
    this.result = null;
  }
  static set(param, response) {
    param.result = response;
  }
}

export class OutgoingRequest {
  constructor(headers) {
    this.fields = headers;
    this.m = { tag: 'get' };
    this.path = undefined;
    this.s = undefined;
    this.auth = undefined;
  }
  body() {
    return new OutgoingBody();
  }
  method() {
    return this.m;
  }
  setMethod(method) {
    this.m = method;
  }
  pathWithQuery() {
    return this.path;
  }
  setPathWithQuery(path) {
    this.path = path;
  }
  scheme() {
    return this.s;
  }
  setScheme(scheme) {
    this.s = scheme;
  }
  authority() {
    return this.auth;
  }
  setAuthority(authority) {
    this.auth = authority;
  }
  headers() {
    return this.fields;
  }
}

export class RequestOptions {
  connectTimeout() {
    return undefined;
  }
  setConnectTimeout() {}
  firstByteTimeout() {
    return undefined;
  }
  setFirstByteTimeout() {}
  betweenBytesTimeout() {
    return undefined;
  }
  setBetweenBytesTimeout() {}
}

// Never constructed here: outbound requests are refused before a response could exist.
export class IncomingResponse {}
export class FutureIncomingResponse {}

export const outgoingHandler = {
  handle() {
    throw { tag: 'HTTP-request-denied' };
  },
};

export const httpTypes = {
  Fields,
  FutureIncomingResponse,
  FutureTrailers,
  IncomingBody,
  IncomingRequest,
  IncomingResponse,
  OutgoingBody,
  OutgoingRequest,
  OutgoingResponse,
  RequestOptions,
  ResponseOutparam,
  httpErrorCode: () => undefined,
};
