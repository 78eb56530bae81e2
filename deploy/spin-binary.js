// Which Spin CLI `npm start` runs, installing the pinned release when there is none to use:
//
//   1. SPIN_BIN, when set (it must name an executable file);
//   2. `spin` on PATH, when `spin --version` says 3.2 or newer (older ones break on Azure Redis
//      idle disconnects);
//   3. the copy installed earlier into ${XDG_CACHE_HOME:-$HOME/.cache}/cache-with-az-redis/spin/v4.0.2/;
//   4. otherwise Spin v4.0.2 from its GitHub release (or from SPIN_RELEASES_URL, a mirror with the
//      same layout), its SHA-256 checked against the release's checksums file before unpacking.
//
// `node deploy/spin-binary.js` prints the path it settled on. Plain Node ESM, built-ins only.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const SPIN_VERSION = '4.0.2';
const TAG = `v${SPIN_VERSION}`;
const MIN_VERSION = [3, 2];
const DEFAULT_RELEASES_URL = 'https://github.com/spinframework/spin/releases/download';
const WAYS_OUT = 'install Spin 3.2 or newer with its installer (https://spinframework.dev/install), '
  + 'or set SPIN_BIN=/path/to/spin, or SPIN_RELEASES_URL=<mirror of the Spin releases>';

/** Spin cannot be found or installed; `message` is one line that says what failed and the ways out. */
export class SpinUnavailableError extends Error {
  name = 'SpinUnavailableError';
}

const run = promisify(execFile);
const oneLine = (text) => String(text).replace(/\s+/g, ' ').trim();
const isExecutableFile = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
};

/** [major, minor, patch] from `spin --version` (`spin 4.0.2 (bfc7543b 2026-06-23)`), or undefined. */
async function versionOf(file, env) {
  try {
    const { stdout } = await run(file, ['--version'], { env, timeout: 15_000 });
    const match = /^spin (\d+)\.(\d+)\.(\d+)/m.exec(stdout);
    return match ? match.slice(1, 4).map(Number) : undefined;
  } catch {
    return undefined;
  }
}

/** `${XDG_CACHE_HOME:-$HOME/.cache}/cache-with-az-redis/spin`: where installed versions live. */
function cacheRoot(env) {
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  return path.join(xdg ?? path.join(env.HOME || homedir(), '.cache'), 'cache-with-az-redis', 'spin');
}

// Asset and checksums names: spinframework/spin, tag v4.0.2, .github/workflows/release.yml (as used by Spin's install.sh).
/**
 * The release asset for this machine: spin-v4.0.2-{linux,macos}-{amd64,aarch64}.tar.gz, or
 * spin-v4.0.2-static-linux-{amd64,aarch64}.tar.gz on musl; their hashes are `sha256sum *` lines in checksums-v4.0.2.txt.
 */
function assetName(platform = process.platform, arch = process.arch) {
  const archWord = { x64: 'amd64', arm64: 'aarch64' }[arch];
  let osWord = { linux: 'linux', darwin: 'macos' }[platform];
  if (!osWord || !archWord) return undefined;
  // Like the installer: a musl Linux (no glibc reported) gets the statically linked build.
  if (platform === 'linux' && !process.report?.getReport().header.glibcVersionRuntime) osWord = 'static-linux';
  return `spin-${TAG}-${osWord}-${archWord}.tar.gz`;
}

/** Removes install directories left by processes that no longer run (`.install-<pid>-…`). */
function sweepStaleInstalls(root) {
  for (const name of existsSync(root) ? readdirSync(root) : []) {
    const pid = Number(/^\.install-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (error) {
      if (error.code === 'ESRCH') rmSync(path.join(root, name), { recursive: true, force: true });
    }
  }
}

async function get(url, what) {
  let response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (error) {
    // fetch's own message is just "fetch failed"; the cause says connection refused, DNS, TLS…
    throw new Error(`could not download ${what} ${url} (${oneLine(error.cause?.message || error.cause?.code || error.message)})`);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`could not download ${what} ${url} (HTTP ${response.status})`);
  }
  return response;
}

/** A Transform that hashes what passes through and, on a terminal, shows how far the download is. */
function meter(hash, total, label) {
  const tty = process.stderr.isTTY;
  let seen = 0;
  let shown = -1;
  const show = () => {
    const percent = total ? Math.floor((seen * 100) / total) : undefined;
    const step = percent ?? Math.floor(seen / 1_048_576);
    if (!tty || step === shown) return;
    shown = step;
    const mb = (n) => (n / 1_048_576).toFixed(1);
    process.stderr.write(`\r${label}: ${percent !== undefined ? `${percent}% of ${mb(total)} MB` : `${mb(seen)} MB`}\x1b[K`);
  };
  return new Transform({
    transform(chunk, _encoding, done) {
      hash.update(chunk);
      seen += chunk.length;
      show();
      done(null, chunk);
    },
    flush(done) {
      show();
      if (tty) process.stderr.write('\n');
      done();
    },
  });
}

async function install(env, root, log) {
  const asset = assetName();
  if (!asset) {
    throw new SpinUnavailableError(`Spin ${TAG} cannot be installed automatically on ${process.platform}/${process.arch} (only on Linux and macOS, x64 or arm64); ${WAYS_OUT}`);
  }
  const base = (env.SPIN_RELEASES_URL || DEFAULT_RELEASES_URL).replace(/\/+$/, '');
  const assetUrl = `${base}/${TAG}/${asset}`;
  const sumsUrl = `${base}/${TAG}/checksums-${TAG}.txt`;
  const finalDir = path.join(root, TAG);

  mkdirSync(root, { recursive: true });
  sweepStaleInstalls(root);
  // Everything is put together inside this directory and only its finished `spin-dir` is renamed
  // into place, so a failed or interrupted install leaves neither a partial `spin` nor temp files.
  const work = mkdtempSync(path.join(root, `.install-${process.pid}-`));
  const cleanUp = () => rmSync(work, { recursive: true, force: true });
  const discard = () => {
    cleanUp();
    for (const dir of [root, path.dirname(root)]) { // created for this install: leave no empty shells
      try { rmdirSync(dir); } catch { break; }
    }
  };
  const onSignal = (signal) => {
    discard();
    process.removeListener('SIGINT', onSignal).removeListener('SIGTERM', onSignal);
    process.kill(process.pid, signal);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    log(`Installing Spin ${TAG} (${asset}) from ${base} into ${finalDir}`);
    const sums = await (await get(sumsUrl, 'the checksums file')).text();
    const expected = sums.split('\n').map((line) => /^([0-9a-f]{64}) [ *]?(\S+)\s*$/i.exec(line))
      .find((match) => match?.[2] === asset)?.[1].toLowerCase();
    if (!expected) throw new Error(`the checksums file ${sumsUrl} has no SHA-256 line for ${asset}`);

    const response = await get(assetUrl, 'the Spin release');
    const archive = path.join(work, asset);
    const hash = createHash('sha256');
    const total = Number(response.headers.get('content-length')) || undefined;
    try {
      await pipeline(Readable.fromWeb(response.body), meter(hash, total, `Downloading ${asset}`), createWriteStream(archive));
    } catch (error) {
      if (process.stderr.isTTY) process.stderr.write('\n');
      throw new Error(`download of ${assetUrl} broke off (${oneLine(error.cause?.message ?? error.message)})`);
    }
    const actual = hash.digest('hex');
    if (actual !== expected) {
      throw new Error(`SHA-256 checksum mismatch for ${assetUrl}: ${actual}, but ${sumsUrl} says ${expected}`);
    }

    const unpacked = path.join(work, 'spin-dir');
    mkdirSync(unpacked);
    try {
      await run('tar', ['-xzf', archive, '-C', unpacked], { env });
    } catch (error) {
      throw new Error(`could not unpack ${assetUrl} with tar (${oneLine(error.stderr || error.message)})`);
    }
    const spin = path.join(unpacked, 'spin');
    const version = isExecutableFile(spin) ? await versionOf(spin, env) : undefined;
    if (version?.join('.') !== SPIN_VERSION) {
      throw new Error(`the spin unpacked from ${assetUrl} ${version ? `says it is ${version.join('.')}` : 'does not run'}, not ${SPIN_VERSION}`);
    }
    try {
      renameSync(unpacked, finalDir);
    } catch (error) {
      // Another `npm start` finished the same install first: use its copy.
      if (!isExecutableFile(path.join(finalDir, 'spin'))) throw new Error(`could not move Spin into ${finalDir} (${error.code ?? error.message})`);
    }
    return path.join(finalDir, 'spin');
  } catch (error) {
    discard();
    if (error instanceof SpinUnavailableError) throw error;
    throw new SpinUnavailableError(`could not install Spin ${TAG}: ${oneLine(error.message)}; ${WAYS_OUT}`);
  } finally {
    process.removeListener('SIGINT', onSignal).removeListener('SIGTERM', onSignal);
    cleanUp();
  }
}

/**
 * The absolute path of the Spin CLI to use (see the top of this file for the order).
 * Throws SpinUnavailableError, whose message is one line, when there is none and none can be installed.
 */
export async function findSpin({ env = process.env, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  if (env.SPIN_BIN) {
    const spin = path.resolve(env.SPIN_BIN);
    if (!isExecutableFile(spin)) {
      throw new SpinUnavailableError(`SPIN_BIN=${env.SPIN_BIN} is not an executable file; point SPIN_BIN at a Spin CLI (https://spinframework.dev/install) or unset it`);
    }
    return spin;
  }

  const onPath = (env.PATH ?? '').split(path.delimiter).filter(Boolean)
    .map((dir) => path.resolve(dir, 'spin')).find(isExecutableFile);
  if (onPath) {
    const version = await versionOf(onPath, env);
    const [major, minor] = version ?? [];
    if (version && (major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]))) return onPath;
    log(version
      ? `Not using ${onPath}: it is Spin ${version.join('.')}, and Spin older than ${MIN_VERSION.join('.')} breaks on Azure Redis idle disconnects`
      : `Not using ${onPath}: \`spin --version\` did not report a Spin version`);
  }

  const root = cacheRoot(env);
  const cached = path.join(root, TAG, 'spin');
  if (isExecutableFile(cached)) return cached;
  return install(env, root, log);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${await findSpin()}\n`);
  } catch (error) {
    if (!(error instanceof SpinUnavailableError)) throw error;
    process.stderr.write(`Error: ${error.message}\n`);
    process.exitCode = 1;
  }
}
