/**
 * Real `spin up`, the one host the end-to-end tests run on. The global setup (./spin-setup) finds
 * Spin once, the way `npm start` does (deploy/spin-binary.js), and hands it to every test file as
 * SPIN_BIN; without one (and without CI=true) the end-to-end files are skipped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasTool } from '../deploy/fakes';

export const APP_DIR = fileURLToPath(new URL('../..', import.meta.url));

const spinBin = (): string | undefined => process.env.SPIN_BIN?.trim() || undefined;

/**
 * Whether tests that need Spin and these programs (`redis-server`, `openssl`, …) must skip: when
 * one is missing, it warns and says yes, except under CI=true, where the tests run and fail.
 */
export function skipWithout(...programs: string[]): boolean {
  if (!spinBin()) return true;
  const missing = programs.filter((name) => !hasTool(name));
  if (missing.length === 0) return false;
  if (process.env.CI) return false;
  console.warn(`[test] skipping: ${missing.join(' and ')} not found on PATH`);
  return true;
}

export interface RunningApp {
  baseUrl: string;
  /** Everything `spin up` printed to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** SIGTERM, then SIGKILL after 5 s, to `spin up` and every process it started. */
  stop(): Promise<void>;
  /** SIGKILL at once (Spin waits for stuck requests on SIGTERM). */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** What serves the app, instead of `spin up` (e.g. `npm start`'s script). */
  command?: string[];
  /** Arguments after `spin up --listen 127.0.0.1:0`: `-f`, `--runtime-config-file`, `--variable`. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** The Spin the global setup found. */
export function spin(): string {
  const found = spinBin();
  if (!found) throw new Error('no Spin: the global setup found none');
  return found;
}

function launch([program, ...args]: string[], { env = {}, cwd = APP_DIR }: StartOptions, detached: boolean): ChildProcess {
  return spawn(program!, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached });
}

/** Starts `spin up` on a free loopback port and resolves once it prints `Serving http://…`. */
export async function startApp(options: StartOptions = {}): Promise<RunningApp> {
  // The global setup compiled the component into the shared cache, so a start takes < 1 s.
  const { timeoutMs = 60_000 } = options;
  // Its own process group: `spin up` serves from a child (`spin trigger http`) that would outlive
  // a signal sent to `spin up` alone.
  const command = options.command ?? [spin(), 'up'];
  const child = launch([...command, '--listen', '127.0.0.1:0', ...(options.args ?? [])], options, true);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (err += chunk));

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${command.join(' ')} did not start within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      signalGroup(child, 'SIGKILL');
      reject(new Error(`${error.message}\nstdout:\n${out}\nstderr:\n${err}`));
    };
    const onExit = (code: number | null) => fail(new Error(`${command.join(' ')} exited with code ${code} before serving`));
    child.once('exit', onExit);
    child.once('error', fail);
    child.stdout!.on('data', () => {
      const match = /^Serving (http:\/\/\S+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(match[1]!);
      }
    });
  });

  return {
    baseUrl,
    stderr: () => err,
    stdout: () => out,
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

/** Runs `command` to completion (for start-up errors) and returns its exit code and output. */
export function runToExit(command: string[], options: StartOptions = {}) {
  const { timeoutMs = 60_000 } = options;
  const child = launch(command, options, false);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command.join(' ')} still running after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
