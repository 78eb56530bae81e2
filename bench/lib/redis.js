// A throw-away redis-server for the bench: loopback only, a free port, no persistence
// (--save '' --appendonly no), its files in a temp dir under bench/work/. Started and stopped by
// the bench; registered with procs.js so it never outlives the bench.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createClient } from 'redis';
import { spawnTracked, stopChild } from './procs.js';

/** `redis-server --version` output, or null when it is not installed. */
export function redisServerVersion() {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return /v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim();
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** @param {{ workDir: string }} options */
export async function startRedis({ workDir }) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(workDir, 'redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--logfile', '',
    '--daemonize', 'no',
  ];
  const child = spawnTracked('redis-server', 'redis-server', args);
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server not ready within 10 s:\n${out}`)), 10_000);
    const onData = (chunk) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited during startup (${signal ?? code}):\n${out}`));
    });
  });

  const admin = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false, connectTimeout: 2000 } });
  admin.on('error', () => {});
  await admin.connect();

  let paused = false;
  return {
    port,
    pid: child.pid,
    url: `redis://127.0.0.1:${port}/0`,
    admin,
    /** calls per command from INFO commandstats, e.g. { get: 3, set: 1 } */
    async commandCalls() {
      const text = await admin.info('commandstats');
      const calls = {};
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]] = Number(m[2]);
      return calls;
    },
    pause() {
      child.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      child.kill('SIGCONT');
      paused = false;
    },
    get paused() {
      return paused;
    },
    async stop() {
      if (paused) this.resume();
      try {
        await admin.destroy();
      } catch {
        // already closed
      }
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Difference of two commandstats snapshots, without the bench's own INFO calls.
 * @param {Record<string, number>} before @param {Record<string, number>} after
 */
export function callDelta(before, after) {
  const delta = {};
  for (const [cmd, n] of Object.entries(after)) {
    if (cmd === 'info') continue;
    const d = n - (before[cmd] ?? 0);
    if (d !== 0) delta[cmd] = d;
  }
  return delta;
}
