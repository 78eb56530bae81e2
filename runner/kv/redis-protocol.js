// The shared-memory layout the calling thread and the Redis worker agree on (redis.js and
// redis-worker.js): one place, so the two sides cannot drift apart.

/** Indexes into the shared Int32Array. */
export const CTL = Object.freeze({
  /** bumped (and notified) by the worker after every message it posts */
  SEQ: 0,
  /** highest request id the calling thread gave up waiting for */
  ABANDONED: 1,
  /** connection state, one of STATE.* */
  STATE: 2,
});

/** Connection states published by the worker in `CTL.STATE`. */
export const STATE = Object.freeze({ BOOTING: 0, CONNECTING: 1, READY: 2, DOWN: 3 });
