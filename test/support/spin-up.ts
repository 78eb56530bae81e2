/**
 * `spin up` of the built app against a Redis runtime config, from the binary named by SPIN_BIN,
 * on a free loopback port, in a throwaway app directory. Every line Spin prints is kept with the
 * time it arrived, so a test can tell when the guest logged what.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type AppDir, makeAppDir } from './app-dir';

export const SPIN_BIN: string | undefined = process.env.SPIN_BIN?.trim() || undefined;

export interface TimedLine {
  at: number;
  line: string;
}

export interface SpinApp {
  baseUrl: string;
  /** Spin's and the guest's output lines, stdout and stderr, in arrival order (`at`: performance.now()) */
  lines(): TimedLine[];
  output(): string;
  /** what the guest wrote to stderr (`spin up` keeps it in `.spin/logs/`, not on the terminal) */
  guestStderr(): string;
  stop(): Promise<void>;
}

export async function spinUpWithRedis(redisUrl: string, timeoutMs = 90_000): Promise<SpinApp> {
  if (!SPIN_BIN) throw new Error('SPIN_BIN is not set');
  const app: AppDir = makeAppDir();
  const config = path.join(app.dir, 'redis.toml');
  writeFileSync(config, `[key_value_store.default]\ntype = "redis"\nurl = "${redisUrl}"\n`, { mode: 0o600 });
  const child = spawn(
    SPIN_BIN,
    ['up', '--listen', '127.0.0.1:0', '-f', app.manifest, '--runtime-config-file', config],
    { cwd: app.dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: TimedLine[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const at = performance.now();
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      for (const line of parts) lines.push({ at, line });
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);
  const output = () => lines.map((l) => l.line).join('\n');

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`spin did not start within ${timeoutMs} ms`)), timeoutMs);
    const poll = setInterval(() => {
      const match = /^Serving (http:\/\/\S+)$/m.exec(output());
      if (match) {
        clearTimeout(timer);
        clearInterval(poll);
        child.off('exit', onExit);
        resolve(match[1]!);
      }
    }, 20);
    const fail = (error: Error) => {
      clearTimeout(timer);
      clearInterval(poll);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${output()}`));
    };
    const onExit = (code: number | null) => fail(new Error(`spin exited with code ${code} before serving`));
    child.once('exit', onExit);
  });

  return {
    baseUrl,
    lines: () => [...lines],
    output,
    guestStderr: () => readGuestLog(app.dir, 'stderr'),
    stop: async () => {
      await stopProcess(child);
      app.remove();
    },
  };
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    // Spin waits for in-flight requests on SIGTERM, and a request stuck on Redis may never end.
    child.kill('SIGKILL');
  });
}

function readGuestLog(appDir: string, stream: 'stdout' | 'stderr'): string {
  const logs = path.join(appDir, '.spin', 'logs');
  if (!existsSync(logs)) return '';
  return readdirSync(logs)
    .filter((name) => name.endsWith(`_${stream}.txt`))
    .map((name) => readFileSync(path.join(logs, name), 'utf8'))
    .join('');
}
