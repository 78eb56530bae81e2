// Spin for the bench: which binary, a throw-away app dir per arm, `spin up` on a free loopback
// port, and the peak RSS of its process group (`spin up` serves through a `spin trigger http` child).
import fs from 'node:fs';
import path from 'node:path';
import { SpinUnavailableError, findSpin } from '../../deploy/spin-binary.js';
import { spawnTracked, stopChild } from './procs.js';

/** The Spin CLI as `npm start` finds it (deploy/spin-binary.js), or `{ error }` with its one-line reason. */
export async function resolveSpin(log) {
  return findSpin({ env: process.env, log }).catch((error) => (error instanceof SpinUnavailableError ? { error: error.message } : Promise.reject(error)));
}

/**
 * A dir with a spin.toml serving `wasm` on every path, the .wasm symlinked beside it, so `.spin/` (the
 * SQLite store, logs) is this arm's own. The app keeps its real spin.toml (variables and all).
 * @param {{ runDir: string, name: string, wasm: string, root: string, kind: 'app' | 'fixture',
 *   store: boolean, redisUrl?: string | null }} o
 */
export function makeAppDir({ runDir, name, wasm, root, kind, store, redisUrl }) {
  const dir = path.join(runDir, name);
  fs.mkdirSync(dir, { recursive: true });
  let source = 'component.wasm';
  if (kind === 'app') {
    fs.copyFileSync(path.join(root, 'spin.toml'), path.join(dir, 'spin.toml'));
    source = 'dist/cache-with-az-redis.wasm';
    fs.mkdirSync(path.join(dir, 'dist'));
  } else {
    fs.writeFileSync(path.join(dir, 'spin.toml'), [
      '# written by the bench', 'spin_manifest_version = 2', '[application]', `name = "bench-${name}"`,
      '[[trigger.http]]', 'route = "/..."', 'component = "c"', '[component.c]', `source = "${source}"`,
      ...(store ? ['key_value_stores = ["default"]'] : []), '',
    ].join('\n'));
  }
  fs.symlinkSync(wasm, path.join(dir, source));
  const args = ['-f', path.join(dir, 'spin.toml')];
  if (redisUrl) {
    const file = path.join(dir, 'runtime-config.toml');
    fs.writeFileSync(file, `[key_value_store.default]\ntype = "redis"\nurl = "${redisUrl}"\n`);
    args.push('--runtime-config-file', file);
  }
  return { dir, args };
}

/** `spin up` on 127.0.0.1:<free port>; resolves once it prints "Serving http://…". */
export async function startSpin({ bin, home, name, dir, args, timeoutMs = 180_000 }) {
  const env = { ...process.env, HOME: home };
  for (const k of ['XDG_CACHE_HOME', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'SPIN_VARIABLE_CACHE_ADMIN_TOKEN']) delete env[k];
  const started = performance.now();
  const child = spawnTracked(`spin (${name})`, bin, ['up', '--listen', '127.0.0.1:0', ...args], { cwd: dir, env });
  let out = '';
  const keep = (c) => (out = (out + c).slice(-20000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const baseUrl = await new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`spin (${name}) ${why}:\n${out.slice(-3000)}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs / 1000} s`), timeoutMs);
    const onExit = (code, signal) => fail(`exited (${signal ?? code}) before serving`);
    child.once('error', (e) => fail(e.message));
    child.once('exit', onExit);
    child.stdout.on('data', () => {
      const m = /^Serving (http:\/\/\S+)$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(m[1]);
    });
  });
  return { name, baseUrl, pid: child.pid, startMs: performance.now() - started, peakRssMiB: () => peakRss(child.pid), stop: () => stopChild(child) };
}

/** Sum of VmHWM (each process's own peak RSS) over a process and its descendants, in MiB. */
function peakRss(pid) {
  const read = (file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const tasks = (p) => {
    try {
      return fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return [];
    }
  };
  // any thread may have spawned a child, so every task's list of children is read
  const children = (p) => tasks(p).flatMap((t) => read(`/proc/${p}/task/${t}/children`).trim().split(/\s+/).filter(Boolean).map(Number));
  const walk = (p) => Number(/^VmHWM:\s+(\d+) kB/m.exec(read(`/proc/${p}/status`))?.[1] ?? 0) + children(p).reduce((sum, c) => sum + walk(c), 0);
  return walk(pid) / 1024;
}
