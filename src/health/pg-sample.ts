import type pg from 'pg';
import { DbdrillError } from '../errors.js';
import type { DiskView } from './local-disk.js';
import type { SlotSample } from './pg-slot-types.js';

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
  /** Bytes of the files waiting (*.ready): what a broken archiver leaves unprotected. */
  readyBytes: number;
  /** wal_segment_size. */
  walSegmentBytes: number;
  /** pg_current_wal_lsn() as a byte position (null on a standby): its rate is how fast WAL is written. */
  walLsnBytes: number | null;
  /** When the postmaster started: an archiver younger than that has been restarted. */
  postmasterStart: string;
  /**
   * The archiver's row in pg_stat_activity; null when no archiver runs. The archiver exits (FATAL)
   * when archive_command exits above 125 or dies from a signal, and the postmaster starts another
   * only when its loop next wakes: a missing or restarted archiver is the evidence that
   * pg_stat_archiver never records.
   */
  archiver: { pid: number; startedAt: string; waitEvent: string | null } | null;
  /** data_directory, as the server reports it (where pg_wal lives, unless it is a link elsewhere). */
  dataDirectory: string;
  /** The disk holding pg_wal, when it can be seen from here (the sampler fills it in). */
  walDisk?: DiskView;
  /** Physical replication slots (`dbdrill stream`'s among them); absent in samples taken before they were read. */
  slots?: SlotSample[];
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
  ready_bytes: string;
  wal_segment_bytes: string;
  wal_lsn_bytes: string | null;
  postmaster_start: Date;
  archiver_pid: number | null;
  archiver_start: Date | null;
  archiver_wait: string | null;
  data_directory: string;
  slots?: SlotSample[] | null;
}

/**
 * One query, so a sample is a consistent moment and costs one round trip (the console samples
 * every second). pg_ls_archive_statusdir and pg_ls_waldir need superuser or pg_monitor (which
 * also lets data_directory and the archiver's wait event be read).
 */
export const PG_SAMPLE_SQL = `
WITH w AS MATERIALIZED (SELECT name, size FROM pg_ls_waldir())
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
       (SELECT coalesce(sum(size), 0) FROM w) AS wal_bytes,
       r.ready_bytes,
       (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') AS wal_segment_bytes,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text END AS wal_lsn_bytes,
       pg_postmaster_start_time() AS postmaster_start,
       arch.pid AS archiver_pid, arch.backend_start AS archiver_start, arch.wait_event AS archiver_wait,
       current_setting('data_directory') AS data_directory,
       (SELECT coalesce(json_agg(json_build_object(
                 'name', s.slot_name, 'active', s.active, 'walStatus', s.wal_status,
                 'retainedBytes', CASE WHEN pg_is_in_recovery() OR s.restart_lsn IS NULL THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn) END,
                 'application', r.application_name,
                 'writeLagBytes', CASE WHEN pg_is_in_recovery() OR r.write_lsn IS NULL THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), r.write_lsn) END,
                 'writeLagSeconds', extract(epoch FROM r.write_lag),
                 'syncState', r.sync_state) ORDER BY s.slot_name), '[]'::json)
          FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
         WHERE s.slot_type = 'physical') AS slots
  FROM pg_stat_archiver a,
       LATERAL (SELECT count(*) AS ready_count,
                       (array_agg(s.name ORDER BY s.modification, s.name))[1] AS oldest_ready,
                       min(s.modification) AS oldest_ready_time,
                       coalesce(sum(w.size), 0) AS ready_bytes
                  FROM pg_ls_archive_statusdir() s
                  LEFT JOIN w ON w.name = left(s.name, -6)
                 WHERE s.name LIKE '%.ready') r
  LEFT JOIN LATERAL (SELECT pid, backend_start, wait_event FROM pg_stat_activity
                      WHERE backend_type = 'archiver' ORDER BY backend_start DESC LIMIT 1) arch ON true`;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
/** json numbers of numeric type arrive as numbers, or as strings from some drivers: one form. */
const num = (v: number | string | null): number | null => (v === null || v === undefined ? null : Number(v));

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
    readyBytes: Number(r.ready_bytes),
    walSegmentBytes: Number(r.wal_segment_bytes),
    walLsnBytes: r.wal_lsn_bytes === null ? null : Number(r.wal_lsn_bytes),
    postmasterStart: r.postmaster_start.toISOString(),
    archiver: r.archiver_pid === null ? null : { pid: r.archiver_pid, startedAt: iso(r.archiver_start) ?? r.at.toISOString(), waitEvent: r.archiver_wait },
    dataDirectory: r.data_directory,
    ...(r.slots ? { slots: r.slots.map((x) => ({ ...x, retainedBytes: num(x.retainedBytes), writeLagBytes: num(x.writeLagBytes), writeLagSeconds: num(x.writeLagSeconds) })) } : {}),
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
