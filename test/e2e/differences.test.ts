// The README's table of differences between the runner and Spin lists exactly the differences
// the end-to-end tests name (test/support/differences.ts), in the same order: neither can drift.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIFFERENCES } from '../support/differences';
import { APP_DIR } from '../support/host';

const HEADING = '## Differences between the runner and Spin';

function readmeTableRows(): string[] {
  const readme = readFileSync(path.join(APP_DIR, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${HEADING}\n`);
  expect(start, `README.md has a "${HEADING}" section`).toBeGreaterThanOrEqual(0);
  const section = readme.slice(start + HEADING.length + 2).split(/\n## /)[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2) // header and separator
    .map((line) => line.split('|')[1]!.trim());
}

describe('the README table of runner/Spin differences', () => {
  it('has one row per difference the tests name, in the same order', () => {
    expect(readmeTableRows()).toEqual(Object.keys(DIFFERENCES));
  });
});
