// `npm start`: rebuild the component when it is missing or older than anything its build
// watches (the `watch` globs of spin.toml, as `spin build --up` would), then serve it.
import { execSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { run } from './cli.js';

const manifestFile = 'spin.toml';
const appDir = process.cwd();
const args = process.argv.slice(2);
// Help needs no component: print it without building.
const wantsHelp = args.some((arg) => arg === '-h' || arg === '--help');

/** Newest modification time among files matching simple globs (`dir/**\/*.ext`, plain paths). */
function newestMtime(globs) {
  let newest = 0;
  for (const glob of globs) {
    const starAt = glob.search(/[*?]/);
    const base = starAt < 0 ? glob : glob.slice(0, glob.lastIndexOf('/', starAt) + 1) || '.';
    const pattern = new RegExp(`^${glob.split(/(\*\*\/|\*|\?)/).map((part) =>
      part === '**/' ? '(?:.*/)?' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('')}$`);
    const candidates = starAt < 0 ? [glob]
      : readdirSync(path.join(appDir, base), { recursive: true }).map((f) => path.posix.join(base, String(f)));
    for (const file of candidates) {
      if (!pattern.test(file)) continue;
      const stat = statSync(path.join(appDir, file), { throwIfNoEntry: false });
      if (stat?.isFile()) newest = Math.max(newest, stat.mtimeMs);
    }
  }
  return newest;
}

const manifest = wantsHelp ? {} : parseToml(readFileSync(manifestFile, 'utf8'));
for (const [id, component] of Object.entries(manifest.component ?? {})) {
  const build = component.build;
  if (!build?.command || typeof component.source !== 'string') continue;
  const built = statSync(path.join(appDir, component.source), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const reason = built === 0 ? 'is missing' : newestMtime(build.watch ?? []) > built ? 'is older than its sources' : null;
  if (!reason) continue;
  console.error(`${component.source} ${reason}: building ${id} with \`${build.command}\``);
  try {
    execSync(build.command, { stdio: 'inherit', cwd: path.join(appDir, build.workdir ?? '.') });
  } catch {
    console.error(`Error: \`${build.command}\` failed; fix the build and run npm start again`);
    process.exit(1);
  }
}

run(args);
