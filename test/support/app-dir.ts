// A throwaway application directory: the real spin.toml and the real built component, but its
// own `.spin/` state, so tests never touch a developer's data or each other's.
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { APP_DIR } from './host';

export interface AppDir {
  dir: string;
  manifest: string;
  sqliteFile: string;
  remove(): void;
}

export function makeAppDir({ withComponent = true } = {}): AppDir {
  const dir = mkdtempSync(path.join(tmpdir(), 'cache-app-'));
  copyFileSync(path.join(APP_DIR, 'spin.toml'), path.join(dir, 'spin.toml'));
  if (withComponent) symlinkSync(path.join(APP_DIR, 'dist'), path.join(dir, 'dist'));
  return {
    dir,
    manifest: path.join(dir, 'spin.toml'),
    sqliteFile: path.join(dir, '.spin', 'sqlite_key_value.db'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
