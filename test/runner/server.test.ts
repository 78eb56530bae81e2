// The runner's HTTP front door with a recording stand-in for the component, to see exactly what
// a guest would be handed and what the client gets back. Each rule cites the Spin source it mirrors.
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../../runner/server.js';

type Request = { method: string; pathWithQuery: string; authority: string; headers: Array<[string, Uint8Array]>; body: Uint8Array };
type Reply = { status: number; headers: Array<[string, Uint8Array]>; body: Uint8Array; aborted: string | null };

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve({ reply, routes = ['/...'], maxBodyBytes = null as number | null, host = '127.0.0.1' }: {
  reply?: (request: Request) => Reply; routes?: string[]; maxBodyBytes?: number | null; host?: string;
} = {}) {
  const seen: Request[] = [];
  const component = {
    instantiate: () => ({}),
    handle: (_instance: unknown, request: Request) => {
      seen.push(request);
      return reply?.(request) ?? { status: 200, headers: [], body: Buffer.from('ok'), aborted: null };
    },
  };
  const route = (r: string) => ({ route: r, component: { id: 'app', source: '', keyValueStores: [], variables: {} } });
  const server = createServer({
    routes: routes.map(route),
    componentFor: () => component as never,
    appInfo: { name: 'demo', version: '1.2.3' },
    maxBodyBytes,
    log: () => {},
    preinstantiate: false,
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const { port } = server.address() as net.AddressInfo;
  return { port, host, seen };
}

/** Sends raw bytes; resolves with everything received before the server closed (or 2 s passed). */
function raw(port: number, request: string | Buffer, host = '127.0.0.1') {
  return new Promise<string>((resolve) => {
    const socket = net.connect(port, host, () => socket.write(request));
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
    setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, 2000);
  });
}

describe('what the guest is handed', () => {
  it('removes the forbidden request headers (wasmtime crates/wasi-http/src/p2/types.rs new_incoming_request)', async () => {
    const { port, seen } = await serve();
    await raw(port, 'GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\nKeep-Alive: 5\r\nProxy-Authorization: p\r\n'
      + 'Proxy-Connection: x\r\nUpgrade: ws\r\nHTTP2-Settings: s\r\nX-Kept: yes\r\n\r\n');
    const names = seen[0]!.headers.map(([n]) => n);
    for (const gone of ['host', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'upgrade', 'http2-settings']) {
      expect(names).not.toContain(gone);
    }
    expect(names).toContain('x-kept');
    expect(seen[0]!.authority).toBe('h');
  });

  it('adds the spin-* headers as spin crates/trigger-http/src/headers.rs compute_default_headers does', async () => {
    const { port, seen } = await serve({ routes: ['/api/...'] });
    await raw(port, 'GET /api/items/?q=1 HTTP/1.1\r\nHost: example.test:8080\r\nConnection: close\r\n\r\n');
    const headers = Object.fromEntries(seen[0]!.headers.filter(([n]) => n.startsWith('spin-')).map(([n, v]) => [n, text(v)]));
    expect(headers).toEqual({
      'spin-path-info': '/items/', // the trailing slash is kept (crates/routes/src/lib.rs trailing_wildcard)
      'spin-full-url': 'http://example.test:8080/api/items/?q=1',
      'spin-matched-route': '/api/...',
      'spin-base-path': '/', // always "/" in Spin 3.6 / 4.0
      'spin-raw-component-route': '/api/...',
      'spin-component-route': '/api',
      'spin-client-addr': expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    expect(seen[0]!.pathWithQuery).toBe('/api/items/?q=1');
  });

  it('writes an IPv6 client address in brackets (Rust\'s SocketAddr display)', async () => {
    let listening;
    try {
      listening = await serve({ host: '::1' });
    } catch {
      return; // no IPv6 loopback here
    }
    await raw(listening.port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', '::1');
    const addr = listening.seen[0]!.headers.find(([n]) => n === 'spin-client-addr')!;
    expect(text(addr[1])).toMatch(/^\[::1\]:\d+$/);
  });

  it('passes header bytes through unchanged, and answers 500 without running the guest for a non-UTF-8 value', async () => {
    const { port, seen } = await serve();
    await raw(port, Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nX-Utf8: '), Buffer.from('é', 'utf8'), Buffer.from('\r\n\r\n')]));
    expect([...seen[0]!.headers.find(([n]) => n === 'x-utf8')![1]]).toEqual([0xc3, 0xa9]);
    // crates/trigger-http/src/headers.rs prepare_request_headers: `std::str::from_utf8(value)?`
    const response = await raw(port, Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nX-Latin1: '), Buffer.from([0xe9]), Buffer.from('\r\n\r\n')]));
    expect(response).toMatch(/^HTTP\/1\.1 500 /);
    expect(seen).toHaveLength(1);
  });

  it('passes a body of any size by default (Spin has no limit); 413 only with maxBodyBytes', async () => {
    const big = Buffer.alloc(12 * 1024 * 1024, 1);
    const open = await serve();
    const response = await fetch(`http://127.0.0.1:${open.port}/upload`, { method: 'POST', body: big });
    expect(response.status).toBe(200);
    expect(open.seen[0]!.body.length).toBe(big.length);

    const limited = await serve({ maxBodyBytes: 1024 });
    expect((await fetch(`http://127.0.0.1:${limited.port}/upload`, { method: 'POST', body: big })).status).toBe(413);
    expect(limited.seen).toHaveLength(0);
  });
});

describe('answers that never reach the guest', () => {
  it('serves /.well-known/spin/health and /info itself; other /.well-known/spin/ paths get an empty 404 (server.rs handle)', async () => {
    const { port, seen } = await serve();
    const health = await fetch(`http://127.0.0.1:${port}/.well-known/spin/health`);
    expect([health.status, await health.text(), health.headers.get('content-type')]).toEqual([200, 'OK', null]);
    const info = await fetch(`http://127.0.0.1:${port}/.well-known/spin/info`);
    expect(info.headers.get('content-type')).toBe('application/json');
    expect(await info.text()).toBe('{\n  "name": "demo",\n  "version": "1.2.3"\n}'); // serde_json::to_vec_pretty
    const other = await fetch(`http://127.0.0.1:${port}/.well-known/spin/other`);
    expect([other.status, await other.text()]).toEqual([404, '']);
    expect(seen).toHaveLength(0);
  });

  it('answers a path no route matches with an empty 404 (server.rs not_found)', async () => {
    const { port, seen } = await serve({ routes: ['/only'] });
    const response = await fetch(`http://127.0.0.1:${port}/elsewhere`);
    expect([response.status, await response.text()]).toEqual([404, '']);
    expect(seen).toHaveLength(0);
  });

  it('gives no response at all to a routed request with a missing or invalid Host, and never echoes it', async () => {
    const { port, seen } = await serve();
    expect(await raw(port, 'GET /cache HTTP/1.1\r\nHost: x/cache?\r\n\r\n')).toBe('');
    expect(await raw(port, 'GET /cache HTTP/1.1\r\n\r\n')).toBe('');
    expect(await raw(port, 'GET http://a/cache HTTP/1.1\r\nHost: b\r\n\r\n')).toBe('');
    // Spin's own paths come before the Host check.
    expect(await raw(port, 'GET /.well-known/spin/health HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\nOK$/);
    // An absolute-form target without Host is fine (its authority is used).
    expect(await raw(port, 'GET http://a/cache HTTP/1.1\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen.map((r) => [r.authority, r.pathWithQuery])).toEqual([['a', '/cache']]);
  });
});

describe('a response the guest breaks off', () => {
  it('sends the head and the bytes written, then closes without completing the body', async () => {
    const { port } = await serve({
      reply: () => ({ status: 200, headers: [['content-length', Buffer.from('10')]], body: Buffer.from('abc'), aborted: 'finished short' }),
    });
    const response = await raw(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 200 [\s\S]*content-length: 10\r\n[\s\S]*\r\n\r\nabc$/i);
  });
});
