// What the component wrote to stderr. `spin up` keeps it in `.spin/logs/<component>_stderr.txt`
// of the app directory rather than on its own stderr; the runner prints it on its stderr.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RedisBackedApp } from './redis-app';

export function guestStderr(app: RedisBackedApp): string {
  const logs = path.join(app.app.dir, '.spin', 'logs');
  const files = existsSync(logs) ? readdirSync(logs).filter((name) => name.endsWith('_stderr.txt')) : [];
  return files.map((name) => readFileSync(path.join(logs, name), 'utf8')).join('') + app.server.stderr();
}
