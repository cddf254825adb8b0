import type { Engine } from '../config/target.js';
import type { FileSum } from './checksum.js';

export type BackupKind = 'logical' | 'physical';
export type BackupType = 'full' | 'diff' | 'incr';
export type BackupStatus = 'running' | 'complete' | 'failed';

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
