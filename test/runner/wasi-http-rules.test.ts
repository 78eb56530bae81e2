// The wasi-http rules wasmtime enforces under Spin (wasmtime v42.0.2 = Spin 3.6.3, v44.0.0 = Spin
// 4.0.2; the same code in both), called the way jco's bindings call the host: results returned,
// WIT errors thrown as `{ tag, val }`.
import { describe, expect, it } from 'vitest';
import { bytes, thrown } from '../support/wit-calls';
import { Fields, OutgoingBody, OutgoingResponse } from '../../runner/wasi/http.js';
import { IoError } from '../../runner/wasi/io.js';
import { isValidAuthority, requestAuthority, requestTarget } from '../../runner/request-target.js';

// crates/wasi-http/src/lib.rs DEFAULT_FORBIDDEN_HEADERS (the "proxy-*" is exactly these
// three: proxy-authenticate, proxy-authorization, proxy-connection).
const FORBIDDEN = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'transfer-encoding', 'upgrade', 'host', 'http2-settings'];

describe('wasi:http fields (crates/wasi-http/src/p2/types_impl.rs HostFields)', () => {
  it.each(FORBIDDEN)('refuses the forbidden name %s in from-list, set, append and delete', (name) => {
    const fields = new Fields();
    for (const spelled of [name, name.toUpperCase()]) {
      expect(thrown(() => Fields.fromList([[spelled, bytes('x')]]))).toEqual({ tag: 'forbidden' });
      expect(thrown(() => fields.set(spelled, [bytes('x')]))).toEqual({ tag: 'forbidden' });
      expect(thrown(() => fields.append(spelled, bytes('x')))).toEqual({ tag: 'forbidden' });
      expect(thrown(() => fields.delete(spelled))).toEqual({ tag: 'forbidden' });
    }
    expect(fields.entries()).toEqual([]);
  });

  it('refuses names that are not HTTP tokens and values HeaderValue::from_bytes refuses (control bytes, DEL)', () => {
    const fields = new Fields();
    for (const name of ['', 'a b', 'a:b', 'é', 'a\n']) {
      expect(thrown(() => fields.append(name, bytes('x')))).toEqual({ tag: 'invalid-syntax' });
    }
    for (const value of ['a\nb', 'a\rb', 'a\0b', 'a\x7fb', 'a\x01']) {
      expect(thrown(() => fields.append('x-ok', bytes(value)))).toEqual({ tag: 'invalid-syntax' });
      expect(thrown(() => Fields.fromList([['x-ok', bytes(value)]]))).toEqual({ tag: 'invalid-syntax' });
    }
    // Tab, space and obs-text are allowed.
    fields.append('x-ok', new Uint8Array([0x61, 0x09, 0x20, 0xe9]));
    expect(fields.get('X-OK')).toEqual([new Uint8Array([0x61, 0x09, 0x20, 0xe9])]);
  });

  it('checks the name, then forbidden, then the value, then immutability, in wasmtime\'s order', () => {
    const immutable = new Fields([], true);
    expect(thrown(() => immutable.append('a b', bytes('x')))).toEqual({ tag: 'invalid-syntax' });
    expect(thrown(() => immutable.append('host', bytes('x')))).toEqual({ tag: 'forbidden' });
    expect(thrown(() => immutable.append('x-a', bytes('\n')))).toEqual({ tag: 'invalid-syntax' });
    expect(thrown(() => immutable.append('x-a', bytes('x')))).toEqual({ tag: 'immutable' });
  });
});

describe('response body and content-length (crates/wasi-http/src/p2/body.rs HostOutgoingBody)', () => {
  const response = (contentLength?: string) =>
    new OutgoingResponse(Fields.fromList(contentLength === undefined ? [] : [['content-length', bytes(contentLength)]]));

  it('a write that takes the body past its content-length fails (the bytes are already queued)', () => {
    const body = response('3').body();
    const stream = body.write();
    stream.write(bytes('ab'));
    const error = thrown(() => stream.write(bytes('cd'))) as { tag: string; val: unknown };
    expect(error.tag).toBe('last-operation-failed');
    expect(error.val).toBeInstanceOf(IoError);
  });

  it('finishing at another length than content-length fails with HTTP-response-body-size and aborts', () => {
    const short = response('5').body();
    short.write().write(bytes('abc'));
    expect(thrown(() => OutgoingBody.finish(short))).toEqual({ tag: 'HTTP-response-body-size', val: 3n });
    expect(short.finished).toBe(false);
    expect(short.failure).toMatch(/3 bytes finished against content-length 5/);

    const exact = response('3').body();
    exact.write().write(bytes('abc'));
    OutgoingBody.finish(exact);
    expect(exact.finished).toBe(true);
  });

  it('without content-length any length finishes; an unparsable content-length refuses the body', () => {
    const free = response().body();
    free.write().write(bytes('anything'));
    OutgoingBody.finish(free);
    expect(free.finished).toBe(true);
    // lib.rs get_content_length: `v.to_str()?.parse::<u64>()?`, and body() returns Err on failure
    for (const bad of ['-1', 'abc', '1.5', '18446744073709551616']) {
      expect(thrown(() => response(bad).body())).toBeUndefined();
    }
    expect(response('+7').body().expectedLength).toBe(7n); // u64::from_str takes a leading '+'
  });
});

// spin crates/trigger-http/src/server.rs `set_req_uri`: the authority is the Host header, or the
// absolute-form target's, parsed as http 1.3.1 `Authority` (src/uri/authority.rs); both present
// must agree; anything else is an error and hyper closes the connection without a response.
// Measured on spin up 4.0.2 with curl -H 'Host: …': "a b", "[::1", "", "x/cache?",
// "ex%61mple.com", "héllo" get no response; "user@host" and "x:99999" parse (the latter then
// fails in the guest with 500).
describe('the request authority (Host) as Spin parses it', () => {
  it.each(['a b', '[::1', '', 'x/cache?', 'x?', 'x#y', 'ex%61mple.com', 'hÃ©llo', 'a:1:2', 'a@', '[::1]]', 'a\\b'])(
    'refuses %j', (host) => {
      expect(isValidAuthority(host)).toBe(false);
      expect(requestAuthority(host, null)).toBeNull();
    });

  it.each(['localhost', '127.0.0.1:3000', '[::1]:3000', 'x:99999', 'user@host', 'u%41:p@host:1', 'a.b-c_d~e'])(
    'accepts %j', (host) => {
      expect(isValidAuthority(host)).toBe(true);
    });

  it('takes the absolute-form authority, which must agree (ignoring case) with Host when both are there', () => {
    expect(requestTarget('http://foo/cache?x=1')).toEqual({ path: '/cache', pathWithQuery: '/cache?x=1', authority: 'foo' });
    expect(requestAuthority(undefined, 'foo')).toBe('foo');
    expect(requestAuthority('FOO', 'foo')).toBe('FOO');
    expect(requestAuthority('bar', 'foo')).toBeNull();
    expect(requestAuthority(undefined, null)).toBeNull(); // "no 'Host' header present in request"
  });

  it('routes on the raw path, never on anything the Host header says', () => {
    // The component builds its URL from authority + path; a Host such as "x/cache?" used to move
    // the path. It cannot pass the authority check, and the path comes from the target alone.
    expect(requestAuthority('x/cache?', null)).toBeNull();
    expect(requestTarget('/healthz')).toEqual({ path: '/healthz', pathWithQuery: '/healthz', authority: null });
    expect(requestTarget('/a/../items?q')).toEqual({ path: '/a/../items', pathWithQuery: '/a/../items?q', authority: null });
  });
});
