// `npm ci` must work with npm 10 and npm 11 alike. @fermyon/spin-sdk's postinstall
// (`knitwit-postinstall`) throws under both: npm builds a dependency's lifecycle environment from
// the lockfile entry, which has no `config`, so the `npm_package_config_knitwit_*` variables the
// script needs are missing. npm 11 skips it through `allowScripts`; npm 10 ignores `allowScripts`
// and runs a dependency's install scripts only when its lockfile entry says `hasInstallScript`.
// Both rely on the two entries checked here (.ci/npm-versions.sh installs with both for real).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string) => JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'));
const pkg = read('package.json');
const lock = read('package-lock.json');

describe('install scripts', () => {
  it('npm 11 is told not to run the spin-sdk postinstall', () => {
    expect(pkg.allowScripts).toEqual({ '@fermyon/spin-sdk': false });
  });

  it('npm 10 finds no install script recorded for spin-sdk in package-lock.json', () => {
    const entry = lock.packages['node_modules/@fermyon/spin-sdk'];
    expect(entry?.version).toBe('2.0.0');
    expect(
      entry.hasInstallScript,
      'package-lock.json was regenerated: delete "hasInstallScript" from its "node_modules/@fermyon/spin-sdk" entry, ' +
        'or npm 10 runs the crashing knitwit-postinstall (see docs/internals.md#installing-with-npm-10-and-11)',
    ).toBeUndefined();
  });

  it('nothing is compiled at install time: no package in the lockfile has an install script', () => {
    const withScripts = Object.entries(lock.packages).filter(([, entry]) => (entry as { hasInstallScript?: boolean }).hasInstallScript);
    expect(withScripts.map(([name]) => name)).toEqual([]);
  });

  it('package.json declares the Node and npm versions that install it', () => {
    expect(pkg.engines).toEqual({ node: '>=20.19', npm: '10 || 11' });
    expect(lock.packages[''].engines).toEqual(pkg.engines);
  });
});
