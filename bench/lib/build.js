// Builds the bench's components: the app with `npm run build` itself, the fixtures with
// `buildComponent`, which runs the same build (webpack.config.js: bundle, knitwit, componentize-js)
// with only the entry and the output overridden. When the build changes, change this file to match.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runTracked } from './procs.js';

const APP_WASM = 'dist/cache-with-az-redis.wasm';
const TOOLCHAIN = ['@bytecodealliance/componentize-js', '@bytecodealliance/jco', '@fermyon/knitwit', '@fermyon/spin-sdk', 'webpack', 'ts-loader', 'typescript'];

/** A build step failed: the message carries the tail of its output. */
export class BuildError extends Error {}

// Through npm, as knitwit (run by webpack.config.js) reads INIT_CWD, which npm sets.
async function npmRunBuild(root, name, args = []) {
  const r = await runTracked(name, 'npm', ['run', 'build', ...(args.length ? ['--', ...args] : [])], { cwd: root, timeoutMs: 600_000 });
  if (r.code !== 0) throw new BuildError(`${name} failed (${r.signal ?? `exit ${r.code}`}):\n${r.output.slice(-3000)}`);
  return r.ms;
}

/** The app as `npm run build` makes it, built first when dist/ does not have it. */
export async function ensureApp(root, say) {
  if (!fs.existsSync(path.join(root, APP_WASM))) {
    say(`${APP_WASM} is missing: running npm run build`);
    await npmRunBuild(root, 'npm run build');
  }
  return path.join(root, APP_WASM);
}

/**
 * One fixture entry (JS or TS) → a component in bench/work/components/, rebuilt only when the
 * entry, the catalog, the build config or the installed toolchain changed.
 * @param {{ root: string, workDir: string, name: string, entry: string, say: (s: string) => void }} o
 */
export async function buildComponent({ root, workDir, name, entry, say }) {
  const hash = createHash('sha256');
  const inputs = [entry, 'src/catalog.ts', 'webpack.config.js', 'knitwit.json', 'tsconfig.json', ...TOOLCHAIN.map((p) => `node_modules/${p}/package.json`)];
  for (const f of inputs) hash.update(f).update(fs.readFileSync(path.join(root, f)));
  const dir = path.join(workDir, 'components');
  const wasm = path.join(dir, `${name}-${hash.digest('hex').slice(0, 16)}.wasm`);
  if (fs.existsSync(wasm)) return { wasm, buildMs: null };
  say(`building ${name} from ${entry} with npm run build (cached afterwards)`);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (f.startsWith(`${name}-`) || f.startsWith(`${name}.`)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  const tmp = path.join(dir, `${name}.tmp.wasm`);
  const ms = await npmRunBuild(root, `npm run build (${name})`, ['--env', `entry=./${entry}`, '--env', `out=${tmp}`]);
  fs.rmSync(`${tmp}.bundle.js`, { force: true });
  if (!fs.existsSync(tmp)) throw new BuildError(`npm run build (${name}) wrote no ${path.relative(root, tmp)}: does webpack.config.js still take --env entry=… --env out=…?`);
  fs.renameSync(tmp, wasm);
  return { wasm, buildMs: ms };
}
