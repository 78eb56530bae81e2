import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/spin-setup.ts'],
    // The end-to-end files mostly wait on Spin, Redis and deliberate timeouts, so three run at once
    // even on 2 cores (the default is one fewer than the cores).
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
