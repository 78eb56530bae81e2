// Runs an ES module snippet in a fresh Node process from the project root, so that code which
// blocks its thread (a backend waiting in Atomics.wait) cannot block the test.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function runNode(code: string, { env = {}, timeoutMs = 10_000 }: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, ...env },
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}
