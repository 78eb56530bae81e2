// The built component must run on Spin 2.x–4.x hosts: only wasi@0.2.0 and fermyon:spin@2.0.0
// imports, and the one HTTP export Spin's trigger calls.
import { readFile } from 'node:fs/promises';
import { componentWit } from '@bytecodealliance/jco';
import { beforeAll, describe, expect, it } from 'vitest';

const COMPONENT = new URL('../../dist/cache-with-az-redis.wasm', import.meta.url);

let imports: string[];
let exports: string[];

beforeAll(async () => {
  const wit = await componentWit(await readFile(COMPONENT));
  imports = [...wit.matchAll(/^\s*import ([^;]+);/gm)].map((m) => m[1]!);
  exports = [...wit.matchAll(/^\s*export ([^;]+);/gm)].map((m) => m[1]!);
});

describe('built component', () => {
  it('imports only wasi:*@0.2.0 and fermyon:spin/*@2.0.0', () => {
    expect(imports.length).toBeGreaterThan(0);
    const foreign = imports.filter((name) => !/^(wasi:[a-z-]+\/[a-z-]+@0\.2\.0|fermyon:spin\/[a-z-]+@2\.0\.0)$/.test(name));
    expect(foreign).toEqual([]);
  });

  it('imports the Spin key-value and variables interfaces it uses', () => {
    expect(imports).toContain('fermyon:spin/key-value@2.0.0');
    expect(imports).toContain('fermyon:spin/variables@2.0.0');
  });

  it('exports exactly wasi:http/incoming-handler@0.2.0', () => {
    expect(exports).toEqual(['wasi:http/incoming-handler@0.2.0']);
  });
});
