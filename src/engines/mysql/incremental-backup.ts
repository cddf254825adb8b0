import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DbdrillError } from '../../errors.js';
import { markCorrupt } from '../../repo/backup-files.js';
import { describeMismatch, verifyFiles } from '../../repo/checksum.js';
import type { Manifest } from '../../repo/manifest.js';
import { Repository } from '../../repo/repository.js';
import { CHECKPOINTS_FILES, checkpointLsns, INCREMENTAL_TYPE, type CheckpointLsns } from './backup-info.js';
import { MEMBER_DIR, TYPE_WORDS } from './chain.js';

/** The backup a diff or incr is taken against (chainBaseFor picks it), and where it lies. */
export interface ChainBase {
  manifest: Manifest;
  /** Its directory in the repository (Repository.backupDir). */
  dir: string;
}

/** The recorded checkpoints file of a member, relative to its backup directory. */
export function checkpointsRecord(m: Manifest): Manifest['files'][number] | undefined {
  return m.files.find((f) => CHECKPOINTS_FILES.some((name) => f.path === `${MEMBER_DIR}/${name}`));
}

/**
 * The LSN range of the base, read from its checkpoints file once that file has matched the sha256
 * its manifest recorded: mariadb-backup --incremental-basedir reads only this file, and the LSN
 * in it decides which pages the new backup copies. A file that differs marks the base corrupt.
 */
export async function baseCheckpoints(base: ChainBase, type: 'diff' | 'incr'): Promise<CheckpointLsns> {
  const m = base.manifest;
  const what = `backup ${m.id}, which this ${TYPE_WORDS[type]} backup is taken against,`;
  const record = checkpointsRecord(m);
  if (!record) throw new DbdrillError('failed', `${cap(what)} records no ${MEMBER_DIR}/xtrabackup_checkpoints, so the LSN to copy from is unknown; take a full backup.`, { base: m.id });
  const [bad] = await verifyFiles(base.dir, [record]);
  if (bad) {
    const detail = `${describeMismatch(bad)} (found by a ${TYPE_WORDS[type]} backup)`;
    let marked = 'it is now marked corrupt';
    try {
      markCorrupt(new Repository(dirname(dirname(base.dir))), m.id, detail);
    } catch (e) {
      marked = `it could not be marked corrupt (${(e as Error).message})`;
    }
    throw new DbdrillError('failed', `${cap(what)} is damaged: ${describeMismatch(bad)}; ${marked}, so take a full backup.`, { base: m.id, file: bad.path });
  }
  const lsns = checkpointLsns(readFileSync(join(base.dir, record.path), 'utf8'));
  if (!lsns) throw new DbdrillError('failed', `${cap(what)} has a ${record.path} without from_lsn and to_lsn; take a full backup.`, { base: m.id });
  if (m.mysql?.toLsn !== undefined && m.mysql.toLsn !== lsns.toLsn) {
    throw new DbdrillError('failed', `${cap(what)} ends at LSN ${lsns.toLsn} by its files but ${m.mysql.toLsn} by its manifest; verify it, or take a full backup.`, { base: m.id });
  }
  return lsns;
}

/** mariadb-backup reads the base's checkpoints file there; it never writes into that directory. */
export function incrementalArgs(base: ChainBase): string[] {
  return [`--incremental-basedir=${join(base.dir, MEMBER_DIR)}`];
}

/**
 * What the tool wrote must be an incremental starting exactly where its base ended: anything else
 * is a backup no restore could apply, so it fails here rather than at a restore.
 */
export function checkIncremental(ours: CheckpointLsns | undefined, base: CheckpointLsns, baseId: string): void {
  if (!ours) throw new DbdrillError('failed', `mariadb-backup wrote no readable ${MEMBER_DIR}/xtrabackup_checkpoints (from_lsn, to_lsn), so the backup cannot be chained.`);
  if (ours.backupType !== INCREMENTAL_TYPE) throw new DbdrillError('failed', `mariadb-backup wrote backup_type = ${ours.backupType}, not ${INCREMENTAL_TYPE}, although it was given a base backup.`);
  if (ours.fromLsn !== base.toLsn) {
    throw new DbdrillError('failed', `mariadb-backup copied from LSN ${ours.fromLsn}, but backup ${baseId} it was taken against ends at LSN ${base.toLsn}, so the two would not link.`);
  }
  // A server whose log is behind its base's end runs on another data directory (re-created or
  // restored since): its pages are not the base's plus changes, and a chain of them would be garbage.
  if (BigInt(ours.toLsn) < BigInt(ours.fromLsn)) {
    throw new DbdrillError(
      'failed',
      `The server's InnoDB log ends at LSN ${ours.toLsn}, before LSN ${ours.fromLsn} where backup ${baseId} ended, so its data directory was replaced since that backup; take a full backup.`,
    );
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
