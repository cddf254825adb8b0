import type { Manifest, Verification } from '../../../repo/manifest.js';
import { currentDb, type BackupSet, type StanzaInfo } from './info.js';

/**
 * A pgBackRest backup set as a row of dbdrill's catalog: the Manifest shape the planner, window
 * and screens already read, plus the chain and pgBackRest's own sizes. pgBackRest keeps the files'
 * checksums in its own manifest, so `files` stays empty.
 */
export interface PgbackrestBackupRow extends Manifest {
  method: 'pgbackrest';
  /** The set this one was taken against; undefined for a full. */
  prior?: string;
  /** Every set a restore of this one reads, oldest first, this one excluded. */
  reference: string[];
  pgbackrest: {
    /** Bytes this set copied (the rest it references). */
    delta: number;
    /** Bytes in the repository for the whole restore, and for this set alone (compressed). */
    repoSize: number;
    repoDelta: number;
    /** Archive id of its WAL ("15-1"). */
    archiveId: string;
    /** pgBackRest found page checksum errors in the database while copying it. */
    pageChecksumError: boolean;
  };
}

/** What verify found wrong with a set (or a set it references); such a row becomes corrupt. */
export type Damage = Map<string, Verification>;

/**
 * pgBackRest records the database's clock right after backup stop, cut to whole seconds: the
 * stop point (where the backup becomes consistent) is strictly before that second ends. A
 * restore to an earlier time would stop before consistency, so the row's earliest restorable
 * moment is the next whole second.
 */
export function consistentAtOf(set: BackupSet): string {
  return new Date((set.timestamp.stop + 1) * 1000).toISOString();
}

function timelineOf(segment: string | undefined): number | undefined {
  return segment && /^[0-9A-F]{24}$/.test(segment) ? parseInt(segment.slice(0, 8), 16) : undefined;
}

export function backupRow(set: BackupSet, info: StanzaInfo, targetName: string, damage?: Damage): PgbackrestBackupRow {
  const db = info.db.find((d) => d.id === set.database.id) ?? currentDb(info);
  const timeline = timelineOf(set.archive.start);
  const broken = damage?.get(set.label);
  return {
    formatVersion: 1,
    id: set.label,
    target: targetName,
    engine: 'postgres',
    kind: 'physical',
    type: set.type,
    status: broken ? 'corrupt' : 'complete',
    tool: { name: 'pgbackrest', version: set.backrestVersion, argv: [] },
    serverVersion: db?.version ?? '',
    startedAt: new Date(set.timestamp.start * 1000).toISOString(),
    finishedAt: new Date(set.timestamp.stop * 1000).toISOString(),
    sizeBytes: set.info.size,
    files: [],
    format: 'pgbackrest',
    postgres: {
      ...(db ? { systemId: db.systemId } : {}),
      ...(set.lsn.start ? { startLsn: set.lsn.start } : {}),
      ...(set.lsn.stop ? { stopLsn: set.lsn.stop } : {}),
      ...(timeline !== undefined ? { timeline } : {}),
      ...(set.archive.start ? { walStart: set.archive.start } : {}),
      ...(set.archive.stop ? { walEnd: set.archive.stop } : {}),
      consistentAt: consistentAtOf(set),
    },
    ...(broken ? { verification: [broken] } : {}),
    method: 'pgbackrest',
    ...(set.prior ? { prior: set.prior } : {}),
    reference: set.reference,
    pgbackrest: {
      delta: set.info.delta,
      repoSize: set.info.repository.size,
      repoDelta: set.info.repository.delta,
      archiveId: db ? `${db.version}-${db.id}` : '',
      pageChecksumError: set.error,
    },
  };
}

/** Every set of the stanza as catalog rows, newest first (as `dbdrill catalog` lists backups). */
export function catalogRows(info: StanzaInfo, targetName: string, damage?: Damage): PgbackrestBackupRow[] {
  return info.backup.map((set) => backupRow(set, info, targetName, damage)).sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
}

/** The chain a restore of `label` reads, oldest first: its references, then itself. */
export function chainOf(rows: PgbackrestBackupRow[], label: string): PgbackrestBackupRow[] {
  const row = rows.find((r) => r.id === label);
  if (!row) return [];
  return [...row.reference.map((ref) => rows.find((r) => r.id === ref)).filter((r): r is PgbackrestBackupRow => r !== undefined), row];
}
