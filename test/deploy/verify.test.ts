// deploy/verify.sh against two stand-in pods served from this process: the fake kubectl "forwards"
// to them, the real curl talks to them. Shared state = pods on one Redis; separate state = pods
// that fell back to their own SQLite file.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ITEMS_JSON } from '../support/expected';
import { SECRETS, commandLines, createSandbox, findLeaks, hasTool, type Sandbox } from './fakes';

const SCRIPT = 'verify.sh';
const PODS = ['cache-with-az-redis-7d9f-a', 'cache-with-az-redis-7d9f-b'];

interface Store {
  cached: boolean;
}

/** A pod's HTTP contract: GET /items through the store, DELETE /cache with the bearer token. */
function pod(store: Store, deleteCalls: string[]): Server {
  return createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/items') {
      const fromCache = store.cached;
      store.cached = true;
      res.writeHead(200, { 'content-type': 'application/json', 'x-served-from-cache': String(fromCache) });
      return res.end(ITEMS_JSON);
    }
    if (req.method === 'DELETE' && req.url === '/cache') {
      deleteCalls.push(req.headers.authorization ?? '');
      if (req.headers.authorization !== `Bearer ${SECRETS.adminToken}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end('{"error":"unauthorized"}');
      }
      store.cached = false;
      res.writeHead(204);
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

let sb: Sandbox;
let servers: Server[];
let deletes: string[];
beforeEach(() => {
  sb = createSandbox();
  servers = [];
  deletes = [];
});
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  sb.cleanup();
});

async function startPods(shared: boolean, warm = true): Promise<Record<string, string>> {
  const one: Store = { cached: warm };
  const stores = shared ? [one, one] : [{ cached: warm }, { cached: warm }];
  servers = stores.map((store) => pod(store, deletes));
  const ports = await Promise.all(servers.map(listen));
  return {
    FAKE_PODS: PODS.join(' '),
    FAKE_PF_PORTS: PODS.map((p, i) => `${p}=${ports[i]}`).join(' '),
    FAKE_KUBECTL_SECRET_TOKEN_B64: Buffer.from(SECRETS.adminToken).toString('base64'),
  };
}

describe.skipIf(!hasTool('curl'))('deploy/verify.sh', () => {
  it('passes when a hit written through pod A is served by pod B (one shared store)', async () => {
    const env = await startPods(true);
    const r = await sb.runAsync(SCRIPT, [], { env, without: ['curl'] });
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'PASS  1 DELETE /cache through A: 204',
        'PASS  2 GET /items through A: 200, x-served-from-cache: false',
        'PASS  3 GET /items through B: 200, x-served-from-cache: true',
        'PASS  4 DELETE /cache through B: 204',
        'PASS  5 GET /items through A: 200, x-served-from-cache: false',
        '',
      ].join('\n'),
    );
    expect(deletes).toEqual([`Bearer ${SECRETS.adminToken}`, `Bearer ${SECRETS.adminToken}`]);
    expect(commandLines(r.calls).filter((l) => l.includes('port-forward'))).toEqual(
      PODS.map((p) => `kubectl --context aks-cache-with-az-redis port-forward --namespace default pod/${p} :80`),
    );
    expect(findLeaks(r, [SECRETS.adminToken])).toEqual([]);
  });

  it('fails when each pod has its own store, and says why', async () => {
    const env = await startPods(false, false);
    const r = await sb.runAsync(SCRIPT, [], { env, without: ['curl'] });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain("FAIL  3 GET /items through B: expected 200 with x-served-from-cache: true, got 200 with 'false'");
    expect(r.stderr).toContain('The pods do not share one store');
    expect(r.stderr).toContain('error: the pods of cache-with-az-redis do not behave as one shared cache');
  });

  it('fails when pod B only looks shared because its own store was already warm: B\'s clear does not reach A', async () => {
    const env = await startPods(false, true);
    const r = await sb.runAsync(SCRIPT, [], { env, without: ['curl'] });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('PASS  3 GET /items through B: 200, x-served-from-cache: true');
    expect(r.stdout).toContain("FAIL  5 GET /items through A: expected 200 with x-served-from-cache: false, got 200 with 'true'");
    expect(r.stderr).toContain('The pods do not share one store');
    expect(r.stderr).toContain('error: the pods of cache-with-az-redis do not behave as one shared cache');
  });

  it('fails the clears without the right admin token', async () => {
    const env = await startPods(true);
    const r = await sb.runAsync(SCRIPT, [], { env: { ...env, CACHE_ADMIN_TOKEN: 'wrong' }, without: ['curl'] });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('FAIL  1 DELETE /cache through A: expected 204, got 401');
    expect(deletes[0]).toBe('Bearer wrong');
  });

  it('needs two running pods', async () => {
    const r = await sb.runAsync(SCRIPT, [], { env: { FAKE_PODS: PODS[0]! }, without: ['curl'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('found 1 running pod(s) of cache-with-az-redis in namespace default; the check needs two');
    expect(commandLines(r.calls)[1]).toBe(
      'kubectl --context aks-cache-with-az-redis get pods --namespace default -l core.spinkube.dev/app-name=cache-with-az-redis --field-selector=status.phase=Running -o jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}',
    );
  });

  it('refuses a foreign kubectl context', async () => {
    const r = await sb.runAsync(SCRIPT, [], { env: { FAKE_KUBE_CONTEXT: 'prod-cluster' }, without: ['curl'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the current kubectl context is 'prod-cluster'");
    expect(commandLines(r.calls)).toEqual(['kubectl config current-context']);
  });
});
