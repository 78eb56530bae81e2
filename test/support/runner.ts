// The runner alone, for tests of its own CLI (`node runner/cli.js`, and `npm start`'s runner/start.js).
// Tests of the app's behaviour use ./host instead, so that they also run on real Spin.
import { fileURLToPath } from 'node:url';
import { APP_DIR, type RunningApp, runToExit, startApp } from './host';

export { APP_DIR, type RunningApp };

/** What `npm start` runs: build when stale, then the CLI. */
export const START = fileURLToPath(new URL('../../runner/start.js', import.meta.url));

export interface RunnerOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** the script to run (default: the CLI) */
  script?: string;
}

export function startRunner({ script, ...options }: RunnerOptions = {}): Promise<RunningApp> {
  return startApp('runner', { ...options, runnerScript: script });
}

/** Runs the runner to completion (for start-up errors) and returns its exit code and output. */
export function runRunnerToExit(args: string[], { script, ...options }: RunnerOptions = {}) {
  return runToExit('runner', { ...options, runnerScript: script, args, listen: false });
}
