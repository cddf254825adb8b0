import type { Engine } from '../config/engines.js';
import type { FileSum } from './checksum.js';

export type BackupKind = 'logical' | 'physical';
export type BackupType = 'full' | 'diff' | 'incr';
/**
 * corrupt: it completed, but a file no longer matches its checksum or the tool's own check of it
 * failed (verify, or a restore reading it); never offered for restore until verify passes again.
 * expiring: prune decided to remove it and may have removed part of its files already; nothing
 * restores from it, and the next prune finishes the removal (src/repo/expire.ts).
 */
export type BackupStatus = 'running' | 'complete' | 'failed' | 'corrupt' | 'expiring';

export interface TableStat {
  /** schema.table */
  table: string;
  rows: number;
  /** Order-independent digest of the table's rows, comparable after a restore. */
  digest?: string;
}

export interface Verification {
  at: string;
  method: string;
  ok: boolean;
  detail: string;
}

/** One backup's self-description; see "The repository is the catalog" in DESIGN.md. */
export interface Manifest {
  formatVersion: 1;
  id: string;
  target: string;
  engine: Engine;
  kind: BackupKind;
  type: BackupType;
  status: BackupStatus;
  tool: { name: string; version: string; argv: string[] };
  serverVersion: string;
  startedAt: string;
  finishedAt?: string;
  sizeBytes: number;
  files: FileSum[];
  /** The files were encrypted with age as they were written, to these public keys. */
  encryption?: { with: 'age'; recipients: string[] };
  /**
   * The backup this one was taken against (diff: its full; incr: the newest member of its chain
   * then); absent for a full. Restoring this backup needs that one, and so on down to a full.
   */
  prior?: string;
  /** pg_dump format or other tool-specific layout notes. */
  format?: string;
  database?: string;
  postgres?: {
    systemId?: string;
    startLsn?: string;
    stopLsn?: string;
    timeline?: number;
    walStart?: string;
    walEnd?: string;
    /** Server time when the backup became consistent (its earliest restore point). */
    consistentAt?: string;
    /** The cluster's WAL segment size in bytes (initdb --wal-segsize; 16 MiB unless chosen). */
    walSegmentBytes?: number;
  };
  mysql?: {
    binlogFile?: string;
    binlogPosition?: number;
    gtid?: string;
    /**
     * Physical backups: a moment at or after the one the files are consistent at (the binlog
     * position above); a point-in-time restore from the backup reaches no earlier moment.
     */
    consistentAt?: string;
    /**
     * mariadb-backup backups: the InnoDB checkpoint LSNs the copy covers, from its
     * xtrabackup_checkpoints (decimal text: LSNs are 64-bit). A diff's or incr's fromLsn is its
     * prior's toLsn; lastLsn is the end of the redo log copied with it.
     */
    fromLsn?: string;
    toLsn?: string;
    lastLsn?: string;
  };
  tables?: TableStat[];
  error?: string;
  verification?: Verification[];
  /** The process writing a running backup: a "running" manifest whose process is gone was interrupted. */
  owner?: BackupOwner;
}

export interface BackupOwner {
  pid: number;
  host: string;
  /** When that process started (ISO 8601). */
  startedAt: string;
  /** processStartToken of the pid (Linux): tells the owner from a later process given the same pid. */
  processStart?: string;
}

export const KIND_LETTER: Record<BackupKind, Record<BackupType, string>> = {
  logical: { full: 'L', diff: 'L', incr: 'L' },
  physical: { full: 'F', diff: 'D', incr: 'I' },
};

/** Ids sort by time: 20261124T143000Z-F. */
export function backupId(at: Date, kind: BackupKind, type: BackupType): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${KIND_LETTER[kind][type]}`;
}

export const ID_RE = /^\d{8}T\d{6}Z-[FDIL]$/;

/**
 * Why a backup is corrupt, from the first failed check of its newest failing verification run
 * (the checksum before the tool's reading): "verify at 2026-11-24 14:30:00Z: base/base.tar: checksum differs".
 */
export function corruptReason(m: Manifest): string {
  const failed = (m.verification ?? []).filter((x) => !x.ok);
  const at = failed.at(-1)?.at;
  const v = failed.find((x) => x.at === at);
  return v ? `verify at ${v.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}: ${v.detail}` : 'marked corrupt';
}
