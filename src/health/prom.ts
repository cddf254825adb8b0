import type { HealthMetrics, HealthReport } from './report.js';
import { statusRank } from './status.js';

/**
 * The Prometheus text exposition format, for node_exporter's textfile collector: each family once,
 * with # HELP and # TYPE before its samples, one sample per target (so one file can hold several
 * targets). Unknown values are left out rather than written as NaN, so alert rules see "absent".
 */
interface Family {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  value: (m: HealthMetrics) => number | null;
}

const FAMILIES: Family[] = [
  { name: 'dbdrill_health_status', type: 'gauge', help: 'Overall health of the target: 0 OK, 1 WARN, 2 CRIT.', value: (m) => m.status },
  { name: 'dbdrill_server_up', type: 'gauge', help: 'Whether the last sample reached the database server (1) or not (0).', value: (m) => m.serverUp },
  {
    name: 'dbdrill_archive_last_success_age_seconds',
    type: 'gauge',
    help: 'Seconds since the last WAL segment was archived (PostgreSQL) or the newest archived binlog was written (MySQL).',
    value: (m) => m.archiveLastSuccessAgeSeconds,
  },
  {
    name: 'dbdrill_archive_backlog_segments',
    type: 'gauge',
    help: 'Files waiting to be archived: .ready files in pg_wal/archive_status, or closed binlogs not in the archive.',
    value: (m) => m.archiveBacklog,
  },
  {
    name: 'dbdrill_archive_failed_total',
    type: 'counter',
    help: 'pg_stat_archiver.failed_count. Misses archive_command exits above 125 and signals: watch the backlog too.',
    value: (m) => m.archiveFailedTotal,
  },
  { name: 'dbdrill_archive_rpo_estimate_seconds', type: 'gauge', help: 'Estimated age of the oldest change not yet archived.', value: (m) => m.rpoEstimateSeconds },
  {
    name: 'dbdrill_archive_broken',
    type: 'gauge',
    help: 'Definite evidence that archiving is broken, not slow (1): a failed attempt, no or a restarted archiver, no progress for archiveStall, a failed or overdue binlog-sync.',
    value: (m) => m.archiveBroken,
  },
  {
    name: 'dbdrill_archive_stall_seconds',
    type: 'gauge',
    help: 'PostgreSQL: seconds without an archived segment while files wait (0 when nothing waits).',
    value: (m) => m.archiveStallSeconds,
  },
  {
    name: 'dbdrill_archive_oldest_waiting_age_seconds',
    type: 'gauge',
    help: 'How long the oldest file waiting to be archived has waited (0 when nothing waits).',
    value: (m) => m.archiveOldestWaitingAgeSeconds,
  },
  { name: 'dbdrill_archive_backlog_bytes', type: 'gauge', help: 'Bytes of the files waiting to be archived.', value: (m) => m.archiveBacklogBytes },
  { name: 'dbdrill_archiver_up', type: 'gauge', help: 'PostgreSQL: whether an archiver process runs (1) or not (0).', value: (m) => m.archiverUp },
  {
    name: 'dbdrill_archiver_start_timestamp_seconds',
    type: 'gauge',
    help: 'PostgreSQL: when the archiver process started (Unix time); it changes when the archiver exits on an archive_command exit above 125 or a signal.',
    value: (m) => m.archiverStartTimestamp,
  },
  {
    name: 'dbdrill_log_write_bytes_per_second',
    type: 'gauge',
    help: 'WAL (PostgreSQL) or binlog (MySQL) bytes written per second: how fast an unarchived backlog grows.',
    value: (m) => m.logWriteBytesPerSecond,
  },
  {
    name: 'dbdrill_log_disk_free_bytes',
    type: 'gauge',
    help: 'Free bytes on the disk holding pg_wal or the binlogs (only when the server is on this machine).',
    value: (m) => m.logDiskFreeBytes,
  },
  {
    name: 'dbdrill_log_disk_full_in_seconds',
    type: 'gauge',
    help: 'Seconds until the disk holding pg_wal or the binlogs is full at the current write rate (only when it is local and something is written).',
    value: (m) => m.logDiskFullInSeconds,
  },
  {
    name: 'dbdrill_binlog_sync_last_run_timestamp_seconds',
    type: 'gauge',
    help: 'MySQL: when binlog-sync last ran (Unix time), as it recorded in the config directory.',
    value: (m) => m.binlogSyncLastRunTimestamp,
  },
  { name: 'dbdrill_binlog_sync_last_run_ok', type: 'gauge', help: 'MySQL: whether binlog-sync\'s last run succeeded (1) or failed (0).', value: (m) => m.binlogSyncLastRunOk },
  { name: 'dbdrill_pg_wal_bytes', type: 'gauge', help: 'Total size of pg_wal.', value: (m) => m.walBytes },
  {
    name: 'dbdrill_archive_orphan_temp_files',
    type: 'gauge',
    help: 'PostgreSQL: temp files left in the WAL archive by killed wal-push runs (older than any running push).',
    value: (m) => m.archiveOrphanTempFiles,
  },
  {
    name: 'dbdrill_backup_last_complete_age_seconds',
    type: 'gauge',
    help: 'Seconds since the newest complete backup finished.',
    value: (m) => m.backupLastCompleteAgeSeconds,
  },
  { name: 'dbdrill_stream_up', type: 'gauge', help: 'PostgreSQL: whether dbdrill stream (pg_receivewal) is connected to its slot (1) or not (0).', value: (m) => m.streamUp },
  { name: 'dbdrill_stream_lag_bytes', type: 'gauge', help: 'PostgreSQL: WAL the server wrote that the stream has not yet written into the repository (its slot\'s backlog when it is not connected).', value: (m) => m.streamLagBytes },
  { name: 'dbdrill_stream_lag_seconds', type: 'gauge', help: 'PostgreSQL: how long a commit takes to reach the repository through the stream (write lag).', value: (m) => m.streamLagSeconds },
  {
    name: 'dbdrill_stream_slot_retained_bytes',
    type: 'gauge',
    help: 'PostgreSQL: WAL the stream\'s replication slot keeps in pg_wal; it grows without bound while the stream is stopped.',
    value: (m) => m.streamSlotRetainedBytes,
  },
  {
    name: 'dbdrill_recoverable_window_start_timestamp_seconds',
    type: 'gauge',
    help: 'Earliest moment the target can be restored to (Unix time).',
    value: (m) => m.windowStart,
  },
  {
    name: 'dbdrill_recoverable_window_end_timestamp_seconds',
    type: 'gauge',
    help: 'Latest moment the target can be restored to (Unix time).',
    value: (m) => m.windowEnd,
  },
  {
    name: 'dbdrill_health_sample_timestamp_seconds',
    type: 'gauge',
    help: 'When these values were sampled (Unix time): alert when it stops moving.',
    value: (m) => m.sampleTimestamp,
  },
];

/** Label values escape backslash, double quote and newline, as the format requires. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function renderPromTextfile(reports: readonly HealthReport[]): string {
  const out: string[] = [];
  for (const f of FAMILIES) {
    const lines: string[] = [];
    for (const r of reports) {
      const v = f.value(r.metrics);
      if (v === null) continue;
      lines.push(`${f.name}{target="${escapeLabelValue(r.target)}"} ${formatValue(v)}`);
    }
    if (lines.length === 0) continue;
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...lines);
  }
  // One series per kind of evidence, so an alert can name the fault without parsing text.
  const evidenceLines = reports.flatMap((r) =>
    Object.entries(r.metrics.archiveEvidence ?? {}).map(([kind, v]) => `dbdrill_archive_evidence{target="${escapeLabelValue(r.target)}",kind="${escapeLabelValue(kind)}"} ${v}`),
  );
  if (evidenceLines.length > 0) {
    out.push('# HELP dbdrill_archive_evidence Each kind of evidence that archiving is broken: 1 present now, 0 not.', '# TYPE dbdrill_archive_evidence gauge', ...evidenceLines);
  }
  // One series per check, so an alert can name what is wrong without parsing text.
  const checkLines = reports.flatMap((r) =>
    r.checks.map((c) => `dbdrill_health_check_status{target="${escapeLabelValue(r.target)}",check="${escapeLabelValue(c.name)}"} ${statusRank(c.status)}`),
  );
  if (checkLines.length > 0) {
    out.push('# HELP dbdrill_health_check_status Each health check of the target: 0 OK, 1 WARN, 2 CRIT.', '# TYPE dbdrill_health_check_status gauge', ...checkLines);
  }
  return `${out.join('\n')}\n`;
}
