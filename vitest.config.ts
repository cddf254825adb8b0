import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Three projects: unit (pure functions, parsers, CLI input handling — no database server),
 * screens (Ink frames) and integration (real PostgreSQL, MariaDB, pgBackRest, sshd). Only
 * integration gets the global setup that starts the suite's servers. A test file belongs to
 * integration when it reaches for a server (the helpers that start or share one, or inject());
 * the split is derived from the files, so a new test cannot land in the wrong project by name.
 * `npm test` runs all three; `npm run test:unit` the first two, in well under a minute.
 */
const SERVER = /helpers\/(sandbox|archived-pg|pgbackrest-pg|chain-backup|pg-scratch-db|wal-files|drill-interrupt|tmux|sshd)|startPostgresSandbox|startMariadbSandbox|sandboxRunDir|inject\(/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'helpers' ? [] : testFiles(p);
    return /\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

const all = testFiles('test');
const needsServer = (f: string) => SERVER.test(readFileSync(f, 'utf8'));
const screens = all.filter((f) => f.startsWith(join('test', 'screens')) && !needsServer(f));
const integration = all.filter(needsServer);
const unit = all.filter((f) => !screens.includes(f) && !integration.includes(f));

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: files that start their own servers must not all start at once.
    maxWorkers: 2,
    // CI=true makes Ink render only the final frame; screen tests need every frame, as a person
    // at a terminal would see them. The console entry clears it the same way.
    env: { CI: '0', CONTINUOUS_INTEGRATION: '0' },
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      { extends: true, test: { name: 'screens', include: screens } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integration,
          // One PostgreSQL and one MariaDB sandbox serve these files; they are started once here
          // and stopped in its teardown, even when tests fail.
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
