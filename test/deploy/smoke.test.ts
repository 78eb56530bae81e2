import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ITEMS_JSON as CATALOG } from '../support/expected';
import { DEPLOY_DIR } from './fakes';

const SMOKE = join(DEPLOY_DIR, 'smoke.js');

interface Behaviour {
  token?: string;
  itemsBody?: string;
  /** the body of a hit, when it should differ from the miss's */
  hitBody?: string;
  contentType?: string;
  /** ETag of a miss, and of a hit when `hitETag` is not given */
  etag?: string;
  hitETag?: string;
  omitHeader?: boolean;
  neverCached?: boolean;
  deleteStatus?: number;
  hangOn?: string;
}

/** A tiny stand-in for the app: the HTTP contract, with knobs to break it. */
function appServer(b: Behaviour = {}): Server {
  let cached = false;
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body = '', headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': b.contentType ?? 'application/json', ...headers });
      res.end(body);
    };
    if (b.hangOn && req.url === b.hangOn) return; // never answer
    if (req.method === 'GET' && req.url === '/healthz') return send(200, '{"status":"ok"}');
    if (req.method === 'GET' && req.url === '/items') {
      const fromCache = cached && !b.neverCached;
      cached = true;
      const body = (fromCache ? b.hitBody : undefined) ?? b.itemsBody ?? CATALOG;
      const etag = (fromCache ? b.hitETag : undefined) ?? b.etag;
      return send(200, body, {
        ...(b.omitHeader ? {} : { 'x-served-from-cache': String(fromCache) }),
        ...(etag ? { etag } : {}),
      });
    }
    if (req.method === 'DELETE' && req.url === '/cache') {
      if (b.token && req.headers.authorization !== `Bearer ${b.token}`) return send(401, '{"error":"unauthorized"}');
      if (b.deleteStatus) return send(b.deleteStatus, '{"error":"boom"}');
      cached = false;
      res.writeHead(204);
      return res.end();
    }
    send(404, '{"error":"not found"}');
  });
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
});

async function start(b?: Behaviour): Promise<string> {
  const server = appServer(b);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port nothing listens on: bind one, remember it, close it. */
async function unusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function smoke(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SMOKE, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('deploy/smoke.js', () => {
  it('passes all six steps against a correct server', async () => {
    const base = await start();
    const r = await smoke([base]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.match(/^PASS /gm)).toHaveLength(6);
    expect(r.stdout).toContain('x-served-from-cache: false');
    expect(r.stdout).toContain('x-served-from-cache: true');
    expect(r.stdout).toContain('178-byte item array (6 items)');
    expect(r.stdout).toContain('the same 178 bytes');
  });

  it('passes with any catalog that keeps the contract', async () => {
    const catalogs = [
      '[]',
      '[{"id":7,"title":"Flat White"}]',
      // what a changed src/catalog.ts may serve: other items, non-ASCII titles, extra fields
      '[{"id":1,"title":"Café au lait","price":3.5},{"id":2.5,"title":""},{"id":-3,"title":"Матча"}]',
    ];
    for (const itemsBody of catalogs) {
      const base = await start({ itemsBody });
      const r = await smoke([base]);
      expect(r.code, `${itemsBody}\n${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`${Buffer.byteLength(itemsBody)}-byte item array`);
    }
  });

  it('accepts a trailing slash on the base URL', async () => {
    const base = await start();
    expect((await smoke([`${base}/`])).code).toBe(0);
  });

  it('sends the admin token from --token or CACHE_ADMIN_TOKEN and never prints it', async () => {
    const token = 's3cret-Token+/=';
    const base = await start({ token });
    const withFlag = await smoke([base, '--token', token]);
    expect(withFlag.code, withFlag.stdout).toBe(0);
    const withEnv = await smoke([base], { CACHE_ADMIN_TOKEN: token });
    expect(withEnv.code, withEnv.stdout).toBe(0);
    for (const r of [withFlag, withEnv]) {
      expect(r.stdout + r.stderr).not.toContain(token);
      expect(r.stdout).toContain('with admin token');
    }
  });

  it('fails at the first DELETE with a hint when the token is missing', async () => {
    const base = await start({ token: 'expected' });
    const r = await smoke([base]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}2\. DELETE \/cache \(start cold\): .*401.*--token/m);
    expect(r.stdout).toMatch(/^SKIP {2}3\./m);
    expect(r.stderr).toContain('step "2. DELETE /cache (start cold)" failed');
  });

  it('fails, naming the step and the reason, when the body is not a JSON array of items', async () => {
    const cases: Array<[string, string]> = [
      ['<html>oops</html>', 'the body is not JSON'],
      ['{"items":[]}', 'the body is JSON but not an array'],
      ['[{"id":1,"title":"Latte"},null]', 'item 1 is not an object'],
      ['[{"id":"1","title":"Latte"}]', 'item 0 has no numeric "id"'],
      ['[{"id":1,"name":"Latte"}]', 'item 0 has no string "title"'],
    ];
    for (const [itemsBody, reason] of cases) {
      const base = await start({ itemsBody });
      const r = await smoke([base]);
      expect(r.code, itemsBody).toBe(1);
      expect(r.stdout).toMatch(/^FAIL {2}3\. GET \/items \(cold: served from origin\): not a JSON array of \{id, title\} items: /m);
      expect(r.stdout, itemsBody).toContain(reason);
      expect(r.stdout).toMatch(/^SKIP {2}4\./m);
    }
  });

  it('fails when a hit answers other bytes than the miss', async () => {
    // same items, other serialization: a client comparing bytes or caching by ETag would see a change
    const base = await start({ hitBody: JSON.stringify(JSON.parse(CATALOG), null, 1) });
    const r = await smoke([base]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^PASS {2}3\./m);
    expect(r.stdout).toMatch(/^FAIL {2}4\. GET \/items \(warm: served from cache\): body differs from the first GET \/items \(\d+ bytes, expected the same 178\)/m);
  });

  it('checks that a hit repeats the ETag of the miss when there is one', async () => {
    const same = await smoke([await start({ etag: '"v1"' })]);
    expect(same.code, same.stdout).toBe(0);
    const differs = await smoke([await start({ etag: '"v1"', hitETag: '"v2"' })]);
    expect(differs.code).toBe(1);
    expect(differs.stdout).toMatch(/^FAIL {2}4\. .*etag: expected "v1" as on the first GET \/items, got "v2"/m);
  });

  it('fails when GET /items is not application/json', async () => {
    const base = await start({ contentType: 'text/plain' });
    const r = await smoke([base]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}3\. .*content-type: expected application\/json, got text\/plain/m);
  });

  it('fails when the cache header is missing', async () => {
    const base = await start({ omitHeader: true });
    const r = await smoke([base]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}3\. .*missing header x-served-from-cache/m);
  });

  it('fails when the second GET is not served from the cache', async () => {
    const base = await start({ neverCached: true });
    const r = await smoke([base]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^PASS {2}3\./m);
    expect(r.stdout).toMatch(/^FAIL {2}4\. GET \/items \(warm: served from cache\): header x-served-from-cache: expected true, got false/m);
  });

  it('fails when DELETE /cache answers 500', async () => {
    const base = await start({ deleteStatus: 500 });
    const r = await smoke([base]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}2\. DELETE \/cache \(start cold\): DELETE \/cache: expected status 204, got 500/m);
  });

  it('fails with a clear message naming the URL when nothing listens', async () => {
    const base = `http://127.0.0.1:${await unusedPort()}`;
    const r = await smoke([base]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}1\. GET \/healthz: cannot reach http:\/\/127\.0\.0\.1:\d+\/healthz \(ECONNREFUSED\)/m);
    expect(r.stderr).toContain(`${base} is unreachable`);
  });

  it('gives up on a request after --timeout milliseconds', async () => {
    const base = await start({ hangOn: '/healthz' });
    const started = Date.now();
    const r = await smoke([base, '--timeout', '300']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}1\. GET \/healthz: no response from .* within 300 ms/m);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('--help exits 0; bad arguments exit 2', async () => {
    const help = await smoke(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run smoke --');
    for (const args of [['--nope'], ['ftp://example.com'], ['--timeout', 'soon'], ['http://a', 'http://b']]) {
      const r = await smoke(args);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
