import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships ESM (.mjs) and CJS (.js) copies; Node (and so Pothos and Yoga) loads the CJS one.
    // Vite would pick the ESM one for our sources: two realms, "Cannot use GraphQLEnumType from another module".
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/faults/**', 'node_modules/**'],
    // Integration tests talk to one real Redis and spawn processes: two forks keep a 2-core box responsive.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
