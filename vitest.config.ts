import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores here: run files in parallel, but no more workers than that.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-line-reporter.ts'],
  },
});
