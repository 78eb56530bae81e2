// `npm run build`: bundle src/index.ts into one ES module, then turn it into the Spin component
// dist/cache-with-az-redis.wasm. The bench builds its fixtures the same way:
//   webpack --mode=production --env entry=./bench/fixtures/baseline.js --env out=bench/work/baseline.wasm
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import SpinSdkPlugin from '@fermyon/spin-sdk/plugins/webpack/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const bin = (name) => path.join(here, 'node_modules', '.bin', name);

// componentize-js 0.19's engine speaks WASI 0.2.3, so the component exports its HTTP handler at
// that version (Spin 3.2+ serves any wasi:http/incoming-handler@0.2.*). @fermyon/spin-sdk 2.0.0
// ships the WASI 0.2.0 packages, and the stable interfaces of 0.2.3 are theirs plus one alias
// (`field-name`, 0.2.1, for `field-key`); the rest 0.2.3 adds is feature-gated. So the 0.2.3
// packages are derived from the SDK's, and knitwit merges that world with the SDK's
// fermyon:spin@2.0.0 imports (knitwit.json).
function writeWasiWorld(dir) {
  const sdkWasi = path.join(here, 'node_modules', '@fermyon', 'spin-sdk', 'bin', 'wit', 'deps');
  fs.rmSync(dir, { recursive: true, force: true });
  for (const pkg of ['cli', 'clocks', 'filesystem', 'http', 'io', 'random', 'sockets']) {
    fs.mkdirSync(path.join(dir, 'deps', pkg), { recursive: true });
    for (const file of fs.readdirSync(path.join(sdkWasi, pkg))) {
      const wit = fs.readFileSync(path.join(sdkWasi, pkg, file), 'utf8')
        .replaceAll('@0.2.0', '@0.2.3')
        .replace('  type field-key = string;\n', '  type field-key = string;\n  type field-name = field-key;\n');
      fs.writeFileSync(path.join(dir, 'deps', pkg, file), wit);
    }
  }
  fs.writeFileSync(path.join(dir, 'world.wit'),
    'package cache-with-az-redis:app;\n\nworld http-trigger {\n  export wasi:http/incoming-handler@0.2.3;\n}\n');
}

/** After webpack has written the bundle: knitwit merges the worlds, j2w (componentize-js) builds the component. */
class SpinComponentPlugin {
  constructor(bundle, output) {
    Object.assign(this, { bundle, output });
  }

  apply(compiler) {
    compiler.hooks.afterEmit.tapPromise('SpinComponentPlugin', async () => {
      writeWasiWorld(path.join(here, 'build', 'wit', 'app'));
      // The SDK's llm.wit still spells f32 as float32.
      const env = { ...process.env, WIT_REQUIRE_F32_F64: '0' };
      await run(bin('knitwit'), ['--out-dir', 'build/wit/knitwit', '--out-world', 'combined'], { cwd: here, env });
      fs.mkdirSync(path.dirname(this.output), { recursive: true });
      await run(bin('j2w'), ['-i', this.bundle, '-d', 'build/wit/knitwit', '-n', 'combined', '-o', this.output], { cwd: here });
    });
  }
}

export default (env = {}) => {
  const bundle = path.resolve(here, env.out ? `${env.out}.bundle.js` : 'build/bundle.js');
  return {
    entry: env.entry ?? './src/index.ts',
    experiments: { outputModule: true },
    module: {
      rules: [{ test: /\.ts$/, use: 'ts-loader', exclude: /node_modules/ }],
    },
    resolve: { extensions: ['.ts', '.js'] },
    output: {
      path: path.dirname(bundle),
      filename: path.basename(bundle),
      module: true,
      library: { type: 'module' },
    },
    // Spin/WASI imports stay external so that componentize-js binds them to the component's imports.
    plugins: [new SpinSdkPlugin(), new SpinComponentPlugin(bundle, path.resolve(here, env.out ?? 'dist/cache-with-az-redis.wasm'))],
    optimization: { minimize: false },
    performance: { hints: false },
  };
};
