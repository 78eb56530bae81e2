// Facts about the machine a result was measured on.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

function osName() {
  try {
    return /^PRETTY_NAME="?([^"\n]+)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

function gitDescribe(root) {
  const head = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['-C', root, 'status', '--porcelain'], { encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout.trim() ? ' (with uncommitted changes)' : ''}`;
}

/** `spin --version` of the binary the bench measures, e.g. "spin 4.0.2 (bfc7543b 2026-06-23)". */
export function spinVersion(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : `unknown (${bin} --version failed)`;
}

export function machineFacts(root, redisVersion) {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    os: `${osName()} (${os.type()} ${os.release()}, ${os.arch()})`,
    redis: redisVersion ?? 'not installed',
    commit: gitDescribe(root),
    date: new Date().toISOString(),
    loadAvgStart: os.loadavg(),
  };
}

/** CPU time (in seconds) of the whole machine and of this process plus its reaped children. */
export function cpuSnapshot() {
  const hz = 100; // USER_HZ on Linux
  let busy = NaN;
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice: busy = all but idle and iowait (guest is inside user)
    busy = (cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7]) / hz;
  } catch {
    // not Linux
  }
  let own = NaN;
  try {
    // fields after the command name: utime stime cutime cstime are 14..17 (1-based)
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    own = (f[11] + f[12] + f[13] + f[14]) / hz;
  } catch {
    // not Linux
  }
  return { at: performance.now(), busy, own };
}

/**
 * CPU used by processes other than the bench and the children it waited for, between two
 * snapshots: a measure of how quiet the machine was.
 */
export function cpuUsedByOthers(start, end) {
  const wallS = (end.at - start.at) / 1000;
  const otherS = Math.max(0, end.busy - start.busy - (end.own - start.own));
  return { wallS, otherCoreSeconds: otherS, shareOfMachine: otherS / (wallS * (os.availableParallelism?.() ?? os.cpus().length)) };
}
