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
  { name: 'dbdrill_pg_wal_bytes', type: 'gauge', help: 'Total size of pg_wal.', value: (m) => m.walBytes },
  {
    name: 'dbdrill_backup_last_complete_age_seconds',
    type: 'gauge',
    help: 'Seconds since the newest complete backup finished.',
    value: (m) => m.backupLastCompleteAgeSeconds,
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
  // One series per check, so an alert can name what is wrong without parsing text.
  const checkLines = reports.flatMap((r) =>
    r.checks.map((c) => `dbdrill_health_check_status{target="${escapeLabelValue(r.target)}",check="${escapeLabelValue(c.name)}"} ${statusRank(c.status)}`),
  );
  if (checkLines.length > 0) {
    out.push('# HELP dbdrill_health_check_status Each health check of the target: 0 OK, 1 WARN, 2 CRIT.', '# TYPE dbdrill_health_check_status gauge', ...checkLines);
  }
  return `${out.join('\n')}\n`;
}
