// End to end on real tools: `deploy/deploy-app.sh --push-only` through the real Spin into
// a real OCI registry (CNCF distribution, TLS and bcrypt htpasswd on loopback, its CA trusted through
// SSL_CERT_FILE), with a token file written the way `az ... -o tsv` writes it; then `spin up --from`
// the pushed reference and the smoke test against it. A wrong password must stop before any upload.
// Tools: Spin, `registry` and `htpasswd` on PATH (.ci/install-registry.sh), openssl, curl.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout, spin, startApp } from '../support/host';
import { generateTlsFiles, type TlsFiles } from '../support/tls';
import { BASH, DEPLOY_DIR, REPO_ROOT } from './fakes';

const USER = 'tokenuser';
const PASSWORD = 'S3cr3t+Pw/=';
const WASM = join(REPO_ROOT, 'dist', 'cache-with-az-redis.wasm');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const stop = (child: ChildProcess | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

describe.skipIf(skipWithout('registry', 'htpasswd', 'openssl', 'curl'))('deploy-app.sh --push-only against a real registry, then spin up --from', () => {
  let root: string;
  let tls: TlsFiles;
  let registry: ChildProcess | undefined;
  let registryHost: string;
  let storage: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'cwar-registry-'));
    tls = generateTlsFiles({ dir: join(root, 'tls') });
    storage = join(root, 'storage');
    mkdirSync(storage);
    // bcrypt password file; the password goes to htpasswd on stdin (-i), not in argv
    const htpasswd = spawnSync('htpasswd', ['-iBc', join(root, 'htpasswd'), USER], { input: PASSWORD, encoding: 'utf8' });
    expect(htpasswd.status, htpasswd.stderr).toBe(0);
    const port = await freePort();
    registryHost = `localhost:${port}`;
    writeFileSync(
      join(root, 'config.yml'),
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${storage}`,
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '  tls:',
        `    certificate: ${tls.serverCert}`,
        `    key: ${tls.serverKey}`,
        'auth:',
        '  htpasswd:',
        '    realm: cwar-test',
        `    path: ${join(root, 'htpasswd')}`,
        '',
      ].join('\n'),
    );
    registry = spawn('registry', ['serve', join(root, 'config.yml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_TRACES_EXPORTER: 'none', OTEL_SDK_DISABLED: 'true' },
    });
    // ready when /v2/ answers (401: credentials required)
    const deadline = Date.now() + 30_000;
    for (;;) {
      const probe = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', tls.caCert, `https://${registryHost}/v2/`], { encoding: 'utf8' });
      if (probe.stdout === '401') break;
      if (Date.now() > deadline || registry.exitCode !== null) throw new Error(`registry did not start (last answer ${probe.stdout})`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const bin = join(root, 'bin');
    mkdirSync(bin);
    symlinkSync(spin(), join(bin, 'spin'));
    const home = join(root, 'home');
    mkdirSync(home);
    env = {
      PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
      HOME: home,
      SSL_CERT_FILE: tls.caCert,
      REGISTRY: registryHost,
      REGISTRY_USERNAME: USER,
      NAME_SUFFIX: 'e2e',
    };
    if (process.env.XDG_CACHE_HOME) env.XDG_CACHE_HOME = process.env.XDG_CACHE_HOME;
  }, 60_000);

  afterAll(async () => {
    await stop(registry);
    tls?.cleanup();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Runs deploy-app.sh --push-only --no-build with the password file holding `content`. */
  function push(tag: string, content: string) {
    const tokenFile = join(root, `token-${tag}`);
    writeFileSync(tokenFile, content);
    chmodSync(tokenFile, 0o600);
    return spawnSync(BASH, [join(DEPLOY_DIR, 'deploy-app.sh'), '--push-only', '--no-build', '--tag', tag], {
      cwd: root,
      env: { ...env, ACR_TOKEN_FILE: tokenFile },
      encoding: 'utf8',
      timeout: 120_000,
    });
  }

  const tagStored = (tag: string): boolean => existsSync(join(storage, 'docker/registry/v2/repositories/cache-with-az-redis/_manifests/tags', tag));

  it('the build output exists (npm run build ran first)', () => {
    expect(existsSync(WASM)).toBe(true);
  });

  it('a wrong password stops right after login, before any upload', () => {
    const r = push('wrong', 'not-the-password\n');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`error: registry ${registryHost} refused user ${USER} with the password from ${join(root, 'token-wrong')} (HTTP 401); nothing was built or pushed`);
    expect(r.stdout).toBe('');
    expect(tagStored('wrong')).toBe(false);
    expect(existsSync(join(storage, 'docker/registry/v2/repositories'))).toBe(false); // nothing was uploaded at all
    expect(`${r.stdout}${r.stderr}`).not.toContain('not-the-password');
  }, 120_000);

  it.each([
    ['LF', 'crlf-no', `${PASSWORD}\n`],
    ['CR LF', 'crlf-yes', `${PASSWORD}\r\n`],
  ])('pushes with a token file ending in %s; Spin stores the exact password', (_label, tag, content) => {
    const r = push(tag, content);
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${registryHost}/cache-with-az-redis:${tag}\n`);
    expect(tagStored(tag)).toBe(true);
    const auth = readFileSync(join(env.HOME!, '.config', 'fermyon', 'registry-auth.json'), 'utf8');
    expect(auth).toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
    expect(`${r.stdout}${r.stderr}`).not.toContain(PASSWORD);
  }, 120_000);

  it('spin up --from the pushed reference serves the smoke test (miss, then hit)', async () => {
    const ref = `${registryHost}/cache-with-az-redis:crlf-no`;
    expect(tagStored('crlf-no')).toBe(true);
    const work = mkdtempSync(join(root, 'up-'));
    // spin up --from: the same start-up as every other end-to-end test on Spin, from the registry
    const app = await startApp({ args: ['--from', ref], cwd: work, env: { ...env, SPIN_VARIABLE_CACHE_ADMIN_TOKEN: '' }, timeoutMs: 180_000 });
    try {
      const smoke = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [join(DEPLOY_DIR, 'smoke.js'), app.baseUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
      expect(smoke.out).not.toContain('FAIL');
      expect(smoke.code, smoke.out).toBe(0);
    } finally {
      await app.stop();
    }
  }, 240_000);
});
