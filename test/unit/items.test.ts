import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { serializeItems } from '../../src/catalog';
import {
  CACHE_KEYS_TO_CLEAR,
  ITEMS_BODY,
  ITEMS_CACHE_KEY,
  ITEMS_ETAG,
  isCurrentItems,
  itemsCacheKey,
} from '../../src/items';
import { decode, encode } from './fakes';
import { ITEMS_ETAG as EXPECTED_ETAG, ITEMS_JSON, ITEMS_KEY } from '../support/expected';

describe('the GET /items representation', () => {
  it('is the catalog bytes with the ETag and cache key of the contract', () => {
    expect(decode(ITEMS_BODY)).toBe(ITEMS_JSON);
    expect(ITEMS_ETAG).toBe(EXPECTED_ETAG);
    expect(ITEMS_CACHE_KEY).toBe(ITEMS_KEY);
  });

  it('names the cache key after the SHA-256 of the body', () => {
    const digest = createHash('sha256').update(ITEMS_JSON).digest('hex');
    expect(ITEMS_CACHE_KEY).toBe(`items:${digest.slice(0, 16)}`);
  });

  it('gives an edited catalog a new key, and the same catalog the same key', () => {
    const edited = serializeItems([{ id: 1, title: 'Black Coffee' }, { id: 7, title: 'Flat White' }]);
    expect(itemsCacheKey(edited)).not.toBe(ITEMS_CACHE_KEY);
    expect(itemsCacheKey(edited)).toMatch(/^items:[0-9a-f]{16}$/);
    expect(itemsCacheKey(encode(ITEMS_JSON))).toBe(ITEMS_CACHE_KEY);
  });

  it('clears the current key', () => {
    expect(CACHE_KEYS_TO_CLEAR).toEqual([ITEMS_KEY]);
  });
});

describe('isCurrentItems', () => {
  it('accepts exactly the catalog bytes, in any buffer', () => {
    expect(isCurrentItems(encode(ITEMS_JSON))).toBe(true);
    const padded = new Uint8Array(ITEMS_JSON.length + 10);
    padded.set(encode(ITEMS_JSON), 5);
    expect(isCurrentItems(padded.subarray(5, 5 + ITEMS_JSON.length))).toBe(true);
  });

  it.each([
    ['empty bytes', ''],
    ['an empty array', '[]'],
    ['a duplicate id', ITEMS_JSON.replace('"id":2', '"id":1')],
    ['a change in the first byte', `{${ITEMS_JSON.slice(1)}`],
    ['a change in the last byte', `${ITEMS_JSON.slice(0, -1)}}`],
    ['one byte more', `${ITEMS_JSON} `],
    ['one byte less', ITEMS_JSON.slice(1)],
  ])('rejects %s', (_name, text) => {
    expect(isCurrentItems(encode(text))).toBe(false);
  });
});
