import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // One PostgreSQL and one MariaDB sandbox serve the whole suite; they are started once here
    // and stopped in its teardown, even when tests fail.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: files that start their own servers must not all start at once.
    maxWorkers: 2,
    pool: 'forks',
  },
});
