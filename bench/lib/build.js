// Builds: the app (only when dist/ or the combined WIT is missing), the baseline fixture (cached
// under bench/work/ by a hash of its inputs) and the timed build (`npm run build`'s three steps
// with their outputs redirected to bench/work/, so the shared build/ and dist/ are not rewritten
// while the bench, or anything else, is using them).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runTracked } from './procs.js';

const BUILD_ENV = { ...process.env, WIT_REQUIRE_F32_F64: '0' };

function bin(root, name) {
  return path.join(root, 'node_modules', '.bin', name);
}

async function step(root, name, command, args) {
  const r = await runTracked(name, command, args, { cwd: root, env: BUILD_ENV });
  if (r.code !== 0) throw new Error(`${name} failed (${r.signal ?? `exit ${r.code}`}):\n${r.output.slice(-4000)}`);
  return r.ms;
}

/** `npm run build`, when the app component or the combined WIT is missing. */
export async function ensureAppBuilt(root, say) {
  const wasm = path.join(root, 'dist', 'cache-with-az-redis.wasm');
  const wit = path.join(root, 'build', 'wit', 'knitwit');
  if (fs.existsSync(wasm) && fs.existsSync(wit)) return null;
  say('dist/ or build/wit/knitwit is missing: running npm run build');
  const ms = await step(root, 'npm run build', 'npm', ['run', 'build']);
  return { ms, what: 'npm run build' };
}

function packageVersion(root, name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The baseline component, rebuilt only when the fixture, the combined WIT or the toolchain changed.
 * @returns {Promise<{ wasm: string, built: boolean, buildMs: number | null }>}
 */
export async function ensureBaseline(root, workDir, say) {
  const fixture = path.join(root, 'bench', 'fixtures', 'baseline.js');
  const witDir = path.join(root, 'build', 'wit', 'knitwit');
  const wasm = path.join(workDir, 'baseline.wasm');
  const keyFile = path.join(workDir, 'baseline.key');
  const hash = createHash('sha256');
  hash.update(fs.readFileSync(fixture));
  for (const f of fs.readdirSync(witDir).sort()) hash.update(f).update(fs.readFileSync(path.join(witDir, f)));
  hash.update(packageVersion(root, '@bytecodealliance/componentize-js'));
  hash.update(packageVersion(root, '@fermyon/spin-sdk'));
  const key = hash.digest('hex');
  if (fs.existsSync(wasm) && fs.existsSync(keyFile) && fs.readFileSync(keyFile, 'utf8') === key) {
    return { wasm, built: false, buildMs: null };
  }
  say('building the baseline component (bench/fixtures/baseline.js, ~20 s, cached afterwards)');
  const ms = await step(root, 'j2w (baseline)', bin(root, 'j2w'), [
    '-i', path.relative(root, fixture), '-d', path.relative(root, witDir), '-n', 'combined', '-o', wasm,
  ]);
  fs.writeFileSync(keyFile, key);
  return { wasm, built: true, buildMs: ms };
}

/**
 * Times the three steps of `npm run build` (knitwit → webpack → j2w), writing into
 * bench/work/timed-build/ instead of build/ and dist/.
 */
export async function timeBuild(root, workDir) {
  const out = path.join(workDir, 'timed-build');
  fs.rmSync(out, { recursive: true, force: true });
  const witOut = path.join(out, 'wit', 'knitwit');
  const bundleDir = path.join(out, 'build');
  const wasm = path.join(out, 'cache-with-az-redis.wasm');
  const knitwit = await step(root, 'knitwit', bin(root, 'knitwit'), ['--out-dir', witOut, '--out-world', 'combined']);
  const webpack = await step(root, 'webpack', bin(root, 'webpack'), ['--mode=production', '--output-path', bundleDir]);
  const j2w = await step(root, 'j2w', bin(root, 'j2w'), ['-i', path.join(bundleDir, 'bundle.js'), '-d', witOut, '-n', 'combined', '-o', wasm]);
  return {
    totalMs: knitwit + webpack + j2w,
    steps: { knitwit, webpack, j2w },
    sizeBytes: fs.statSync(wasm).size,
    measuredAt: new Date().toISOString(),
  };
}

/**
 * Makes sure the runner's jco translation of each component is cached (see runner/component.js),
 * in a child process; reports which ones had to be translated and how long that took.
 */
export async function warmTranslations(root, wasmFiles) {
  const cacheDir = path.join(root, 'node_modules', '.cache', 'spin-component-runner');
  const out = [];
  for (const wasm of wasmFiles) {
    const hash = createHash('sha256').update(fs.readFileSync(wasm)).digest('hex').slice(0, 32);
    const cached = fs.existsSync(path.join(cacheDir, hash, 'component.js'));
    let ms = null;
    if (!cached) {
      const script = `import(${JSON.stringify(new URL('../../runner/component.js', import.meta.url).href)}).then((m) => m.loadComponent(${JSON.stringify(wasm)}, {}))`;
      const r = await runTracked('jco translation', process.execPath, ['--input-type=module', '-e', script], { cwd: root });
      if (r.code !== 0) throw new Error(`translating ${wasm} failed:\n${r.output.slice(-3000)}`);
      ms = r.ms;
    }
    out.push({ wasm: path.relative(root, wasm), cached, ms });
  }
  return out;
}
