// What a fresh instance has to set up: the initial linear memory and the data segments of the
// engine's core module (from the runner's jco translation cache), read straight from the binary.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

function leb(bytes, i) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[i++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [result, i];
  }
}

/** Sections of a core wasm module that matter for instantiation. */
export function coreModuleInfo(bytes) {
  const info = { initialMemoryBytes: null, dataSegments: 0, dataBytes: 0, codeBytes: 0 };
  let i = 8;
  while (i < bytes.length) {
    const id = bytes[i++];
    let size;
    [size, i] = leb(bytes, i);
    const start = i;
    if (id === 5) {
      let j = leb(bytes, i)[1]; // count
      j++; // limits flag
      const [pages] = leb(bytes, j);
      info.initialMemoryBytes = pages * 65536;
    } else if (id === 10) {
      info.codeBytes = size;
    } else if (id === 11) {
      let [count, j] = leb(bytes, i);
      info.dataSegments = count;
      for (let k = 0; k < count; k++) {
        let kind;
        [kind, j] = leb(bytes, j);
        if (kind === 2) j = leb(bytes, j)[1]; // explicit memory index
        if (kind === 0 || kind === 2) {
          while (bytes[j] !== 0x0b) j++; // offset expression (a constant)
          j++;
        }
        let len;
        [len, j] = leb(bytes, j);
        info.dataBytes += len;
        j += len;
      }
    }
    i = start + size;
  }
  return info;
}

/** Info about the largest core module of a component, from the runner's translation cache. */
export function componentCoreInfo(root, wasmFile) {
  try {
    const hash = createHash('sha256').update(fs.readFileSync(wasmFile)).digest('hex').slice(0, 32);
    const dir = path.join(root, 'node_modules', '.cache', 'spin-component-runner', hash);
    const cores = fs.readdirSync(dir).filter((f) => f.endsWith('.wasm')).map((f) => path.join(dir, f));
    const biggest = cores.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    return { file: path.basename(biggest), coreModules: cores.length, ...coreModuleInfo(fs.readFileSync(biggest)) };
  } catch {
    return null;
  }
}
