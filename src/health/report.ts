import type { HealthThresholds } from '../config/health-settings.js';
import type { Engine } from '../config/target.js';
import type { BackupView } from './backup-checks.js';
import type { BinlogView } from './mysql-derive.js';
import type { PgArchiveView } from './pg-derive.js';
import { statusRank, worst, type HealthCheck, type HealthStatus } from './status.js';

/** One point of the bounded history the console draws sparklines from. */
export interface HealthPoint {
  at: string;
  status: HealthStatus;
  /** .ready files (PostgreSQL) or unarchived closed binlogs (MySQL); null when unreachable. */
  backlog: number | null;
  lastSuccessAgeSeconds: number | null;
  ratePerMinute: number | null;
  failedCount: number | null;
}

/** The numbers the Prometheus textfile exports; null means "unknown", and the line is omitted. */
export interface HealthMetrics {
  status: 0 | 1 | 2;
  serverUp: 0 | 1;
  archiveLastSuccessAgeSeconds: number | null;
  archiveBacklog: number | null;
  archiveFailedTotal: number | null;
  rpoEstimateSeconds: number | null;
  walBytes: number | null;
  backupLastCompleteAgeSeconds: number | null;
  /** Unix seconds; null until src/pitr computes the recoverable window (see ops/health.ts). */
  windowStart: number | null;
  windowEnd: number | null;
  sampleTimestamp: number;
}

export interface HealthReport {
  target: string;
  engine: Engine;
  /** When the sample was taken (this machine's clock). */
  at: string;
  /** The worst of the checks. */
  status: HealthStatus;
  checks: HealthCheck[];
  server: { reachable: boolean; version?: string; systemId?: string; error?: string };
  /** PostgreSQL targets. */
  archive?: PgArchiveView;
  /** MySQL/MariaDB targets. */
  binlog?: BinlogView;
  backup: BackupView;
  /** The recoverable window, when a provider computed one. */
  window?: { start: string; end: string };
  thresholds: HealthThresholds;
  metrics: HealthMetrics;
  /** The last samples, oldest first (bounded; the console's sparkline). */
  history: HealthPoint[];
}

export interface ReportParts {
  target: string;
  engine: Engine;
  at: string;
  checks: HealthCheck[];
  server: HealthReport['server'];
  archive?: PgArchiveView;
  binlog?: BinlogView;
  backup: BackupView;
  window?: { start: string; end: string };
  thresholds: HealthThresholds;
}

const round = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000);

/** Puts the parts together: overall status, metrics and this sample's history point. */
export function assembleReport(p: ReportParts, history: readonly HealthPoint[]): HealthReport {
  const status = worst(p.checks.map((c) => c.status));
  const a = p.archive;
  const b = p.binlog;
  const metrics: HealthMetrics = {
    status: statusRank(status),
    serverUp: p.server.reachable ? 1 : 0,
    archiveLastSuccessAgeSeconds: round(a ? a.lastSuccessAgeSeconds : b?.newestArchivedAgeSeconds),
    archiveBacklog: a ? a.backlog : b ? b.pending.length + (b.currentBehind ? 1 : 0) : null,
    archiveFailedTotal: a ? a.failedCount : null,
    rpoEstimateSeconds: round(a?.rpo.seconds),
    walBytes: a ? a.walBytes : null,
    backupLastCompleteAgeSeconds: round(p.backup.newestComplete?.ageSeconds),
    windowStart: p.window ? Date.parse(p.window.start) / 1000 : null,
    windowEnd: p.window ? Date.parse(p.window.end) / 1000 : null,
    sampleTimestamp: Date.parse(p.at) / 1000,
  };
  const point: HealthPoint = {
    at: p.at,
    status,
    backlog: metrics.archiveBacklog,
    lastSuccessAgeSeconds: metrics.archiveLastSuccessAgeSeconds,
    ratePerMinute: round(a?.ratePerMinute),
    failedCount: metrics.archiveFailedTotal,
  };
  return { ...p, status, metrics, history: [...history, point] };
}
