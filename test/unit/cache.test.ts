import { describe, expect, it } from 'vitest';
import {
  CACHE_KEYS_TO_CLEAR,
  ITEMS_CACHE_KEY,
  cacheAside,
  clearCache,
  isValidCachedItems,
  type OpenStore,
  type Store,
} from '../../src/cache';
import { ERROR_SHAPES, FailingStore, MemoryStore, decode, encode, failingOpener, logRecorder, opener } from './fakes';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';

const FRESH = encode(ITEMS_JSON);

function readItems(openStore: OpenStore, log: (line: string) => void) {
  let loads = 0;
  const result = cacheAside({
    openStore,
    key: ITEMS_KEY,
    load: () => {
      loads++;
      return FRESH;
    },
    isValid: isValidCachedItems,
    log,
  });
  return { ...result, loads };
}

describe('cache keys', () => {
  it('uses the versioned key items:v1:all and clears it', () => {
    expect(ITEMS_CACHE_KEY).toBe('items:v1:all');
    expect(CACHE_KEYS_TO_CLEAR).toEqual(['items:v1:all']);
  });
});

describe('cacheAside', () => {
  it('on a miss loads, stores under the key and reports fromCache=false', () => {
    const store = new MemoryStore();
    const { openStore, opens } = opener(store);
    const { log, lines } = logRecorder();

    const result = readItems(openStore, log);

    expect(result.fromCache).toBe(false);
    expect(decode(result.body)).toBe(ITEMS_JSON);
    expect(result.loads).toBe(1);
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
    expect([...store.data.keys()]).toEqual([ITEMS_KEY]);
    expect(opens()).toBe(1);
    expect(lines).toEqual([]);
  });

  it('on a hit returns the stored bytes as they are, with exactly one get and no set', () => {
    const cached = '[{"id":9,"title":"Tea"}]';
    const store = new MemoryStore({ [ITEMS_KEY]: cached });
    const { log, lines } = logRecorder();

    const result = readItems(opener(store).openStore, log);

    expect(result.fromCache).toBe(true);
    expect(decode(result.body)).toBe(cached);
    expect(result.loads).toBe(0);
    expect(store.calls).toEqual({ get: 1, set: 0, delete: 0 });
    expect(lines).toEqual([]);
  });

  it('treats undefined from get (how bindings lift WIT option::none) as a miss', () => {
    const store = new MemoryStore();
    const undefinedOnMiss: Store = {
      get: (key) => (store.get(key) ?? undefined) as Uint8Array | null,
      set: (key, value) => store.set(key, value),
      delete: (key) => store.delete(key),
    };
    const { log, lines } = logRecorder();

    const result = readItems(() => undefinedOnMiss, log);

    expect(result.fromCache).toBe(false);
    expect(decode(result.body)).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(lines).toEqual([]);
  });

  it('serves a second call from the value the first one stored', () => {
    const store = new MemoryStore();
    const { openStore } = opener(store);
    const { log } = logRecorder();

    expect(readItems(openStore, log).fromCache).toBe(false);
    const second = readItems(openStore, log);

    expect(second.fromCache).toBe(true);
    expect(decode(second.body)).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 2, set: 1, delete: 0 });
  });

  it.each([
    ['not JSON', 'not json'],
    ['truncated JSON', ITEMS_JSON.slice(0, -1)],
    ['empty bytes', ''],
    ['a JSON object', '{"id":1,"title":"Latte"}'],
    ['a JSON string', '"[]"'],
    ['JSON null', 'null'],
    ['an array of numbers', '[1,2,3]'],
    ['items of the wrong shape', '[{"id":"1","title":"Latte"}]'],
    ['items missing a title', '[{"id":1}]'],
    ['a UTF-8 BOM before valid JSON', `\uFEFF${ITEMS_JSON}`],
  ])('treats a cached value that is %s as a miss and overwrites it', (_name, cached) => {
    const store = new MemoryStore({ [ITEMS_KEY]: cached });
    const { log, lines } = logRecorder();

    const result = readItems(opener(store).openStore, log);

    expect(result.fromCache).toBe(false);
    expect(decode(result.body)).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(ITEMS_KEY);
    expect(lines[0]).toContain('invalid');
  });

  it('treats bytes that are not valid UTF-8 as a miss', () => {
    const store = new MemoryStore();
    store.data.set(ITEMS_KEY, Uint8Array.of(0x5b, 0xff, 0x5d));
    const { log, lines } = logRecorder();

    const result = readItems(opener(store).openStore, log);

    expect(result.fromCache).toBe(false);
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
    expect(lines).toHaveLength(1);
  });

  describe.each(ERROR_SHAPES)('fails open with $name errors', ({ error, described }) => {
    it('serves fresh data without get or set when the store cannot be opened', () => {
      const { openStore, opens } = failingOpener(error);
      const { log, lines } = logRecorder();

      const result = readItems(openStore, log);

      expect(result.fromCache).toBe(false);
      expect(decode(result.body)).toBe(ITEMS_JSON);
      expect(opens()).toBe(1);
      expect(lines).toEqual([`cache open failed: ${described}`]);
    });

    it('serves fresh data and does not attempt a set when get throws', () => {
      const store = new FailingStore(['get'], error);
      const { log, lines } = logRecorder();

      const result = readItems(opener(store).openStore, log);

      expect(result.fromCache).toBe(false);
      expect(decode(result.body)).toBe(ITEMS_JSON);
      expect(store.calls).toEqual({ get: 1, set: 0, delete: 0 });
      expect(lines).toEqual([`cache read failed: ${described}`]);
    });

    it('still serves fresh data when set throws after a miss', () => {
      const store = new FailingStore(['set'], error);
      const { log, lines } = logRecorder();

      const result = readItems(opener(store).openStore, log);

      expect(result.fromCache).toBe(false);
      expect(decode(result.body)).toBe(ITEMS_JSON);
      expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
      expect(store.data.size).toBe(0);
      expect(lines).toEqual([`cache write failed: ${described}`]);
    });
  });

  it('logs a payload-less variant error by its tag', () => {
    const { log, lines } = logRecorder();
    readItems(failingOpener({ tag: 'no-such-store' }).openStore, log);
    expect(lines).toEqual(['cache open failed: no-such-store']);
  });
});

describe('isValidCachedItems', () => {
  it('accepts the catalog bytes and other item arrays', () => {
    expect(isValidCachedItems(encode(ITEMS_JSON))).toBe(true);
    expect(isValidCachedItems(encode('[]'))).toBe(true);
    expect(isValidCachedItems(encode(' [{"id":1,"title":"x"}] '))).toBe(true);
  });

  it('rejects anything else', () => {
    expect(isValidCachedItems(encode('{}'))).toBe(false);
    expect(isValidCachedItems(encode('[{"id":1,"title":null}]'))).toBe(false);
    expect(isValidCachedItems(new Uint8Array())).toBe(false);
    expect(isValidCachedItems(Uint8Array.of(0xc3))).toBe(false);
  });
});

describe('clearCache', () => {
  it('deletes every listed key and reports success', () => {
    const store = new MemoryStore({ [ITEMS_KEY]: ITEMS_JSON, 'items:v0:all': '[]', other: 'kept' });
    const { openStore, opens } = opener(store);
    const { log, lines } = logRecorder();

    expect(clearCache(openStore, [ITEMS_KEY, 'items:v0:all'], log)).toBe(true);
    expect(store.calls).toEqual({ get: 0, set: 0, delete: 2 });
    expect([...store.data.keys()]).toEqual(['other']);
    expect(opens()).toBe(1);
    expect(lines).toEqual([]);
  });

  it('succeeds when nothing was cached', () => {
    const store = new MemoryStore();
    const { log } = logRecorder();
    expect(clearCache(opener(store).openStore, CACHE_KEYS_TO_CLEAR, log)).toBe(true);
    expect(store.calls.delete).toBe(1);
  });

  describe.each(ERROR_SHAPES)('reports failure with $name errors', ({ error, described }) => {
    it('when the store cannot be opened', () => {
      const { log, lines } = logRecorder();
      expect(clearCache(failingOpener(error).openStore, CACHE_KEYS_TO_CLEAR, log)).toBe(false);
      expect(lines).toEqual([`cache clear failed: ${described}`]);
    });

    it('when delete throws', () => {
      const store = new FailingStore(['delete'], error, { [ITEMS_KEY]: ITEMS_JSON });
      const { log, lines } = logRecorder();
      expect(clearCache(opener(store).openStore, CACHE_KEYS_TO_CLEAR, log)).toBe(false);
      expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
      expect(lines).toEqual([`cache clear failed: ${described}`]);
    });
  });
});
