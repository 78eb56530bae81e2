import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KvBackendError, RedisBackend } from '../../runner/kv/index.js';
import { opensslTrust } from '../../runner/kv/tls-trust.js';
import { skipUnlessAvailable, startRedisServer, type RedisServer } from '../support/redis-server';
import { generateTlsFiles, type TlsFiles } from '../support/tls';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const INDEX_URL = new URL('../../runner/kv/index.js', import.meta.url).href;
const TIMEOUT_MS = 200;

/** Opens the backend in a fresh Node process (NODE_EXTRA_CA_CERTS is read at process start). */
function childRoundTrip(env: NodeJS.ProcessEnv, { spinBehaviour = false } = {}) {
  const options = spinBehaviour ? '{ log: (l) => logs.push(l), reconnect: { retries: 0 } }' : '{ log: (l) => logs.push(l), timeoutMs: 1000 }';
  const code = `
    import { openBackend } from ${JSON.stringify(INDEX_URL)};
    const logs = [];
    const kv = openBackend({ type: 'redis', url: process.env.KV_URL }, ${options});
    let value = null, error = null;
    try {
      kv.afterOpen();
      kv.set('tls-key', new TextEncoder().encode('over tls'));
      value = new TextDecoder().decode(kv.get('tls-key'));
    } catch (e) { error = e.message; }
    console.log(JSON.stringify({ value, error, state: kv.state, logs }));
    kv.close();
  `;
  const childEnv = { ...process.env, ...env };
  for (const name of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR']) if (!env[name]) delete childEnv[name];
  return new Promise<{ value: string | null; error: string | null; state: string; logs: string[] }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: childEnv,
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? ''));
      } catch {
        reject(new Error(`child failed (${status}): ${out}\n${err}`));
      }
    });
  });
}

const skip = skipUnlessAvailable('redis-server', 'openssl');
if (skip) it.skip('Redis TLS tests need redis-server and openssl (not installed)', () => {});

describe.skipIf(skip)('Redis backend over TLS (rediss://)', () => {
  let tls: TlsFiles;
  let redis: RedisServer;
  const logs: string[] = [];
  const backends: RedisBackend[] = [];
  const open = (url: string) => {
    const b = new RedisBackend(url, {
      timeoutMs: TIMEOUT_MS,
      reconnectMaxDelayMs: 200,
      log: (l: string) => logs.push(l),
    });
    backends.push(b);
    return b;
  };

  beforeAll(async () => {
    tls = generateTlsFiles();
    redis = await startRedisServer({ tls });
  });
  afterEach(() => {
    for (const b of backends.splice(0)) b.close();
  });
  afterAll(async () => {
    await redis?.stop();
    tls?.cleanup();
    for (const line of logs) {
      expect(line).not.toContain(redis.password);
      expect(line).not.toContain(encodeURIComponent(redis.password));
    }
  });

  it('verifies the server against NODE_EXTRA_CA_CERTS (read at process start, used by the worker)', async () => {
    expect(redis.url.startsWith('rediss://')).toBe(true);
    const result = await childRoundTrip({ KV_URL: redis.url, NODE_EXTRA_CA_CERTS: tls.caCert });
    expect(result).toMatchObject({ value: 'over tls', error: null, state: 'ready' });
    const c = await redis.client();
    expect(await c.get('tls-key')).toBe('over tls');
  });

  it('without the CA (no NODE_EXTRA_CA_CERTS) the same child cannot connect', async () => {
    const result = await childRoundTrip({ KV_URL: redis.url });
    expect(result.value).toBeNull();
    expect(result.error).toMatch(/TLS error|certificate/);
    expect(result.logs.join('\n')).toMatch(/redis TLS error: .*certificate/);
  });

  // Spin's Redis client is redis-rs with native-tls (spin Cargo.lock: native-tls 0.2.12 at v3.6.3,
  // 0.2.18 at v4.0.2), i.e. OpenSSL on Linux with openssl-probe filling SSL_CERT_FILE / SSL_CERT_DIR
  // from the system store when unset: the trust is the system store or what those variables name.
  it('trusts the CA named by SSL_CERT_FILE, as native-tls/OpenSSL does (Spin behaviour)', async () => {
    const result = await childRoundTrip({ KV_URL: redis.url, SSL_CERT_FILE: tls.caCert }, { spinBehaviour: true });
    expect(result).toMatchObject({ value: 'over tls', error: null });
  });

  it('trusts a CA found in SSL_CERT_DIR', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cert-dir-'));
    try {
      copyFileSync(tls.caCert, path.join(dir, 'test-ca.pem'));
      const result = await childRoundTrip({ KV_URL: redis.url, SSL_CERT_DIR: dir }, { spinBehaviour: true });
      expect(result).toMatchObject({ value: 'over tls', error: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without the CA in the system store or the variables, the first open fails (Spin behaviour)', async () => {
    const result = await childRoundTrip({ KV_URL: redis.url }, { spinBehaviour: true });
    expect(result.value).toBeNull();
    expect(result.error).toMatch(/certificate/);
  });

  it('the trust is the OpenSSL store, not Node\'s bundled list', () => {
    const system = opensslTrust({});
    const withFile = opensslTrust({ SSL_CERT_FILE: tls.caCert });
    const ca = readFileSync(tls.caCert, 'latin1').trim();
    expect(system.ca.some((c) => c.trim() === ca)).toBe(false);
    expect(withFile.ca.some((c) => c.trim() === ca)).toBe(true);
    expect(withFile.sources[0]).toBe(tls.caCert); // it replaces the probed bundle file; the probed directory stays
  });

  it('#insecure skips certificate verification', () => {
    const kv = open(redis.urlFor({ insecure: true }));
    expect(kv.state).toBe('ready');
    kv.set('insecure', enc('ok'));
    expect(dec(kv.get('insecure'))).toBe('ok');
  });

  it('an untrusted certificate: ops fail fast and the log names the TLS/certificate problem', () => {
    const before = logs.length;
    const kv = open(redis.url);
    expect(kv.state).toBe('down');
    const line = logs.slice(before).find((l) => /redis unreachable/.test(l));
    expect(line).toMatch(/redis TLS error: (self-signed certificate in certificate chain|unable to verify the first certificate|.*certificate)/);
    const t0 = performance.now();
    let error: unknown;
    try {
      kv.get('k');
    } catch (err) {
      error = err;
    }
    expect(performance.now() - t0).toBeLessThan(TIMEOUT_MS);
    expect(error).toBeInstanceOf(KvBackendError);
    expect((error as Error).message).toMatch(/redis not connected: redis TLS error: .*certificate/);
  });

  it('a plain redis:// URL against the TLS port fails, not hangs', () => {
    const kv = open(redis.url.replace('rediss://', 'redis://'));
    const t0 = performance.now();
    expect(() => kv.get('k')).toThrow(KvBackendError);
    expect(performance.now() - t0).toBeLessThan(5 * TIMEOUT_MS);
  });
});
