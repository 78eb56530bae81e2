// Throw-away app dirs for the hosts the bench starts (see hosts.js): Spin and the runner read the
// same files, and each host gets its own dir so that their SQLite files never meet.
import fs from 'node:fs';
import path from 'node:path';

/**
 * An app dir like test/support/app-dir.ts makes: a copy of spin.toml and a symlink to the real
 * dist/, so the host's default SQLite store lands in <dir>/.spin/ and the user's is untouched.
 * @param {{ root: string, workDir: string, name: string, redisUrl?: string }} options
 */
export function makeAppDir({ root, workDir, name, redisUrl }) {
  const dir = path.join(workDir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(root, 'spin.toml'), path.join(dir, 'spin.toml'));
  fs.symlinkSync(path.join(root, 'dist'), path.join(dir, 'dist'));
  const args = ['-f', path.join(dir, 'spin.toml')];
  if (redisUrl) {
    const file = path.join(dir, 'runtime-config.toml');
    fs.writeFileSync(file, `# written by the bench\n[key_value_store.default]\ntype = "redis"\nurl = "${redisUrl}"\n`);
    args.push('--runtime-config-file', file);
  }
  return { dir, args };
}

/**
 * A manifest serving one component with no stores (the baseline).
 * @param {{ workDir: string, name: string, wasm: string }} options
 */
export function makeBaselineAppDir({ workDir, name, wasm }) {
  const dir = path.join(workDir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'spin.toml'),
    [
      '# written by the bench: the baseline component, no key-value store',
      'spin_manifest_version = 2',
      '[application]',
      'name = "bench-baseline"',
      '[[trigger.http]]',
      'route = "/..."',
      'component = "baseline"',
      '[component.baseline]',
      `source = ${JSON.stringify(wasm)}`,
      '',
    ].join('\n'),
  );
  return { dir, args: ['-f', path.join(dir, 'spin.toml')] };
}
