import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/** `npm run test:faults`: the fault-injection suite (kills processes, restarts Redis); also run by `.ci/run`. */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/faults/**/*.test.ts'],
    exclude: ['node_modules/**'],
    pool: 'forks',
    // One fault at a time: they kill and restart shared pieces.
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
