// Every process the bench starts is registered here and killed on exit, on error and on
// SIGINT/SIGTERM. Children run in their own process group (detached), so killing the group also
// ends whatever they spawned themselves (npm → sh → webpack, …), and a Ctrl-C in the terminal
// reaches the bench only: the bench decides the order (SIGCONT a stopped Redis, then kill).
import { spawn } from 'node:child_process';

/** @type {Map<number, { name: string, child: import('node:child_process').ChildProcess }>} */
const live = new Map();
let hooksInstalled = false;
let interrupted = false;

// Only ever the group of a child this module spawned (detached, so its pid is the group id).
function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Synchronous last-resort cleanup: SIGCONT (for a SIGSTOPped Redis) then SIGKILL every group. */
export function killAllNow() {
  for (const [pid] of live) {
    signalGroup(pid, 'SIGCONT');
    signalGroup(pid, 'SIGKILL');
  }
  live.clear();
}

function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  const onSignal = (signal) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the runner(s) and redis-server…\n`);
    killAllNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

/**
 * Spawns a registered child in its own process group.
 * @param {string} name for messages
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} [options]
 */
export function spawnTracked(name, command, args, options = {}) {
  installHooks();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, detached: true });
  if (child.pid === undefined) {
    // spawn failed (ENOENT, …): the 'error' event says why
    return child;
  }
  const pid = child.pid;
  live.set(pid, { name, child });
  child.once('exit', () => {
    live.delete(pid);
    // anything the child left in its group goes too
    signalGroup(pid, 'SIGKILL');
  });
  return child;
}

/** Resolves when the child has exited (at once if it already has). */
export function waitExit(child, ms) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(child, graceMs = 3000) {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child.pid, 'SIGCONT');
  child.kill('SIGTERM');
  if (!(await waitExit(child, graceMs))) {
    signalGroup(child.pid, 'SIGKILL');
    await waitExit(child, graceMs);
  }
  live.delete(child.pid);
}

/** Stops every registered child (graceful first). */
export async function stopAll() {
  await Promise.all([...live.values()].map(({ child }) => stopChild(child)));
}

/** Names and pids still registered (for a final check). */
export function liveChildren() {
  return [...live.entries()].map(([pid, { name }]) => ({ pid, name }));
}

/**
 * Runs a command to completion; resolves with its exit code, output and wall time.
 * @param {string} name
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions & { timeoutMs?: number }} [options]
 */
export function runTracked(name, command, args, { timeoutMs = 180_000, ...options } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawnTracked(name, command, args, options);
    let out = '';
    child.stdout?.on('data', (c) => (out += c));
    child.stderr?.on('data', (c) => (out += c));
    const timer = setTimeout(() => {
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output: out, ms: performance.now() - started });
    });
  });
}
