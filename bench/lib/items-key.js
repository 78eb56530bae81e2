// The key the component caches GET /items under: named after the catalog bytes (src/items.ts,
// `itemsCacheKey`), so the bench derives it from the body it expects instead of hard-coding it.
import { createHash } from 'node:crypto';

/** @param {Uint8Array | string} body */
export function itemsCacheKey(body) {
  return `items:${createHash('sha256').update(body).digest('hex').slice(0, 16)}`;
}
