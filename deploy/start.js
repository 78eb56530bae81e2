// `npm start [-- <spin up options>]`: `spin up` on the real Spin (found or installed by
// ./spin-binary.js). First it rebuilds the component when it is missing or older than anything its
// build watches (the `watch` globs of spin.toml, as `spin build --up` would). With -h/--help it only
// shows `spin up --help`, building nothing.
import { execSync, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { globSync } from 'tinyglobby';
import { SpinUnavailableError, findSpin } from './spin-binary.js';

const args = process.argv.slice(2);
const wantsHelp = args.some((arg) => arg === '-h' || arg === '--help');

/** Newest modification time among the files under `appDir` that match `globs`. */
function newestMtime(appDir, globs) {
  let newest = 0;
  for (const file of globSync(globs, { cwd: appDir, absolute: true, dot: true })) {
    newest = Math.max(newest, statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
  }
  return newest;
}

/** Builds each component of ./spin.toml whose `source` is missing or older than its `watch` files. */
function buildIfStale(appDir) {
  const manifestFile = path.join(appDir, 'spin.toml');
  let manifest;
  try {
    manifest = parseToml(readFileSync(manifestFile, 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return; // not an app directory: let `spin up` say what it wants
    console.error(`Error: cannot read ${manifestFile}: ${String(error.message).split('\n')[0]}`);
    process.exit(1);
  }
  for (const [id, component] of Object.entries(manifest.component ?? {})) {
    const build = component.build;
    if (!build?.command || typeof component.source !== 'string') continue;
    const built = statSync(path.join(appDir, component.source), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    const reason = built === 0 ? 'is missing' : newestMtime(appDir, build.watch ?? []) > built ? 'is older than its sources' : null;
    if (!reason) continue;
    console.error(`${component.source} ${reason}: building ${id} with \`${build.command}\``);
    try {
      execSync(build.command, { stdio: 'inherit', cwd: path.join(appDir, build.workdir ?? '.') });
    } catch {
      console.error(`Error: \`${build.command}\` failed; fix the build and run npm start again`);
      process.exit(1);
    }
  }
}

let spin;
try {
  spin = await findSpin();
} catch (error) {
  if (!(error instanceof SpinUnavailableError)) throw error;
  console.error(`Error: ${error.message}`);
  process.exit(1);
}
if (!wantsHelp) buildIfStale(process.cwd());

// Spin keeps its data under HOME: the user's, as it would be for a plain `spin up`.
const child = spawn(spin, ['up', ...args], { stdio: 'inherit', env: { ...process.env, HOME: process.env.HOME || homedir() } });
const forward = (signal) => child.kill(signal);
process.on('SIGINT', forward).on('SIGTERM', forward);
child.on('error', (error) => {
  console.error(`Error: could not run ${spin}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.removeListener('SIGINT', forward).removeListener('SIGTERM', forward);
  if (signal) process.kill(process.pid, signal); // die the way Spin died
  process.exit(code ?? 1);
});
