import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child-process and server tests are slow on a loaded 2-core machine; give them room instead of flaking.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
