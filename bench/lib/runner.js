// Starts the runner the way a user does (`node runner/cli.js …`) on a free loopback port, in a
// throw-away app dir, and reads its memory from /proc.
import fs from 'node:fs';
import path from 'node:path';
import { spawnTracked, stopChild } from './procs.js';

/**
 * An app dir like test/support/app-dir.ts makes: a copy of spin.toml and a symlink to the real
 * dist/, so the runner's default SQLite store lands in <dir>/.spin/ and the user's is untouched.
 * @param {{ root: string, workDir: string, name: string, redisUrl?: string }} options
 */
export function makeAppDir({ root, workDir, name, redisUrl }) {
  const dir = path.join(workDir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(root, 'spin.toml'), path.join(dir, 'spin.toml'));
  fs.symlinkSync(path.join(root, 'dist'), path.join(dir, 'dist'));
  const args = ['-f', path.join(dir, 'spin.toml')];
  if (redisUrl) {
    const file = path.join(dir, 'runtime-config.toml');
    fs.writeFileSync(file, `# written by the bench\n[key_value_store.default]\ntype = "redis"\nurl = "${redisUrl}"\n`);
    args.push('--runtime-config-file', file);
  }
  return { dir, args };
}

/**
 * A manifest serving one component with no stores (the baseline).
 * @param {{ workDir: string, name: string, wasm: string }} options
 */
export function makeBaselineAppDir({ workDir, name, wasm }) {
  const dir = path.join(workDir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'spin.toml'),
    [
      '# written by the bench: the baseline component, no key-value store',
      'spin_manifest_version = 2',
      '[application]',
      'name = "bench-baseline"',
      '[[trigger.http]]',
      'route = "/..."',
      'component = "baseline"',
      '[component.baseline]',
      `source = ${JSON.stringify(wasm)}`,
      '',
    ].join('\n'),
  );
  return { dir, args: ['-f', path.join(dir, 'spin.toml')] };
}

/**
 * @param {{ root: string, name: string, cwd: string, args: string[], timeoutMs?: number }} options
 */
export async function startRunner({ root, name, cwd, args, timeoutMs = 60_000 }) {
  const cli = path.join(root, 'runner', 'cli.js');
  const started = performance.now();
  const child = spawnTracked(`runner (${name})`, process.execPath, [cli, '--listen', '127.0.0.1:0', ...args], { cwd });
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
      reject(new Error(`runner ${name} ${why}\nstdout:\n${out}\nstderr:\n${err}`));
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
    name,
    baseUrl,
    pid: child.pid,
    child,
    startupMs: performance.now() - started,
    stderr: () => err,
    /** lines printed to stderr since `mark` (a previous stderr().length) */
    stderrSince: (mark) => err.slice(mark),
    memory: () => procMemory(child.pid),
    stop: () => stopChild(child),
  };
}

/** VmRSS and VmHWM (peak RSS) of a process, in MiB, from /proc/<pid>/status. */
export function procMemory(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMiB: NaN, hwmMiB: NaN };
  }
}
