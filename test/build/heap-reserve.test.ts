// The built component starts with heap to spare (src/heap-reserve.ts) but stays small enough for
// Wasmtime to instantiate it from a copy-on-write image: its data may span at most 16 MiB.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';

const COMPONENT = new URL('../../dist/cache-with-az-redis.wasm', import.meta.url);
const PAGE = 65_536;
const DENSE_IMAGE_LIMIT = 16 * 1024 * 1024;

function leb128(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

/** Calls `visit(id, body)` for each section of a module or component binary. */
function sections(binary: Uint8Array, visit: (id: number, body: Uint8Array) => void) {
  for (let at = 8; at < binary.length; ) {
    const id = binary[at]!;
    const [size, start] = leb128(binary, at + 1);
    visit(id, binary.subarray(start, start + size));
    at = start + size;
  }
}

/** Initial page counts of the memories each core module of the component defines. */
function definedMemoryPages(component: Uint8Array): number[] {
  const pages: number[] = [];
  sections(component, (id, body) => {
    if (id !== 1) return; // a core module
    sections(body, (sectionId, section) => {
      if (sectionId !== 5) return; // its memory section
      let [count, at] = leb128(section, 0);
      while (count-- > 0) {
        const flags = section[at++]!;
        let minimum: number;
        [minimum, at] = leb128(section, at);
        if (flags & 1) [, at] = leb128(section, at);
        pages.push(minimum);
      }
    });
  });
  return pages;
}

describe('built component memory', () => {
  let pages: number[];
  beforeAll(async () => {
    pages = definedMemoryPages(new Uint8Array(await readFile(COMPONENT)));
  });

  it('has one linear memory', () => {
    expect(pages).toHaveLength(1);
  });

  it('starts with the heap reserve (the engine alone needs 118 pages)', () => {
    expect(pages[0]!).toBeGreaterThanOrEqual(118 + Math.floor((8 * 1024 * 1024) / PAGE));
  });

  it('stays under 16 MiB, so Spin instantiates it copy-on-write', () => {
    expect(pages[0]! * PAGE).toBeLessThan(DENSE_IMAGE_LIMIT);
  });
});
