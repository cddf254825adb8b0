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

/** Settings only a method that runs its own tool reads (pgBackRest's process-max and start-fast). */
export const METHOD_SETTINGS: Readonly<Record<string, readonly string[]>> = {
  pgbackrest: ['processMax', 'checkpoint'],
};
