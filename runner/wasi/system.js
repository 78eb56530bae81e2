// wasi:cli, wasi:clocks, wasi:random and wasi:filesystem@0.2.0 as a Spin component sees them:
// stdio goes to the runner's own stdout/stderr, there is no terminal, and no directory is
// preopened (the guest gets no filesystem).
import { randomFillSync } from 'node:crypto';
import { writeSync } from 'node:fs';
import { InputStream, OutputStream, Pollable, monotonicNow } from './io.js';

const toFd = (fd) => new OutputStream((chunk) => writeSync(fd, chunk));

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

export const systemImports = {
  'wasi:cli/stdin': { getStdin: () => new InputStream() },
  'wasi:cli/stdout': { getStdout: () => toFd(1) },
  'wasi:cli/stderr': { getStderr: () => toFd(2) },
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
};
