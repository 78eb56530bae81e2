// wasi:http@0.2.0 types for the incoming-handler world: the host hands the guest a fully buffered
// request and collects the response it writes. Outgoing HTTP is denied, as Spin does for a
// component without `allowed_outbound_hosts`.
import { InputStream, OutputStream, Pollable } from './io.js';

const encoder = new TextEncoder();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class Fields {
  /** @param {Array<[string, Uint8Array]>} entries @param {boolean} immutable */
  constructor(entries = [], immutable = false) {
    /** @type {Array<[string, Uint8Array]>} */
    this.list = entries.map(([name, value]) => [name.toLowerCase(), value]);
    this.immutable = immutable;
  }
  static fromList(entries) {
    for (const [name] of entries) checkName(name);
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
    this.mutating(name);
    this.drop(name);
    for (const value of values) this.list.push([name.toLowerCase(), value]);
  }
  delete(name) {
    this.mutating(name);
    this.drop(name);
  }
  append(name, value) {
    this.mutating(name);
    this.list.push([name.toLowerCase(), value]);
  }
  entries() {
    return [...this.list];
  }
  clone() {
    return new Fields(this.entries());
  }
  mutating(name) {
    if (this.immutable) throw { tag: 'immutable' };
    checkName(name);
  }
  drop(name) {
    const key = name.toLowerCase();
    this.list = this.list.filter(([n]) => n !== key);
  }
}

function checkName(name) {
  if (!TOKEN.test(name)) throw { tag: 'invalid-syntax' };
}

const METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);

/**
 * @typedef {{ method: string, pathWithQuery: string, authority: string,
 *   headers: Array<[string, string]>, body: Uint8Array }} BufferedRequest
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
    return new Fields(this.request.headers.map(([n, v]) => [n, encoder.encode(v)]), true);
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
    this.outgoingBody = new OutgoingBody();
    return this.outgoingBody;
  }
}

export class OutgoingBody {
  constructor() {
    /** @type {Uint8Array[]} */
    this.chunks = [];
    this.stream = null;
    this.finished = false;
  }
  write() {
    if (this.stream) throw undefined;
    this.stream = new OutputStream((chunk) => this.chunks.push(chunk));
    return this.stream;
  }
  static finish(body) {
    body.finished = true;
    body.stream?.close();
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
