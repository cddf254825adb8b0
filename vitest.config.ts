import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Four projects: unit (pure functions, parsers, CLI input handling — no database server),
 * screens (Ink frames), fresh (fast files that need modules of their own) and integration (real PostgreSQL, MariaDB, pgBackRest, sshd). Only
 * integration gets the global setup that starts the suite's servers. A test file belongs to
 * integration when it reaches for a server (the helpers that start or share one, or inject());
 * the split is derived from the files, so a new test cannot land in the wrong project by name.
 * `npm test` runs all four; `npm run test:unit` the first three, in well under a minute.
 */
const SERVER = /helpers\/(sandbox|archived-pg|pgbackrest-pg|chain-backup|pg-scratch-db|wal-files|drill-interrupt|tmux|sshd)|startPostgresSandbox|startMariadbSandbox|sandboxRunDir|inject\(/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'helpers' ? [] : testFiles(p);
    return /\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

// A file that sets the environment before its first import (chalk fixes its colour level when ink
// is first imported) needs a module graph of its own; every other fast file shares one per worker.
const FRESH_MODULES = /vi\.hoisted\(/;

const all = testFiles('test');
const text = new Map(all.map((f) => [f, readFileSync(f, 'utf8')]));
const needsServer = (f: string) => SERVER.test(text.get(f)!);
const integration = all.filter(needsServer);
const fast = all.filter((f) => !needsServer(f));
const fresh = fast.filter((f) => FRESH_MODULES.test(text.get(f)!));
const screens = fast.filter((f) => f.startsWith(join('test', 'screens')) && !fresh.includes(f));
const unit = fast.filter((f) => !screens.includes(f) && !fresh.includes(f));

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
      // Sharing modules between files cuts the fast projects' import time by about 10x (Ink and
      // React load once per worker, not once per file); their tests keep no module state.
      { extends: true, test: { name: 'unit', include: unit, isolate: false } },
      { extends: true, test: { name: 'screens', include: screens, isolate: false } },
      { extends: true, test: { name: 'fresh', include: fresh } },
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
