import { describe, expect, it } from 'vitest';
import { CATALOG, CATALOG_JSON, serializeItems } from '../../src/catalog';
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
