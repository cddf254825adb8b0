/**
 * The engine registry: the one table keyed by engine name. src/ops asks it for a target's engine
 * (engineFor) and never compares engine names itself. An engine's module is loaded on first use
 * with a dynamic import, so a command that needs no engine (wal-push, --version) loads none, and
 * one that needs PostgreSQL never loads MySQL's.
 */
import type { Engine } from '../config/engines.js';
import { METHOD_BACKUP_JOBS } from '../config/methods.js';
import type { EngineModule } from './contract.js';

export type { EngineModule } from './contract.js';

/** What is known of an engine without loading it: enough for the checks made before a job starts. */
export interface EngineEntry {
  /** How sentences name it. */
  readonly label: string;
  /**
   * Its restores stop at whole seconds (binlog events), so a time target may say what to do with
   * the target second's transactions (--second).
   */
  readonly wholeSecondTimes: boolean;
  /**
   * How its continuous archive works: WAL segments pushed by archive_command (timelines,
   * segments) or binary logs pulled by binlog-sync. Windows, verify and words follow it.
   */
  readonly archive: 'wal' | 'binlog';
  /** How `target test` names its archiving setting. */
  readonly archivingWord: string;
  /** Physical backups form diff/incr chains that dbdrill links itself (mariadb-backup's LSNs). */
  readonly ownChains: boolean;
  /** The training scenarios run on its sandbox. */
  readonly training: boolean;
  /**
   * The system account the server's own restore_command runs as, which must be able to read an
   * archive fetched from a copy (PostgreSQL: wal-fetch as postgres); none when dbdrill replays
   * the archive itself (binlogs).
   */
  readonly archiveReader?: 'postgres' | 'mysql';
  /** What `dbdrill sandbox …` needs to name this engine (the default engine needs nothing). */
  readonly sandboxFlag: string;
  /** The backup options its tools would silently ignore, refused in one sentence (or undefined). */
  /** One sentence for a backup option the target's method would not use (method: the target's, native when absent). */
  refuseBackupOption(kind: 'logical' | 'physical', jobs: number | undefined, checkpoint: boolean, method?: string): string | undefined;
  load(): Promise<EngineModule>;
}

const ENGINES: Readonly<Record<Engine, EngineEntry>> = {
  postgres: {
    label: 'PostgreSQL',
    wholeSecondTimes: false,
    archive: 'wal',
    archivingWord: 'WAL archiving',
    ownChains: false,
    training: true,
    archiveReader: 'postgres',
    sandboxFlag: '',
    // pgBackRest runs its backup in process-max workers: --jobs sets them for the run (METHOD_BACKUP_JOBS).
    refuseBackupOption: (kind, jobs, _checkpoint, method) =>
      jobs !== undefined && kind === 'physical' && METHOD_BACKUP_JOBS[method ?? 'native'] === undefined
        ? '--jobs does not apply to a physical PostgreSQL backup: pg_basebackup copies over one connection; drop --jobs, or use --kind logical for a parallel pg_dump.'
        : undefined,
    load: async () => (await import('./postgres/index.js')).postgresEngine,
  },
  mysql: {
    label: 'MySQL/MariaDB',
    wholeSecondTimes: true,
    archive: 'binlog',
    archivingWord: 'binary log',
    ownChains: true,
    training: false,
    sandboxFlag: ' --engine mysql',
    refuseBackupOption: (kind, jobs, checkpoint) =>
      checkpoint
        ? '--checkpoint is for PostgreSQL (pg_basebackup); mariadb-backup has no checkpoint to choose, so drop --checkpoint.'
        : jobs !== undefined && jobs > 1 && kind === 'logical'
          ? '--jobs does not apply to a MySQL/MariaDB logical backup: mariadb-dump reads over one connection; drop --jobs, or use --kind physical (mariadb-backup --parallel).'
          : undefined,
    load: async () => (await import('./mysql/index.js')).mysqlEngine,
  },
};

const loaded = new Map<Engine, Promise<EngineModule>>();

/** The registry's row for an engine, without loading the engine. */
export function engineEntry(engine: Engine): EngineEntry {
  const e = ENGINES[engine];
  if (!e) throw new Error(`no engine module for "${String(engine)}"`);
  return e;
}

/** The engine module of a target (or a manifest: anything that names its engine), loaded once. */
export function engineFor(of: { engine: Engine }): Promise<EngineModule> {
  let p = loaded.get(of.engine);
  if (!p) {
    p = engineEntry(of.engine).load();
    loaded.set(of.engine, p);
  }
  return p;
}

/** --second is about binlog events' whole seconds; an engine whose restores keep microseconds refuses it. */
export function secondNotFor(target: { name: string; engine: Engine }): string | undefined {
  const e = engineEntry(target.engine);
  if (e.wholeSecondTimes) return undefined;
  return `--second is for MySQL/MariaDB time targets (binlog events carry whole seconds); target "${target.name}" is ${e.label}, whose restores keep microseconds, so leave it out.`;
}
