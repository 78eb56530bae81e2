// deploy/spin-binary.js (which Spin `npm start` runs, installing the pinned release when needed) and
// deploy/start.js, each in a child Node process with its own PATH, HOME and XDG_CACHE_HOME, against
// a fake Spin release served on loopback: a tar.gz holding a shell script `spin`, and a checksums
// file in the release's `sha256sum` format.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_DIR, REPO_ROOT } from './fakes';

const WAYS_OUT = 'install Spin 3.2 or newer with its installer (https://spinframework.dev/install), '
  + 'or set SPIN_BIN=/path/to/spin, or SPIN_RELEASES_URL=<mirror of the Spin releases>';
const SUMS_PATH = '/v4.0.2/checksums-v4.0.2.txt';
// Every asset name of the real release, so the test does not repeat the module's platform mapping.
const ASSETS = ['linux-amd64', 'linux-aarch64', 'macos-amd64', 'macos-aarch64', 'static-linux-amd64', 'static-linux-aarch64']
  .map((osArch) => `spin-v4.0.2-${osArch}.tar.gz`);

let root: string;
let archive: Buffer;
let sums: string;
let toolsBin: string; // tar and gzip, and nothing else

/** A shell script standing in for spin: prints `spin <version> (test)`, records its argv, exits with `code`. */
function fakeSpin(dir: string, version: string, { argvFile = '/dev/null', code = 0 } = {}): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'spin');
  writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argvFile}'\n[ "$1" = --version ] && echo 'spin ${version} (test)'\nexit ${code}\n`);
  chmodSync(file, 0o755);
  return file;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cwar-spin-binary-'));
  const pkg = join(root, 'pkg');
  fakeSpin(pkg, '4.0.2');
  writeFileSync(join(pkg, 'README.md'), 'fake Spin release\n');
  spawnSync('tar', ['-czf', join(root, 'release.tar.gz'), '-C', pkg, 'spin', 'README.md']);
  archive = readFileSync(join(root, 'release.tar.gz'));
  const sha = createHash('sha256').update(archive).digest('hex');
  sums = ASSETS.map((asset) => `${sha}  ${asset}\n`).join('');
  toolsBin = join(root, 'tools');
  mkdirSync(toolsBin);
  for (const tool of ['tar', 'gzip']) {
    symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(toolsBin, tool));
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Mode = 'ok' | 'bad-checksum' | 'not-in-checksums' | '404' | 'dies';
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
});

/** The fake release server; `requests` collects the paths asked for. */
async function release(mode: Mode): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    if (mode === '404') return res.writeHead(404).end('Not Found');
    if (req.url === SUMS_PATH) {
      const body = mode === 'bad-checksum' ? sums.replace(/^[0-9a-f]{64}/gm, '0'.repeat(64))
        : mode === 'not-in-checksums' ? `${'1'.repeat(64)}  spin-v4.0.2-windows-amd64.zip\n` : sums;
      return res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    }
    if (!ASSETS.some((asset) => req.url === `/v4.0.2/${asset}`)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': archive.length });
    if (mode !== 'dies') return res.end(archive);
    res.write(archive.subarray(0, archive.length >> 1), () => res.socket?.destroy());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

interface Run { code: number | null; stdout: string; stderr: string }
function node(args: string[], env: Record<string, string>, cwd = REPO_ROOT): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `node deploy/spin-binary.js` with a fresh HOME and cache dir, and PATH = tar, gzip and `pathDirs`. */
async function findSpin(env: Record<string, string> = {}, pathDirs: string[] = []) {
  const home = mkdtempSync(join(root, 'home-'));
  const cache = mkdtempSync(join(root, 'cache-'));
  const fullEnv = { HOME: home, XDG_CACHE_HOME: cache, PATH: [...pathDirs, toolsBin].join(':'), ...env };
  const again = () => node([join(DEPLOY_DIR, 'spin-binary.js')], fullEnv);
  return { ...(await again()), cache, again, installed: join(cache, 'cache-with-az-redis/spin/v4.0.2/spin') };
}

const listing = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();
const installing = (url: string, asset: string, cache: string) =>
  `Installing Spin v4.0.2 (${asset}) from ${url} into ${cache}/cache-with-az-redis/spin/v4.0.2\n`;

/** A failed run: exit 1, its stderr the Installing line and one error line, no trace, an empty cache. */
function expectCleanFailure(run: Run & { cache: string }, url: string, error: string) {
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  const asset = /\((spin-v4\.0\.2-[a-z-]+\d*\.tar\.gz)\)/.exec(run.stderr)?.[1] ?? '';
  expect(run.stderr).toBe(`${installing(url, asset, run.cache)}Error: could not install Spin v4.0.2: ${error.replace('<asset>', asset)}; ${WAYS_OUT}\n`);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(listing(run.cache)).toEqual([]);
}

describe('deploy/spin-binary.js', () => {
  it('installs the release into an empty cache, verified, then reuses it without asking the server', async () => {
    const { url, requests, server } = await release('ok');
    const run = await findSpin({ SPIN_RELEASES_URL: url });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${run.installed}\n`);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toBe(SUMS_PATH);
    const asset = requests[1]!.slice('/v4.0.2/'.length);
    expect(ASSETS).toContain(asset);
    expect(run.stderr).toBe(installing(url, asset, run.cache));
    expect(listing(run.cache)).toEqual(['cache-with-az-redis', 'cache-with-az-redis/spin', 'cache-with-az-redis/spin/v4.0.2',
      'cache-with-az-redis/spin/v4.0.2/README.md', 'cache-with-az-redis/spin/v4.0.2/spin']);
    expect(readFileSync(run.installed)).toEqual(readFileSync(join(root, 'pkg', 'spin')));

    server.close();
    const second = await run.again();
    expect(second).toEqual({ code: 0, stdout: `${run.installed}\n`, stderr: '' });
    expect(requests).toHaveLength(2);
  });

  it('uses SPIN_BIN first, and names SPIN_BIN when it is not an executable', async () => {
    const { url, requests } = await release('ok');
    const chosen = fakeSpin(join(root, 'spin-bin'), '3.0.0');
    const onPath = join(root, 'path-4');
    fakeSpin(onPath, '4.0.2');
    expect(await findSpin({ SPIN_BIN: chosen, SPIN_RELEASES_URL: url }, [onPath])).toMatchObject({ code: 0, stdout: `${chosen}\n`, stderr: '' });
    const missing = join(root, 'nowhere', 'spin');
    const run = await findSpin({ SPIN_BIN: missing, SPIN_RELEASES_URL: url }, [onPath]);
    expect(run).toMatchObject({ code: 1, stdout: '',
      stderr: `Error: SPIN_BIN=${missing} is not an executable file; point SPIN_BIN at a Spin CLI (https://spinframework.dev/install) or unset it\n` });
    expect(requests).toEqual([]);
  });

  it('skips a spin on PATH older than 3.2 with one line, and uses a 3.2 one', async () => {
    const { url, requests } = await release('ok');
    const oldDir = join(root, 'path-3.1');
    const old = fakeSpin(oldDir, '3.1.0');
    const run = await findSpin({ SPIN_RELEASES_URL: url }, [oldDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${run.installed}\n`);
    expect(run.stderr).toBe(`Not using ${old}: it is Spin 3.1.0, and Spin older than 3.2 breaks on Azure Redis idle disconnects\n`
      + installing(url, requests[1]!.slice('/v4.0.2/'.length), run.cache));

    const newDir = join(root, 'path-3.2');
    const recent = fakeSpin(newDir, '3.2.0');
    requests.length = 0;
    expect(await findSpin({ SPIN_RELEASES_URL: url }, [newDir, oldDir])).toMatchObject({ code: 0, stdout: `${recent}\n`, stderr: '' });
    expect(requests).toEqual([]);
  });

  it('refuses an archive whose SHA-256 does not match, and leaves nothing behind', async () => {
    const { url } = await release('bad-checksum');
    const run = await findSpin({ SPIN_RELEASES_URL: url });
    const actual = createHash('sha256').update(archive).digest('hex');
    expectCleanFailure(run, url, `SHA-256 checksum mismatch for ${url}/v4.0.2/<asset>: ${actual}, but ${url}${SUMS_PATH} says ${'0'.repeat(64)}`);
  });

  it('refuses an asset the checksums file does not list', async () => {
    const { url, requests } = await release('not-in-checksums');
    expectCleanFailure(await findSpin({ SPIN_RELEASES_URL: url }), url, `the checksums file ${url}${SUMS_PATH} has no SHA-256 line for <asset>`);
    expect(requests).toEqual([SUMS_PATH]);
  });

  it('says which URL answered 404', async () => {
    const { url } = await release('404');
    expectCleanFailure(await findSpin({ SPIN_RELEASES_URL: url }), url, `could not download the checksums file ${url}${SUMS_PATH} (HTTP 404)`);
  });

  it('says the connection was refused', async () => {
    const { url, server } = await release('ok');
    await new Promise((r) => server.close(r));
    const port = new URL(url).port;
    expectCleanFailure(await findSpin({ SPIN_RELEASES_URL: url }), url,
      `could not download the checksums file ${url}${SUMS_PATH} (connect ECONNREFUSED 127.0.0.1:${port})`);
  });

  it('leaves nothing behind when the server dies mid-download', async () => {
    const { url } = await release('dies');
    const run = await findSpin({ SPIN_RELEASES_URL: url });
    expect(run.stderr).toMatch(/^Error: could not install Spin v4\.0\.2: download of http:\S+\.tar\.gz broke off \(.+\); install Spin/m);
    const error = /download of .*/.exec(run.stderr)![0].replace(/; install Spin.*/, '').replace(/spin-v4\.0\.2-[a-z-]+\d*\.tar\.gz/, '<asset>');
    expectCleanFailure(run, url, error);
  });
});

describe('deploy/start.js', () => {
  /** An app directory whose component's build appends to build.log and writes dist/app.wasm. */
  function app(): string {
    const dir = mkdtempSync(join(root, 'app-'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'index.ts'), '');
    const build = `node -e "require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/app.wasm','');require('fs').appendFileSync('build.log','built\\\\n')"`;
    writeFileSync(join(dir, 'spin.toml'), `spin_manifest_version = 2\n[component.app]\nsource = "dist/app.wasm"\n`
      + `[component.app.build]\ncommand = ${JSON.stringify(build)}\nwatch = ["src/**/*.ts"]\n`);
    return dir;
  }

  it('with --help runs `spin up --help` and builds nothing', async () => {
    const dir = mkdtempSync(join(root, 'app-'));
    copyFileSync(join(REPO_ROOT, 'spin.toml'), join(dir, 'spin.toml'));
    const argvFile = join(root, 'help-argv');
    const spin = fakeSpin(join(root, 'help-spin'), '4.0.2', { argvFile });
    const run = await node([join(DEPLOY_DIR, 'start.js'), '--help'], { SPIN_BIN: spin, HOME: root, PATH: process.env.PATH! }, dir);
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(argvFile, 'utf8')).toBe('up\n--help\n');
    expect(readdirSync(dir)).toEqual(['spin.toml']);
  });

  it('stops with the one-line message, before building, when there is no Spin to run', async () => {
    const dir = app();
    const missing = join(root, 'nowhere', 'spin');
    expect(await node([join(DEPLOY_DIR, 'start.js')], { SPIN_BIN: missing, HOME: root, PATH: process.env.PATH! }, dir)).toEqual({ code: 1, stdout: '',
      stderr: `Error: SPIN_BIN=${missing} is not an executable file; point SPIN_BIN at a Spin CLI (https://spinframework.dev/install) or unset it\n` });
    expect(readdirSync(dir).sort()).toEqual(['spin.toml', 'src']);
  });

  it('builds when the component is missing or older than its sources, then runs `spin up` with the args and its exit code', async () => {
    const dir = app();
    const argvFile = join(root, 'up-argv');
    const spin = fakeSpin(join(root, 'up-spin'), '4.0.2', { argvFile, code: 7 });
    const start = () => node([join(DEPLOY_DIR, 'start.js'), '--listen', '127.0.0.1:0'], { SPIN_BIN: spin, HOME: root, PATH: process.env.PATH! }, dir);
    const builds = () => readFileSync(join(dir, 'build.log'), 'utf8');

    const first = await start();
    expect(first.code).toBe(7);
    expect(first.stderr).toMatch(/^dist\/app\.wasm is missing: building app with `node -e/);
    expect(builds()).toBe('built\n');
    expect(readFileSync(argvFile, 'utf8')).toBe('up\n--listen\n127.0.0.1:0\n');

    expect(await start()).toEqual({ code: 7, stdout: '', stderr: '' });
    expect(builds()).toBe('built\n');

    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'src', 'index.ts'), later, later);
    expect((await start()).stderr).toMatch(/^dist\/app\.wasm is older than its sources: building app/);
    expect(builds()).toBe('built\nbuilt\n');
    expect(existsSync(join(dir, 'dist', 'app.wasm'))).toBe(true);
  });
});
