import type { HealthThresholds } from '../config/health-settings.js';
import type { Engine } from '../config/target.js';
import type { BackupView } from './backup-checks.js';
import type { DiskView } from './local-disk.js';
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
  /** 1 when there is definite evidence that archiving is broken (not slow). */
  archiveBroken: 0 | 1 | null;
  /** Each kind of evidence the engine knows, 1 when present now (ARCHIVE_EVIDENCE_KINDS). */
  archiveEvidence: Record<string, 0 | 1> | null;
  /** Seconds without progress while files wait (PostgreSQL). */
  archiveStallSeconds: number | null;
  /** How long the oldest waiting file has waited. */
  archiveOldestWaitingAgeSeconds: number | null;
  archiveBacklogBytes: number | null;
  /** PostgreSQL: whether an archiver process runs, and since when (Unix seconds): a change is a restart. */
  archiverUp: 0 | 1 | null;
  archiverStartTimestamp: number | null;
  /** WAL (PostgreSQL) or binlog (MySQL) bytes written per second: how fast an unarchived backlog grows. */
  logWriteBytesPerSecond: number | null;
  /** The disk holding pg_wal or the binlogs, when it is local: free bytes, and seconds until full at that rate. */
  logDiskFreeBytes: number | null;
  logDiskFullInSeconds: number | null;
  /** MySQL: binlog-sync's newest recorded run (Unix seconds) and whether it succeeded. */
  binlogSyncLastRunTimestamp: number | null;
  binlogSyncLastRunOk: 0 | 1 | null;
  walBytes: number | null;
  /** PostgreSQL: temp files killed wal-push runs left in the archive, old enough to be orphans. */
  archiveOrphanTempFiles: number | null;
  backupLastCompleteAgeSeconds: number | null;
  /** PostgreSQL `dbdrill stream`: whether its receiver is connected, how far behind, what its slot retains (null: no stream slot). */
  streamUp: 0 | 1 | null;
  streamLagBytes: number | null;
  streamLagSeconds: number | null;
  streamSlotRetainedBytes: number | null;
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
  /** PostgreSQL: orphan temp files in the WAL archive (src/wal/orphans.ts). */
  orphanTemps?: number;
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
const unix = (iso: string | null | undefined): number | null => (iso ? Date.parse(iso) / 1000 : null);
const bit = (b: boolean | undefined): 0 | 1 | null => (b === undefined ? null : b ? 1 : 0);

/** The evidence kinds exported per engine (all of them, 0 or 1, so alert rules see them absent only when unknown). */
export const ARCHIVE_EVIDENCE_KINDS = {
  postgres: ['failing', 'archiver-down', 'archiver-restarted', 'stalled'],
  mysql: ['sync-failing', 'sync-overdue'],
} as const;

function evidenceFlags(kinds: readonly string[], present: readonly { kind: string }[]): Record<string, 0 | 1> {
  return Object.fromEntries(kinds.map((k) => [k, present.some((e) => e.kind === k) ? 1 : 0]));
}

function diskFree(d: DiskView | null | undefined): number | null {
  return d && !('unknown' in d) ? d.freeBytes : null;
}

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
    archiveBroken: bit(a ? a.broken : b?.broken),
    archiveEvidence: a ? evidenceFlags(ARCHIVE_EVIDENCE_KINDS.postgres, a.evidence) : b ? evidenceFlags(ARCHIVE_EVIDENCE_KINDS.mysql, b.evidence) : null,
    archiveStallSeconds: a ? round(a.stallSeconds ?? 0) : null,
    archiveOldestWaitingAgeSeconds: a ? round(a.oldestReadyAgeSeconds ?? 0) : b?.behindSince ? round((Date.parse(b.at) - Date.parse(b.behindSince)) / 1000) : b ? 0 : null,
    archiveBacklogBytes: a ? a.backlogBytes : b ? b.pendingBytes : null,
    archiverUp: a ? (a.archiver ? 1 : 0) : null,
    archiverStartTimestamp: unix(a?.archiver?.startedAt),
    logWriteBytesPerSecond: round(a ? a.walGrowth.bytesPerSecond : b?.binlogGrowthBytesPerSecond),
    logDiskFreeBytes: diskFree(a ? a.walDisk : b?.binlogDisk),
    logDiskFullInSeconds: round(a ? a.diskFullInSeconds : b?.diskFullInSeconds),
    binlogSyncLastRunTimestamp: unix(b?.lastSync?.startedAt),
    binlogSyncLastRunOk: b?.lastSync ? (b.lastSync.ok ? 1 : 0) : null,
    walBytes: a ? a.walBytes : null,
    archiveOrphanTempFiles: p.orphanTemps ?? null,
    backupLastCompleteAgeSeconds: round(p.backup.newestComplete?.ageSeconds),
    streamUp: a?.stream ? (a.stream.running ? 1 : 0) : null,
    streamLagBytes: a?.stream?.lagBytes ?? null,
    streamLagSeconds: round(a?.stream?.lagSeconds),
    streamSlotRetainedBytes: a?.stream?.retainedBytes ?? null,
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
