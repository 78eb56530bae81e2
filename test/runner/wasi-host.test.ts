// The host side of the component's imports, called the way jco's bindings call them: results are
// returned, WIT errors are thrown as plain `{ tag, val }` objects (a thrown Error would trap).
import { describe, expect, it } from 'vitest';
import { bytes, thrown } from '../support/wit-calls';
import { hostImports } from '../../runner/host/imports.js';
import { Fields, IncomingRequest, OutgoingBody, OutgoingResponse } from '../../runner/wasi/http.js';
import { KvBackendError } from '../../runner/kv/index.js';

function imports({ failing = false } = {}) {
  const data = new Map<string, Uint8Array>();
  const backend = {
    get: (key: string) => {
      if (failing) throw new KvBackendError('redis unavailable');
      return data.get(key) ?? null;
    },
    set: (key: string, value: Uint8Array) => void data.set(key, value),
    delete: (key: string) => void data.delete(key),
    exists: (key: string) => data.has(key),
    getKeys: () => [...data.keys()],
  };
  return hostImports({
    allowedLabels: ['default', 'unconfigured'],
    backendFor: (label: string) => (label === 'default' ? backend : null),
    variables: new Map([['cache_admin_token', 's3cret']]),
  }) as Record<string, any>;
}

describe('fermyon:spin/key-value', () => {
  it('opens only the labels the component lists, and only configured ones', () => {
    const { Store } = imports()['fermyon:spin/key-value'];
    expect(thrown(() => Store.open('other'))).toEqual({ tag: 'access-denied' });
    expect(thrown(() => Store.open('unconfigured'))).toEqual({ tag: 'no-such-store' });
    const store = Store.open('default');
    expect(store.get('missing')).toBeUndefined();
    store.set('k', bytes('v'));
    expect(store.get('k')).toEqual(bytes('v'));
    expect(store.exists('k')).toBe(true);
    expect(store.getKeys()).toEqual(['k']);
    store.delete('k');
    expect(store.exists('k')).toBe(false);
  });

  it('turns backend failures into other(message), never into a trap', () => {
    const { Store } = imports({ failing: true })['fermyon:spin/key-value'];
    const error = thrown(() => Store.open('default').get('k'));
    expect(error).toEqual({ tag: 'other', val: 'redis unavailable' });
    expect(error).not.toBeInstanceOf(Error);
  });
});

describe('fermyon:spin/variables', () => {
  it('answers declared variables and rejects undeclared or invalid names', () => {
    const { get } = imports()['fermyon:spin/variables'];
    expect(get('cache_admin_token')).toBe('s3cret');
    expect(thrown(() => get('missing'))).toMatchObject({ tag: 'undefined' });
    expect(thrown(() => get('Bad-Name'))).toMatchObject({ tag: 'invalid-name' });
  });
});

describe('what the guest cannot do', () => {
  it('has outbound HTTP denied', () => {
    const { handle } = imports()['wasi:http/outgoing-handler'];
    expect(thrown(() => handle({}, undefined))).toEqual({ tag: 'HTTP-request-denied' });
  });

  it('has no preopened directories', () => {
    expect(imports()['wasi:filesystem/preopens'].getDirectories()).toEqual([]);
  });
});

describe('wasi:http types', () => {
  it('gives the guest immutable request headers and a readable body stream that ends with closed', () => {
    const request = new IncomingRequest({
      method: 'POST',
      pathWithQuery: '/items?x=1',
      authority: 'localhost:3000',
      headers: [['content-type', 'text/plain']],
      body: bytes('hello'),
    });
    expect(request.method()).toEqual({ tag: 'post' });
    expect(request.pathWithQuery()).toBe('/items?x=1');
    const headers = request.headers();
    expect(headers.get('Content-Type')).toEqual([bytes('text/plain')]);
    expect(thrown(() => headers.set('x', [bytes('y')]))).toEqual({ tag: 'immutable' });

    const stream = request.consume().stream();
    expect(stream.read(3n)).toEqual(bytes('hel'));
    expect(stream.read(100n)).toEqual(bytes('lo'));
    expect(thrown(() => stream.read(1n))).toEqual({ tag: 'closed' });
  });

  it('collects the response the guest writes, including an empty one', () => {
    const fields = Fields.fromList([['Content-Type', bytes('application/json')]]);
    expect(thrown(() => Fields.fromList([['bad header', bytes('x')]]))).toEqual({ tag: 'invalid-syntax' });
    const response = new OutgoingResponse(fields);
    response.setStatusCode(201);
    const body = response.body();
    const out = body.write();
    out.write(bytes('{"a":'));
    out.blockingWriteAndFlush(bytes('1}'));
    OutgoingBody.finish(body);
    expect(body.finished).toBe(true);
    expect(Buffer.concat(body.chunks).toString()).toBe('{"a":1}');
    expect(thrown(() => out.write(bytes('late')))).toEqual({ tag: 'closed' });
    expect(response.headers().entries()).toEqual([['content-type', bytes('application/json')]]);
  });
});
