import type pg from 'pg';
import { DbdrillError } from '../errors.js';

/**
 * One look at a PostgreSQL server's WAL archiving. Times are ISO 8601 strings from the server's
 * clock (the .ready files' mtimes come from the same host), so ages computed from `at` are not
 * skewed by the clock of the machine dbdrill runs on.
 */
export interface PgSample {
  /** Server time of the sample (now()). */
  at: string;
  systemId: string;
  serverVersionNum: number;
  inRecovery: boolean;
  archiveMode: string;
  archiveCommand: string;
  /** PostgreSQL 15+: a module that replaces archive_command when set. */
  archiveLibrary: string;
  /** 0 = off: a segment is closed only when full. */
  archiveTimeoutSeconds: number;
  // pg_stat_archiver. Blind spot: an archive_command that exits above 125 or dies from a signal
  // makes the archiver exit (FATAL) before it counts the failure, so failedCount stays put.
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedTime: string | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedTime: string | null;
  statsReset: string | null;
  /** Files in pg_wal/archive_status waiting for the archiver (*.ready): segments, history files. */
  readyCount: number;
  /** The longest-waiting one, without ".ready", and when it was marked ready (its mtime). */
  oldestReady: string | null;
  oldestReadyTime: string | null;
  /** The segment being written now (null on a standby). */
  currentWal: string | null;
  /** Total size of pg_wal: grows without bound when archiving stalls. */
  walBytes: number;
}

interface Row {
  at: Date;
  system_id: string;
  version_num: string;
  in_recovery: boolean;
  archive_mode: string;
  archive_command: string;
  archive_library: string;
  archive_timeout: string | null;
  archived_count: string;
  last_archived_wal: string | null;
  last_archived_time: Date | null;
  failed_count: string;
  last_failed_wal: string | null;
  last_failed_time: Date | null;
  stats_reset: Date | null;
  ready_count: string;
  oldest_ready: string | null;
  oldest_ready_time: Date | null;
  current_wal: string | null;
  wal_bytes: string;
}

/**
 * One query, so a sample is a consistent moment and costs one round trip (the console samples
 * every second). pg_ls_archive_statusdir and pg_ls_waldir need superuser or pg_monitor.
 */
export const PG_SAMPLE_SQL = `
SELECT now() AS at,
       (SELECT system_identifier::text FROM pg_control_system()) AS system_id,
       current_setting('server_version_num') AS version_num,
       pg_is_in_recovery() AS in_recovery,
       current_setting('archive_mode') AS archive_mode,
       current_setting('archive_command') AS archive_command,
       coalesce(current_setting('archive_library', true), '') AS archive_library,
       (SELECT setting FROM pg_settings WHERE name = 'archive_timeout') AS archive_timeout,
       a.archived_count, a.last_archived_wal, a.last_archived_time,
       a.failed_count, a.last_failed_wal, a.last_failed_time, a.stats_reset,
       r.ready_count, r.oldest_ready, r.oldest_ready_time,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END AS current_wal,
       (SELECT coalesce(sum(size), 0) FROM pg_ls_waldir()) AS wal_bytes
  FROM pg_stat_archiver a,
       LATERAL (SELECT count(*) AS ready_count,
                       (array_agg(name ORDER BY modification, name))[1] AS oldest_ready,
                       min(modification) AS oldest_ready_time
                  FROM pg_ls_archive_statusdir()
                 WHERE name LIKE '%.ready') r`;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function pgSampleOf(r: Row): PgSample {
  return {
    at: r.at.toISOString(),
    systemId: r.system_id,
    serverVersionNum: Number(r.version_num),
    inRecovery: r.in_recovery,
    archiveMode: r.archive_mode,
    archiveCommand: r.archive_command,
    archiveLibrary: r.archive_library,
    archiveTimeoutSeconds: Number(r.archive_timeout ?? 0),
    archivedCount: Number(r.archived_count),
    lastArchivedWal: r.last_archived_wal,
    lastArchivedTime: iso(r.last_archived_time),
    failedCount: Number(r.failed_count),
    lastFailedWal: r.last_failed_wal,
    lastFailedTime: iso(r.last_failed_time),
    statsReset: iso(r.stats_reset),
    readyCount: Number(r.ready_count),
    oldestReady: r.oldest_ready ? r.oldest_ready.replace(/\.ready$/, '') : null,
    oldestReadyTime: iso(r.oldest_ready_time),
    currentWal: r.current_wal,
    walBytes: Number(r.wal_bytes),
  };
}

/** Takes one sample; a missing privilege becomes one sentence naming the grant that fixes it. */
export async function samplePostgres(client: Pick<pg.Client, 'query'>, targetName: string): Promise<PgSample> {
  try {
    const { rows } = await client.query<Row>(PG_SAMPLE_SQL);
    return pgSampleOf(rows[0]!);
  } catch (e) {
    if ((e as { code?: string }).code === '42501') {
      throw new DbdrillError(
        'invalid-input',
        `The user of target "${targetName}" may not read the WAL archive status (${(e as Error).message}); GRANT pg_monitor TO that user.`,
        { target: targetName },
      );
    }
    throw e;
  }
}
