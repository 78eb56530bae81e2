// wasi:cli, wasi:clocks, wasi:random and wasi:filesystem@0.2.0 as a Spin component sees them:
// stdio goes to the runner's own stdout/stderr (and, as `spin up` does, to log files), there is
// no terminal, and no directory is preopened (the guest gets no filesystem).
import { randomFillSync } from 'node:crypto';
import { writeSync } from 'node:fs';
import { InputStream, OutputStream, Pollable, monotonicNow } from './io.js';

/** @param {number[]} fds every chunk goes to each of these */
const toFds = (fds) => new OutputStream((chunk) => {
  for (const fd of fds) writeSync(fd, chunk);
});

class TerminalInput {}
class TerminalOutput {}

class Descriptor {
  writeViaStream() {
    throw 'access';
  }
  appendViaStream() {
    throw 'access';
  }
  getFlags() {
    throw 'access';
  }
  getType() {
    throw 'access';
  }
  stat() {
    throw 'access';
  }
}

function randomBytes(len) {
  const bytes = new Uint8Array(Number(len));
  randomFillSync(bytes);
  return bytes;
}

/**
 * @param {{ stdoutLog?: number, stderrLog?: number }} [logs] file descriptors that also receive
 *   the guest's stdout / stderr (`spin up` writes `.spin/logs/<component>_stdout.txt` / `_stderr.txt`)
 */
export const systemImports = ({ stdoutLog, stderrLog } = {}) => ({
  'wasi:cli/stdin': { getStdin: () => new InputStream() },
  'wasi:cli/stdout': { getStdout: () => toFds(stdoutLog === undefined ? [1] : [1, stdoutLog]) },
  'wasi:cli/stderr': { getStderr: () => toFds(stderrLog === undefined ? [2] : [2, stderrLog]) },
  'wasi:cli/terminal-input': { TerminalInput },
  'wasi:cli/terminal-output': { TerminalOutput },
  'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
  'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
  'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
  'wasi:clocks/monotonic-clock': {
    now: monotonicNow,
    resolution: () => 1n,
    subscribeInstant: (when) => new Pollable(when),
    subscribeDuration: (duration) => new Pollable(monotonicNow() + duration),
  },
  'wasi:clocks/wall-clock': {
    now() {
      const ms = Date.now();
      return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
    },
    resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
  },
  'wasi:random/random': {
    getRandomBytes: randomBytes,
    getRandomU64: () => new BigUint64Array(randomBytes(8).buffer)[0],
  },
  'wasi:filesystem/preopens': { getDirectories: () => [] },
  'wasi:filesystem/types': { Descriptor, filesystemErrorCode: () => undefined },
});
