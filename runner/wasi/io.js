// wasi:io@0.2.0 — pollables and in-memory streams. Request bodies are fully buffered before the
// guest runs and response bodies are collected in memory, so streams are always ready; only clock
// pollables ever make the guest wait.

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread; the guest runs synchronously, so there is no event loop to yield to. */
export function sleepNs(ns) {
  if (ns > 0n) Atomics.wait(sleeper, 0, 0, Number(ns / 1_000_000n) || 1);
}

export const monotonicNow = () => process.hrtime.bigint();

export class Pollable {
  /** @param {bigint | null} deadline monotonic instant in ns; null means always ready */
  constructor(deadline = null) {
    this.deadline = deadline;
  }
  ready() {
    return this.deadline === null || monotonicNow() >= this.deadline;
  }
  block() {
    if (this.deadline !== null) sleepNs(this.deadline - monotonicNow());
  }
}

/** @param {Pollable[]} pollables */
export function poll(pollables) {
  if (pollables.length === 0) throw new Error('wasi:io/poll: poll called with an empty list');
  for (;;) {
    const ready = [];
    pollables.forEach((p, i) => p.ready() && ready.push(i));
    if (ready.length > 0) return new Uint32Array(ready);
    const earliest = pollables.reduce((min, p) => (p.deadline < min ? p.deadline : min), pollables[0].deadline);
    sleepNs(earliest - monotonicNow());
  }
}

export class IoError {
  constructor(message) {
    this.message = message;
  }
  toDebugString() {
    return this.message;
  }
}

const closed = () => ({ tag: 'closed' });

export class InputStream {
  /** @param {Uint8Array} bytes */
  constructor(bytes = new Uint8Array(0)) {
    this.bytes = bytes;
    this.offset = 0;
  }
  read(len) {
    if (this.offset >= this.bytes.length) throw closed();
    const end = Math.min(this.bytes.length, this.offset + Number(len));
    const chunk = this.bytes.slice(this.offset, end);
    this.offset = end;
    return chunk;
  }
  blockingRead(len) {
    return this.read(len);
  }
  skip(len) {
    return BigInt(this.read(len).length);
  }
  blockingSkip(len) {
    return this.skip(len);
  }
  subscribe() {
    return new Pollable();
  }
}

const WRITE_BUDGET = 1n << 20n;

export class OutputStream {
  /** @param {(chunk: Uint8Array) => void} sink */
  constructor(sink) {
    this.sink = sink;
    this.isClosed = false;
  }
  checkWrite() {
    if (this.isClosed) throw closed();
    return WRITE_BUDGET;
  }
  write(contents) {
    if (this.isClosed) throw closed();
    // The guest may reuse its buffer after the call returns.
    this.sink(contents.slice());
  }
  blockingWriteAndFlush(contents) {
    this.write(contents);
  }
  flush() {
    if (this.isClosed) throw closed();
  }
  blockingFlush() {
    this.flush();
  }
  writeZeroes(len) {
    this.write(new Uint8Array(Number(len)));
  }
  blockingWriteZeroesAndFlush(len) {
    this.writeZeroes(len);
  }
  splice(src, len) {
    const chunk = src.read(len);
    this.write(chunk);
    return BigInt(chunk.length);
  }
  blockingSplice(src, len) {
    return this.splice(src, len);
  }
  subscribe() {
    return new Pollable();
  }
  close() {
    this.isClosed = true;
  }
}
