// Vitest global setup: finds Spin once, as `npm start` does (SPIN_BIN, PATH, the cache, or an
// install of the pinned release), hands it to the test files as SPIN_BIN, and compiles the
// component into Spin's cache before the files start, so that they don't all compile it at once.
// With CI=true a Spin that cannot be had fails the suite; elsewhere the end-to-end files skip.
import { findSpin } from '../../deploy/spin-binary.js';
import { makeAppDir } from './app-dir';

export default async function setup(): Promise<void> {
  let spin: string;
  try {
    spin = await findSpin({ env: process.env });
  } catch (error) {
    if (process.env.CI) throw error;
    console.warn(`Skipping the end-to-end tests: ${(error as Error).message}`);
    process.env.SPIN_BIN = '';
    return;
  }
  process.env.SPIN_BIN = spin;
  console.log(`End-to-end tests run on ${spin}.`);
  const { startApp } = await import('./host');
  const app = makeAppDir();
  try {
    await (await startApp({ args: ['-f', app.manifest], cwd: app.dir, timeoutMs: 120_000 })).stop();
  } finally {
    app.remove();
  }
}
