import type { OpenStore, Store } from '../../src/cache';

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
export const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** In-memory store that records every call, so tests can pin how much store traffic a request makes. */
export class MemoryStore implements Store {
  readonly data = new Map<string, Uint8Array>();
  readonly calls = { get: 0, set: 0, delete: 0 };

  constructor(initial: Record<string, string> = {}) {
    for (const [key, value] of Object.entries(initial)) this.data.set(key, encode(value));
  }

  get(key: string): Uint8Array | null {
    this.calls.get++;
    return this.data.get(key) ?? null;
  }

  set(key: string, value: Uint8Array): void {
    this.calls.set++;
    this.data.set(key, value.slice());
  }

  delete(key: string): void {
    this.calls.delete++;
    this.data.delete(key);
  }

  text(key: string): string | undefined {
    const value = this.data.get(key);
    return value === undefined ? undefined : decode(value);
  }
}

export type StoreOperation = 'get' | 'set' | 'delete';

/** A MemoryStore whose chosen operations throw `error` (after being counted). */
export class FailingStore extends MemoryStore {
  constructor(
    private readonly failing: readonly StoreOperation[],
    private readonly error: unknown,
    initial: Record<string, string> = {},
  ) {
    super(initial);
  }

  override get(key: string): Uint8Array | null {
    const value = super.get(key);
    if (this.failing.includes('get')) throw this.error;
    return value;
  }

  override set(key: string, value: Uint8Array): void {
    if (this.failing.includes('set')) {
      this.calls.set++;
      throw this.error;
    }
    super.set(key, value);
  }

  override delete(key: string): void {
    if (this.failing.includes('delete')) {
      this.calls.delete++;
      throw this.error;
    }
    super.delete(key);
  }
}

/** Wraps a store in an OpenStore that counts how often it was opened. */
export function opener(store: Store): { openStore: OpenStore; opens: () => number } {
  let opens = 0;
  return {
    openStore: () => {
      opens++;
      return store;
    },
    opens: () => opens,
  };
}

/** An OpenStore that always throws, like `Kv.openDefault()` when the store is not configured. */
export function failingOpener(error: unknown): { openStore: OpenStore; opens: () => number } {
  let opens = 0;
  return {
    openStore: () => {
      opens++;
      throw error;
    },
    opens: () => opens,
  };
}

export function logRecorder(): { log: (line: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { log: (line) => lines.push(line), lines };
}

/** Error shapes the stores throw: a JS Error, and the component-model variant the Spin SDK surfaces. */
export const ERROR_SHAPES: ReadonlyArray<{ name: string; error: unknown; described: string }> = [
  { name: 'Error', error: new Error('connection refused'), described: 'connection refused' },
  { name: 'variant', error: { tag: 'other', val: 'connection refused' }, described: 'other: connection refused' },
];
