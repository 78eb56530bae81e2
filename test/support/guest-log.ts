// What the component wrote to stderr: `spin up` keeps it in `.spin/logs/<component>_stderr.txt`
// of the app directory as well as printing it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServedApp } from './served-app';

export function guestStderr(app: ServedApp): string {
  const logs = path.join(app.app.dir, '.spin', 'logs');
  const files = existsSync(logs) ? readdirSync(logs).filter((name) => name.endsWith('_stderr.txt')) : [];
  return files.map((name) => readFileSync(path.join(logs, name), 'utf8')).join('') + app.server.stderr();
}
