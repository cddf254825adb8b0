import type { BackupType } from '../repo/manifest.js';
import type { Engine } from './engines.js';

/** What the capability question needs of a target: its engine and (once targets have one) its method. */
export interface MethodOf {
  engine: Engine;
  method?: string;
}

/**
 * The backup types a target's method can take: the one place policy validation, tick and the plan
 * ask. Native PostgreSQL (pg_basebackup) takes only full backups; pgBackRest and MySQL/MariaDB
 * physical chains (mariadb-backup --incremental) take diff and incr too. When the engine contract
 * lands this becomes one call into the engine registry.
 */
export function backupTypesOf(t: MethodOf): readonly BackupType[] {
  if (t.engine === 'postgres') return t.method === 'pgbackrest' ? ['full', 'diff', 'incr'] : ['full'];
  return ['full', 'diff', 'incr'];
}

/** "postgres, native method": how a sentence names what the target runs. */
export function methodWords(t: MethodOf): string {
  return `${t.engine === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'}, ${t.method ?? 'native'} method`;
}
