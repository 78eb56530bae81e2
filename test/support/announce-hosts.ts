// Vitest global setup: says once which hosts the end-to-end tests run on, and compiles the
// component with Spin before the test files start so that they don't all compile it at once.
import { makeAppDir } from './app-dir';
import { SPIN_BIN, startApp } from './host';

export default async function setup(): Promise<void> {
  if (!SPIN_BIN) {
    console.log('End-to-end tests run on the runner only; set SPIN_BIN=/path/to/spin to run them on real Spin too.');
    return;
  }
  console.log(`End-to-end tests run on Spin (${SPIN_BIN}) and on the runner.`);
  const app = makeAppDir();
  try {
    const spin = await startApp('spin', { args: ['-f', app.manifest], cwd: app.dir });
    await spin.stop();
  } finally {
    app.remove();
  }
}
