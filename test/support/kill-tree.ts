// `spin up` runs the app in a child process (`spin trigger http`), which outlives a SIGKILLed
// parent; and on SIGTERM Spin waits for in-flight requests, which a hung Redis holds for minutes.
// So a test that leaves requests stuck in Spin ends it with SIGKILL to the whole tree.
import { readFileSync } from 'node:fs';

function children(pid: number): number[] {
  try {
    const list = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return list ? list.split(/\s+/).map(Number) : [];
  } catch {
    return []; // no /proc (not Linux), or the process is gone
  }
}

/** SIGKILLs `pid` and its descendants, children first so none is re-parented and missed. */
export function killTree(pid: number): void {
  for (const child of children(pid)) killTree(child);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
