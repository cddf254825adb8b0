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
    // CI=true makes Ink render only the final frame; screen tests need every frame, as a person
    // at a terminal would see them. The console entry clears it the same way.
    env: { CI: '0', CONTINUOUS_INTEGRATION: '0' },
    pool: 'forks',
  },
});
