/**
 * The two hosts the end-to-end tests run the built component on:
 *
 * - `spin`: the real `spin up`, from the binary named by the SPIN_BIN environment variable. This is
 *   the reference: every end-to-end assertion describes what Spin does.
 * - `runner`: `node runner/cli.js`, the fallback for machines without Spin.
 *
 * Without SPIN_BIN the suite runs on the runner alone (test/support/announce-hosts.ts says so once).
 *
 *     describe.each(HOSTS)('on %s', (host) => {
 *       const app = await startApp(host, { args: ['-f', dir.manifest] });
 *       …
 *     });
 *
 * A test that only one host passes names the difference through `differs` (./differences), and
 * those names are exactly the rows of the README's table of differences.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type HostName = 'spin' | 'runner';

export const APP_DIR = fileURLToPath(new URL('../..', import.meta.url));
const RUNNER_CLI = fileURLToPath(new URL('../../runner/cli.js', import.meta.url));

/** The Spin binary to test on, or undefined when the suite runs on the runner only. */
export const SPIN_BIN: string | undefined = process.env.SPIN_BIN?.trim() || undefined;

/** Spin first: it is the reference. */
export const HOSTS: readonly HostName[] = SPIN_BIN ? ['spin', 'runner'] : ['runner'];

export interface RunningApp {
  readonly host: HostName;
  baseUrl: string;
  /** Everything the host printed to stderr so far (warnings, and the guest's own logs). */
  stderr(): string;
  stdout(): string;
  /** SIGTERM, then SIGKILL after 5 s, to the host and every process it started. */
  stop(): Promise<void>;
  /** SIGKILL at once, to the host and every process it started (Spin waits for stuck requests on SIGTERM). */
  kill(): Promise<void>;
  process: ChildProcess;
}

export interface StartOptions {
  /** Arguments both hosts understand, as for `spin up`: `-f`, `--runtime-config-file`, `--variable`. */
  args?: string[];
  /** Arguments only the runner understands (e.g. `--kv-timeout`); ignored on Spin. */
  runnerArgs?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** the runner script to run (default: the CLI; `runner/start.js` is what `npm start` runs) */
  runnerScript?: string;
  /** add `--listen 127.0.0.1:0` (default true) */
  listen?: boolean;
}

/** The command line that serves the app on `host`, listening on a free loopback port. */
export function hostCommand(host: HostName, { args = [], runnerArgs = [], runnerScript = RUNNER_CLI, listen: free = true }: StartOptions = {}) {
  const listen = free ? ['--listen', '127.0.0.1:0'] : [];
  if (host === 'spin') {
    if (!SPIN_BIN) throw new Error('SPIN_BIN is not set');
    return { command: SPIN_BIN, argv: ['up', ...listen, ...args] };
  }
  return { command: process.execPath, argv: [runnerScript, ...listen, ...args, ...runnerArgs] };
}

/** Starts the app and resolves once it prints `Serving http://…` (both hosts print the same line). */
export async function startApp(host: HostName, options: StartOptions = {}): Promise<RunningApp> {
  const { env = {}, cwd = APP_DIR } = options;
  // Spin compiles the component on its first start (~10 s on 2 cores) unless its cache has it.
  const timeoutMs = options.timeoutMs ?? (host === 'spin' ? 90_000 : 30_000);
  const { command, argv } = hostCommand(host, options);
  // Its own process group: `spin up` serves from a child process (`spin trigger http`) that would
  // outlive a signal sent to `spin up` alone.
  const child = spawn(command, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${host} did not start within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      signalGroup(child, 'SIGKILL');
      reject(new Error(`${error.message}\nstdout:\n${out}\nstderr:\n${err}`));
    };
    const onExit = (code: number | null) => fail(new Error(`${host} exited with code ${code} before serving`));
    child.once('exit', onExit);
    child.once('error', fail);
    child.stdout.on('data', () => {
      const match = /^Serving (http:\/\/\S+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(match[1]!);
      }
    });
  });

  return {
    host,
    baseUrl,
    stderr: () => err,
    stdout: () => out,
    process: child,
    stop: () => stopGroup(child, 'SIGTERM'),
    kill: () => stopGroup(child, 'SIGKILL'),
  };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is gone already
  }
}

function stopGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (!exited) child.once('exit', () => resolve());
    signalGroup(child, signal);
    // Spin waits for in-flight requests on SIGTERM; a request stuck on a dead Redis would hold it.
    if (signal !== 'SIGKILL') setTimeout(() => signalGroup(child, 'SIGKILL'), 5_000).unref();
    if (exited) {
      signalGroup(child, 'SIGKILL'); // children it left behind
      resolve();
    }
  });
}

/** Runs a host to completion (for start-up errors) and returns its exit code and output. */
export function runToExit(host: HostName, options: StartOptions = {}) {
  const { env = {}, cwd = APP_DIR, timeoutMs = 60_000 } = options;
  const { command, argv } = hostCommand(host, options);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${host} still running after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
