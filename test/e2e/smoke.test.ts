// The deployment smoke test (`npm run smoke -- URL`) passes against the real component on Spin,
// exactly as a user runs it after `npm start` — also after the catalog was changed, on a
// store that still holds the old catalog, because it checks the contract and not one catalog.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppDir, makeAppDir } from '../support/app-dir';
import { ITEMS_JSON } from '../support/expected';
import { APP_DIR, type RunningApp, skipWithout, startApp } from '../support/host';

const TOKEN = 'smoke-token';

/** The catalog of the changed component, and the bytes it must serve, written out by hand. */
const VARIANT_CATALOG = `[
  { id: 10, title: 'Flat White' },
  { id: 11, title: 'Café au lait' },
  { id: 12, title: 'Matcha Latte' },
]`;
const VARIANT_JSON = '[{"id":10,"title":"Flat White"},{"id":11,"title":"Café au lait"},{"id":12,"title":"Matcha Latte"}]';

const run = promisify(execFile);

/**
 * Builds the component from a copy of the project whose `src/catalog.ts` lists other items, the way
 * a user's edit would, with the project's own `npm run build`. Returns the directory holding the built `dist/`. The result is kept
 * in the temp directory under a hash of everything that goes into it, so only the first run pays
 * for the build (about 30 s on 2 cores).
 */
async function buildCatalogVariant(): Promise<string> {
  const source = readFileSync(path.join(APP_DIR, 'src', 'catalog.ts'), 'utf8');
  const catalogLiteral = /(export const CATALOG\b[^=]*=\s*)\[[\s\S]*?\n\];/;
  if (!catalogLiteral.test(source)) throw new Error('src/catalog.ts has no `export const CATALOG … = [ … ];` to replace');
  const variantSource = source.replace(catalogLiteral, `$1${VARIANT_CATALOG};`);

  const inputs = ['webpack.config.js', 'tsconfig.json', 'package.json', 'package-lock.json', 'knitwit.json', 'spin.toml'];
  const hash = createHash('sha256').update(variantSource);
  for (const file of readdirSync(path.join(APP_DIR, 'src'), { recursive: true }).map(String).sort()) {
    if (file.endsWith('.ts')) hash.update(file).update(readFileSync(path.join(APP_DIR, 'src', file)));
  }
  for (const file of inputs) hash.update(file).update(readFileSync(path.join(APP_DIR, file)));
  const built = path.join(tmpdir(), `cache-with-az-redis-catalog-variant-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(path.join(built, 'dist', 'cache-with-az-redis.wasm'))) return built;

  const staging = mkdtempSync(`${built}.building-`);
  try {
    for (const entry of ['src', ...inputs]) {
      cpSync(path.join(APP_DIR, entry), path.join(staging, entry), { recursive: true });
    }
    writeFileSync(path.join(staging, 'src', 'catalog.ts'), variantSource);
    symlinkSync(path.join(APP_DIR, 'node_modules'), path.join(staging, 'node_modules'));
    await run('npm', ['run', 'build'], { cwd: staging, maxBuffer: 16 * 1024 * 1024 });
    rmSync(path.join(staging, 'node_modules'));
    rmSync(path.join(staging, 'build'), { recursive: true });
    try {
      renameSync(staging, built);
    } catch {
      // another run finished the same build first: use its copy
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return built;
}

describe.skipIf(skipWithout())('npm run smoke', () => {
  let variantDir: string;
  let app: AppDir;
  let running: RunningApp | undefined;

  const start = async () => {
    running = await startApp({ args: ['-f', app.manifest, '--variable', `cache_admin_token=${TOKEN}`], cwd: app.dir });
    return running;
  };
  const stop = async () => {
    await running?.stop();
    running = undefined;
  };
  const smoke = (...args: string[]) =>
    spawnSync(process.execPath, ['deploy/smoke.js', running!.baseUrl, ...args], { cwd: APP_DIR, encoding: 'utf8', timeout: 60_000 });
  const items = async () => {
    const res = await fetch(`${running!.baseUrl}/items`);
    return { body: await res.text(), fromCache: res.headers.get('x-served-from-cache') };
  };

  beforeAll(async () => {
    app = makeAppDir();
    variantDir = await buildCatalogVariant();
  }, 300_000);
  afterEach(stop);
  afterAll(() => app?.remove());

  it('passes every step with the admin token, and never prints it', async () => {
    await start();
    const result = smoke('--token', TOKEN);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    expect(result.stdout.match(/^PASS /gm), result.stdout + result.stderr).toHaveLength(6);
    expect(result.stdout).toContain(`${Buffer.byteLength(ITEMS_JSON)}-byte item array (6 items)`);
    expect(result.status).toBe(0);
  });

  it('fails, naming the step, without the token', async () => {
    await start();
    const result = smoke();
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}2\. DELETE \/cache \(start cold\): .*401/m);
  });

  // The changed component is new to Spin's compile cache: its first start compiles it (~10 s).
  it('passes after the catalog changed, on a store that still holds the old one', { timeout: 120_000 }, async () => {
    await start();
    expect((await items()).body).toBe(ITEMS_JSON); // the shipped catalog is now in this app's store
    await stop();

    // the same app directory and store, now with the component built from the edited catalog
    rmSync(path.join(app.dir, 'dist'));
    symlinkSync(path.join(variantDir, 'dist'), path.join(app.dir, 'dist'));
    await start();
    const result = smoke('--token', TOKEN);
    expect(result.stdout.match(/^PASS /gm), result.stdout + result.stderr).toHaveLength(6);
    expect(result.stdout).toContain(`${Buffer.byteLength(VARIANT_JSON)}-byte item array (3 items)`);
    expect(result.status).toBe(0);
    expect(await items()).toEqual({ body: VARIANT_JSON, fromCache: 'true' });
  });
});
