// A throw-away redis-server: loopback only, a free port, no persistence, its dir in the run dir.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createClient } from 'redis';
import { spawnTracked, stopChild } from './procs.js';

/** `redis-server --version`'s v=…, or null when it is not installed. */
export function redisServerVersion() {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? null : /v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim();
}

const freePort = () => new Promise((resolve, reject) => {
  const srv = net.createServer().on('error', reject);
  srv.listen(0, '127.0.0.1', () => {
    const { port } = srv.address();
    srv.close(() => resolve(port));
  });
});

export async function startRedis({ workDir }) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(workDir, 'redis-'));
  const child = spawnTracked('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  let out = '';
  await new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      reject(new Error(`redis-server ${why}:\n${out.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail('not ready within 10 s'), 10_000);
    child.once('error', (e) => fail(e.message));
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code})`));
    child.stdout.on('data', (c) => {
      out += c;
      if (!out.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  const admin = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false, connectTimeout: 2000 } });
  admin.on('error', () => {});
  await admin.connect();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    admin,
    /** calls per command from INFO commandstats, e.g. { get: 3, set: 1 } */
    async commandCalls() {
      const text = await admin.info('commandstats');
      return Object.fromEntries([...text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
    },
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      child.kill('SIGCONT');
      await admin.destroy();
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** after − before per command, without the bench's own INFO calls. */
export function callDelta(before, after) {
  return Object.fromEntries(Object.entries(after).filter(([cmd, n]) => cmd !== 'info' && n !== (before[cmd] ?? 0)).map(([cmd, n]) => [cmd, n - (before[cmd] ?? 0)]));
}
