import { describe, expect, it } from 'vitest';
import { CATALOG, CATALOG_JSON, isItemArray, serializeItems } from '../../src/catalog';
import { decode } from './fakes';
import { ITEMS_JSON, ITEMS_JSON_LENGTH } from '../support/expected';

describe('catalog', () => {
  it('serializes to the exact 178 bytes of the contract', () => {
    expect(ITEMS_JSON.length).toBe(ITEMS_JSON_LENGTH);
    expect(CATALOG_JSON).toBeInstanceOf(Uint8Array);
    expect(CATALOG_JSON.byteLength).toBe(ITEMS_JSON_LENGTH);
    expect(decode(CATALOG_JSON)).toBe(ITEMS_JSON);
  });

  it('has six items with ids 1..6', () => {
    expect(CATALOG.map((item) => item.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(CATALOG.map((item) => item.title)).toEqual([
      'Black Coffee',
      'Latte',
      'Caramel Latte',
      'Cappuccino',
      'Americano',
      'Espresso',
    ]);
  });

  it('serializeItems produces compact UTF-8 JSON with id before title', () => {
    expect(decode(serializeItems([{ id: 7, title: 'Café' }]))).toBe('[{"id":7,"title":"Café"}]');
    expect(serializeItems([{ id: 7, title: 'é' }]).byteLength).toBe('[{"id":7,"title":""}]'.length + 2);
    expect(decode(serializeItems([]))).toBe('[]');
  });
});

describe('isItemArray', () => {
  it.each([
    ['the catalog', JSON.parse(ITEMS_JSON)],
    ['an empty array', []],
    ['items with extra fields', [{ id: 1, title: 'x', price: 2 }]],
  ])('accepts %s', (_name, value) => {
    expect(isItemArray(value)).toBe(true);
  });

  it.each([
    ['null', null],
    ['an object', { id: 1, title: 'x' }],
    ['a string', '[]'],
    ['a number', 1],
    ['an array of numbers', [1, 2]],
    ['an array containing null', [null]],
    ['an array of arrays', [[1, 'x']]],
    ['an item without title', [{ id: 1 }]],
    ['an item without id', [{ title: 'x' }]],
    ['a string id', [{ id: '1', title: 'x' }]],
    ['a numeric title', [{ id: 1, title: 2 }]],
    ['a non-finite id', [{ id: Number.NaN, title: 'x' }]],
    ['one bad item among good ones', [{ id: 1, title: 'x' }, { id: 2 }]],
  ])('rejects %s', (_name, value) => {
    expect(isItemArray(value)).toBe(false);
  });
});
