import type { Engine } from './engines.js';

/**
 * The ways each engine takes backups, by the name a target stores in `method` (native when it
 * stores none). A leaf module, so the config can check a name without loading an engine; each
 * name is a row of that engine's methods table (src/engines/<engine>/index.ts), which a test
 * keeps equal to this list.
 */
export const METHODS: Readonly<Record<Engine, readonly string[]>> = {
  postgres: ['native', 'pgbackrest'],
  mysql: ['native'],
};

/**
 * Settings only a method that runs its own tool reads (pgBackRest's process-max and start-fast,
 * and where its repository cipher pass comes from: a file or an environment variable).
 */
export const METHOD_SETTINGS: Readonly<Record<string, readonly string[]>> = {
  pgbackrest: ['processMax', 'checkpoint', 'cipherPassFile', 'cipherPassEnv'],
};

/**
 * Methods whose physical backup runs in parallel workers, and the tool option `backup --jobs N`
 * becomes for that one run (pgBackRest: process-max, the conf's value otherwise). A method not
 * listed copies over one connection (pg_basebackup), and --jobs on its physical backup is refused.
 */
export const METHOD_BACKUP_JOBS: Readonly<Record<string, string>> = {
  pgbackrest: 'process-max',
};
