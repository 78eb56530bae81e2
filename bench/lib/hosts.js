// The hosts the bench can measure: real Spin (`spin up`, when SPIN_BIN names a spin binary) and the
// runner (`node runner/cli.js`). Both are started the way a user starts them, on a free loopback
// port, in a throw-away app dir, and give the same handle: base URL, pid, memory, stderr, stop.
import fs from 'node:fs';
import path from 'node:path';
import { spawnTracked, stopChild } from './procs.js';

export const HOST_LABELS = { spin: 'Spin', runner: 'runner' };

/**
 * The spin binary named by SPIN_BIN, or null when it is unset. A set but unusable value is an
 * error rather than a silent fallback to the runner.
 * @param {NodeJS.ProcessEnv} env
 */
export function spinBinFrom(env) {
  const bin = env.SPIN_BIN?.trim();
  if (!bin) return null;
  try {
    fs.accessSync(bin, fs.constants.X_OK);
    if (!fs.statSync(bin).isFile()) throw new Error('not a file');
  } catch {
    throw new Error(`SPIN_BIN=${bin}: not an executable file`);
  }
  return path.resolve(bin);
}

/**
 * @param {{ host: 'spin' | 'runner', root: string, spinBin?: string | null, name: string, cwd: string,
 *   args: string[], timeoutMs?: number }} options
 */
export async function startHost({ host, root, spinBin, name, cwd, args, timeoutMs = 120_000 }) {
  const label = `${HOST_LABELS[host]} (${name})`;
  const [command, argv] = host === 'spin'
    ? [spinBin, ['up', '--listen', '127.0.0.1:0', ...args]]
    : [process.execPath, [path.join(root, 'runner', 'cli.js'), '--listen', '127.0.0.1:0', ...args]];
  if (!command) throw new Error('startHost: SPIN_BIN is not set');
  const started = performance.now();
  const child = spawnTracked(label, command, argv, { cwd });
  let out = '';
  let err = '';
  const keep = (s, chunk) => (s + chunk).slice(-65536);
  child.stdout.on('data', (c) => (out = keep(out, c)));
  child.stderr.on('data', (c) => (err = keep(err, c)));
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${label} ${why}\nstdout:\n${out}\nstderr:\n${err}`));
    };
    const onExit = (code, signal) => fail(`exited (${signal ?? code}) before serving`);
    child.once('error', (e) => fail(e.message));
    child.once('exit', onExit);
    child.stdout.on('data', () => {
      const m = /^Serving (http:\/\/\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(m[1]);
      }
    });
  });
  return {
    host,
    name,
    baseUrl,
    pid: child.pid,
    child,
    startupMs: performance.now() - started,
    stderr: () => err,
    /** text printed to stderr since `mark` (a previous stderr().length) */
    stderrSince: (mark) => err.slice(mark),
    /** the whole process tree: `spin up` serves through a `spin trigger http` child */
    memory: () => treeMemory(child.pid),
    stop: () => stopChild(child),
  };
}

/** VmRSS and VmHWM (peak RSS) of one process, in MiB, from /proc/<pid>/status. */
export function procMemory(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMiB: NaN, hwmMiB: NaN };
  }
}

function childPids(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Memory of a process and all its descendants: current RSS summed, and the sum of each process's
 * own peak (an upper bound of the tree's simultaneous peak; for the runner it is one process).
 */
export function treeMemory(pid) {
  const pids = [];
  const walk = (p) => {
    pids.push(p);
    for (const c of childPids(p)) walk(c);
  };
  walk(pid);
  const each = pids.map((p) => ({ pid: p, ...procMemory(p) }));
  return {
    rssMiB: each.reduce((s, m) => s + m.rssMiB, 0),
    hwmMiB: each.reduce((s, m) => s + m.hwmMiB, 0),
    processes: each.length,
  };
}
