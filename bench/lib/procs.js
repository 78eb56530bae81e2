// Every process the bench starts is registered here and killed on exit, on error and on
// SIGINT/SIGTERM/SIGHUP. Children run in their own process group (detached), so killing the group
// also ends what they spawned (spin up → spin trigger http, npm → webpack, …). Only ever the group
// of a child spawned here is signalled.
import { spawn } from 'node:child_process';

const live = new Map(); // pid → child
let hooked = false;

const signalGroup = (pid, signal) => {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
};

/** Last-resort cleanup: SIGCONT (a paused redis-server) then SIGKILL every group. */
export function killAllNow() {
  for (const pid of live.keys()) {
    signalGroup(pid, 'SIGCONT');
    signalGroup(pid, 'SIGKILL');
  }
  live.clear();
}

export function spawnTracked(name, command, args, options = {}) {
  if (!hooked) {
    hooked = true;
    process.on('exit', killAllNow);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(signal, () => {
        process.stderr.write(`\n${signal}: stopping Spin and redis-server…\n`);
        killAllNow();
        process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
      });
    }
  }
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, detached: true });
  const { pid } = child;
  if (pid === undefined) return child; // spawn failed: its 'error' event says why
  live.set(pid, child);
  child.once('exit', () => {
    live.delete(pid);
    signalGroup(pid, 'SIGKILL'); // whatever it left in its group
  });
  return child;
}

const exited = (child, ms) => new Promise((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
  const timer = setTimeout(() => resolve(false), ms);
  child.once('exit', () => {
    clearTimeout(timer);
    resolve(true);
  });
});

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(child, graceMs = 3000) {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child.pid, 'SIGCONT');
  child.kill('SIGTERM');
  if (!(await exited(child, graceMs))) {
    signalGroup(child.pid, 'SIGKILL');
    await exited(child, graceMs);
  }
}

export const stopAll = () => Promise.all([...live.values()].map((child) => stopChild(child)));

/** Runs a command to completion (killed after `timeoutMs`): { code, signal, output, ms }. */
export function runTracked(name, command, args, { timeoutMs = 600_000, ...options } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawnTracked(name, command, args, options);
    let output = '';
    child.stdout?.on('data', (c) => (output += c));
    child.stderr?.on('data', (c) => (output += c));
    const timer = setTimeout(() => child.pid && signalGroup(child.pid, 'SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, ms: performance.now() - started });
    });
  });
}
