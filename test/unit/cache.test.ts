import { describe, expect, it } from 'vitest';
import { cacheAside, clearCache, isUnusableValueError, type OpenStore, type Store } from '../../src/cache';
import { CACHE_KEYS_TO_CLEAR, isCurrentItems } from '../../src/items';
import { ERROR_SHAPES, FailingStore, MemoryStore, decode, encode, failingOpener, logRecorder, opener } from './fakes';
import { ITEMS_JSON, ITEMS_KEY } from '../support/expected';

const FRESH = encode(ITEMS_JSON);

/** A clock that advances `step` ms per reading, so every timed call lasts exactly `step` ms. */
function steppingClock(step: number) {
  let now = 1000;
  return () => (now += step);
}

function readItems(openStore: OpenStore, log: (line: string) => void, clock = steppingClock(0)) {
  let loads = 0;
  const result = cacheAside({
    openStore,
    key: ITEMS_KEY,
    load: () => {
      loads++;
      return FRESH;
    },
    isValid: isCurrentItems,
    log,
    clock,
  });
  return { ...result, loads };
}

// How the stores say a value cannot be read as bytes, measured on Spin 4.0.2.
const REDIS_WRONGTYPE = { tag: 'other', val: 'WRONGTYPE: Operation against a key holding the wrong kind of value' };
const SQLITE_TEXT_ROW = { tag: 'other', val: 'InvalidColumnType(0, "value", Text)' };

describe('cacheAside', () => {
  it('on a miss loads, stores under the key and reports a miss', () => {
    const store = new MemoryStore();
    const { openStore, opens } = opener(store);
    const { log, lines } = logRecorder();

    const result = readItems(openStore, log);

    expect(result.outcome).toBe('miss');
    expect(decode(result.body)).toBe(ITEMS_JSON);
    expect(result.loads).toBe(1);
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
    expect([...store.data.keys()]).toEqual([ITEMS_KEY]);
    expect(opens()).toBe(1);
    expect(lines).toEqual([]);
  });

  it('on a hit returns the stored bytes with exactly one get, no set and no load', () => {
    const store = new MemoryStore({ [ITEMS_KEY]: ITEMS_JSON });
    const { log, lines } = logRecorder();

    const result = readItems(opener(store).openStore, log);

    expect(result.outcome).toBe('hit');
    expect(decode(result.body)).toBe(ITEMS_JSON);
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

    expect(result.outcome).toBe('miss');
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(lines).toEqual([]);
  });

  it('serves a second call from the value the first one stored', () => {
    const store = new MemoryStore();
    const { openStore } = opener(store);
    const { log } = logRecorder();

    expect(readItems(openStore, log).outcome).toBe('miss');
    const second = readItems(openStore, log);

    expect(second.outcome).toBe('hit');
    expect(decode(second.body)).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 2, set: 1, delete: 0 });
  });

  const duplicateIds = ITEMS_JSON.replace('"id":2', '"id":1');
  const otherCatalog = '[{"id":9,"title":"Tea"}]';
  it.each([
    ['an empty array', '[]'],
    ['the catalog with a duplicate id', duplicateIds],
    ['another item array', otherCatalog],
    ['the catalog with one item missing', ITEMS_JSON.replace(',{"id":6,"title":"Espresso"}', '')],
    ['the catalog with a trailing newline (one byte longer)', `${ITEMS_JSON}\n`],
    ['the catalog without its last byte (one byte shorter)', ITEMS_JSON.slice(0, -1)],
    ['the catalog with one byte changed (same length)', ITEMS_JSON.replace('Latte', 'Lotte')],
    ['the catalog pretty-printed', JSON.stringify(JSON.parse(ITEMS_JSON), null, 2)],
    ['the catalog after a UTF-8 BOM', `\uFEFF${ITEMS_JSON}`],
    ['not JSON', 'not json'],
    ['empty bytes', ''],
    ['a JSON object', '{"id":1,"title":"Latte"}'],
    ['JSON null', 'null'],
  ])('treats a cached value that is %s as a miss and overwrites it', (_name, cached) => {
    const store = new MemoryStore({ [ITEMS_KEY]: cached });
    const { log, lines } = logRecorder();

    const result = readItems(opener(store).openStore, log);

    expect(result.outcome).toBe('miss');
    expect(decode(result.body)).toBe(ITEMS_JSON);
    expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
    expect(lines).toEqual([`cache value under ${ITEMS_KEY} is invalid (${encode(cached).byteLength} bytes); overwriting it`]);
  });

  it('treats bytes that are not UTF-8 as a miss', () => {
    const store = new MemoryStore();
    store.data.set(ITEMS_KEY, Uint8Array.of(0x5b, 0xff, 0x5d));
    const { log, lines } = logRecorder();

    const result = readItems(opener(store).openStore, log);

    expect(result.outcome).toBe('miss');
    expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
    expect(lines).toHaveLength(1);
  });

  // 196,565 bytes was the smallest value that trapped the component before the heap reserve;
  // 4,489,164 is the largest one the built component reads with it (docs/cache.md).
  it.each([196_564, 196_565, 1_000_000, 4_489_164, 4_489_165, 10_000_000])(
    'replaces a %i-byte value without decoding it',
    (size) => {
      const store = new MemoryStore();
      store.data.set(ITEMS_KEY, new Uint8Array(size).fill(0x78));
      const { log, lines } = logRecorder();

      const result = readItems(opener(store).openStore, log);

      expect(result.outcome).toBe('miss');
      expect(decode(result.body)).toBe(ITEMS_JSON);
      expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
      expect(lines).toEqual([`cache value under ${ITEMS_KEY} is invalid (${size} bytes); overwriting it`]);
    },
  );

  describe('when the store answers that the value is unusable', () => {
    it.each([
      ['Redis WRONGTYPE (variant)', REDIS_WRONGTYPE, `other: ${REDIS_WRONGTYPE.val}`],
      ['Redis WRONGTYPE (Error)', new Error('redis error: WRONGTYPE Operation against a key holding the wrong kind of value'), 'redis error: WRONGTYPE Operation against a key holding the wrong kind of value'],
      ['a SQLite TEXT row', SQLITE_TEXT_ROW, `other: ${SQLITE_TEXT_ROW.val}`],
    ])('overwrites it after %s', (_name, error, described) => {
      const store = new FailingStore(['get'], error);
      const { log, lines } = logRecorder();

      const result = readItems(opener(store).openStore, log);

      expect(result.outcome).toBe('miss');
      expect(decode(result.body)).toBe(ITEMS_JSON);
      expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
      expect(store.text(ITEMS_KEY)).toBe(ITEMS_JSON);
      expect(lines).toEqual([`cache value under ${ITEMS_KEY} is unreadable (${described}); overwriting it`]);
    });

    it('reports an error when the overwrite fails too', () => {
      const store = new FailingStore(['get', 'set'], REDIS_WRONGTYPE);
      const { log, lines } = logRecorder();

      const result = readItems(opener(store).openStore, log);

      expect(result.outcome).toBe('error');
      expect(decode(result.body)).toBe(ITEMS_JSON);
      expect(store.calls).toEqual({ get: 1, set: 1, delete: 0 });
      expect(lines).toEqual([
        `cache value under ${ITEMS_KEY} is unreadable (other: ${REDIS_WRONGTYPE.val}); overwriting it`,
        `cache write failed: other: ${REDIS_WRONGTYPE.val}`,
      ]);
    });
  });

  describe.each(ERROR_SHAPES)('fails open with $name errors', ({ error, described }) => {
    it('serves fresh data without get or set when the store cannot be opened', () => {
      const { openStore, opens } = failingOpener(error);
      const { log, lines } = logRecorder();

      const result = readItems(openStore, log);

      expect(result.outcome).toBe('error');
      expect(decode(result.body)).toBe(ITEMS_JSON);
      expect(opens()).toBe(1);
      expect(lines).toEqual([`cache open failed: ${described}`]);
    });

    it('serves fresh data and does not attempt a set when get fails for another reason', () => {
      const store = new FailingStore(['get'], error);
      const { log, lines } = logRecorder();

      const result = readItems(opener(store).openStore, log);

      expect(result.outcome).toBe('error');
      expect(decode(result.body)).toBe(ITEMS_JSON);
      expect(store.calls).toEqual({ get: 1, set: 0, delete: 0 });
      expect(lines).toEqual([`cache read failed: ${described}`]);
    });

    it('still serves fresh data when set throws after a miss', () => {
      const store = new FailingStore(['set'], error);
      const { log, lines } = logRecorder();

      const result = readItems(opener(store).openStore, log);

      expect(result.outcome).toBe('error');
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

  describe('time spent in the store', () => {
    it('adds up open, get and set on a miss', () => {
      const result = readItems(opener(new MemoryStore()).openStore, () => {}, steppingClock(1.5));
      expect(result.storeMs).toBe(4.5);
    });

    it('adds up open and get on a hit', () => {
      const store = new MemoryStore({ [ITEMS_KEY]: ITEMS_JSON });
      expect(readItems(opener(store).openStore, () => {}, steppingClock(2)).storeMs).toBe(4);
    });

    it('counts calls that failed', () => {
      expect(readItems(failingOpener(new Error('down')).openStore, () => {}, steppingClock(3)).storeMs).toBe(3);
      const store = new FailingStore(['get'], new Error('timed out'));
      expect(readItems(opener(store).openStore, () => {}, steppingClock(3)).storeMs).toBe(6);
    });

    it('does not count loading the fresh value', () => {
      let now = 0;
      const result = cacheAside({
        openStore: opener(new MemoryStore()).openStore,
        key: ITEMS_KEY,
        load: () => {
          now += 100;
          return FRESH;
        },
        isValid: isCurrentItems,
        log: () => {},
        clock: () => now++,
      });
      expect(result.storeMs).toBe(3);
    });
  });
});

describe('isUnusableValueError', () => {
  it.each([
    ['Spin Redis WRONGTYPE', REDIS_WRONGTYPE],
    ['Spin SQLite TEXT row', SQLITE_TEXT_ROW],
    ['a WRONGTYPE Error', new Error('WRONGTYPE Operation against a key holding the wrong kind of value')],
  ])('is true for %s', (_name, error) => {
    expect(isUnusableValueError(error)).toBe(true);
  });

  it.each([
    ['connection refused', { tag: 'other', val: 'Connection refused (os error 111)' }],
    ['a timeout', new Error('redis timed out after 2000 ms')],
    ['a broken pipe', { tag: 'other', val: 'broken pipe' }],
    ['a wrong password', { tag: 'other', val: 'WRONGPASS invalid username-password pair' }],
    ['no such store', { tag: 'no-such-store' }],
    ['access denied', { tag: 'access-denied' }],
    ['a word that merely contains the marker', { tag: 'other', val: 'NOTWRONGTYPE' }],
  ])('is false for %s', (_name, error) => {
    expect(isUnusableValueError(error)).toBe(false);
  });
});

describe('clearCache', () => {
  it('deletes every listed key and reports success', () => {
    const store = new MemoryStore({ [ITEMS_KEY]: ITEMS_JSON, 'items:0000000000000000': '[]', other: 'kept' });
    const { openStore, opens } = opener(store);
    const { log, lines } = logRecorder();

    expect(clearCache(openStore, [ITEMS_KEY, 'items:0000000000000000'], log)).toBe(true);
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
