// Starts the real runner (`node runner/cli.js`) on a free loopback port and stops it after the
// test, so end-to-end tests exercise the built component exactly as `npm start` serves it.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const APP_DIR = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('../../runner/cli.js', import.meta.url));
/** What `npm start` runs: build when stale, then the CLI. */
export const START = fileURLToPath(new URL('../../runner/start.js', import.meta.url));

export interface RunningApp {
  baseUrl: string;
  /** Everything the runner printed to stderr so far (warnings, guest logs). */
  stderr(): string;
  stdout(): string;
  stop(): Promise<void>;
  process: ChildProcess;
}

export interface RunnerOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** the script to run (default: the CLI) */
  script?: string;
}

export async function startRunner({ args = [], env = {}, cwd = APP_DIR, timeoutMs = 30_000, script = CLI }: RunnerOptions = {}): Promise<RunningApp> {
  const child = spawn(process.execPath, [script, '--listen', '127.0.0.1:0', ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`runner did not start within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\nstdout:\n${out}\nstderr:\n${err}`));
    };
    const onExit = (code: number | null) => fail(new Error(`runner exited with code ${code} before serving`));
    child.once('exit', onExit);
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
    baseUrl,
    stderr: () => err,
    stdout: () => out,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

/** Runs the runner to completion (for start-up errors) and returns its exit code and output. */
export function runRunnerToExit(args: string[], { cwd = APP_DIR, env = {}, script = CLI }: RunnerOptions = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
