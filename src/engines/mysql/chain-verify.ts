import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../../repo/manifest.js';
import { Repository } from '../../repo/repository.js';
import { BINLOG_INFO_FILES, CHECKPOINTS_FILES, checkpointLsns, INCREMENTAL_TYPE, INFO_FILES, isSealedStream, parseBinlogInfo, parseInfoBinlogPos, type CheckpointLsns } from './backup-info.js';
import { lsnGapWords, MEMBER_DIR, resolveChain, TYPE_WORDS } from './chain.js';
import { verifyPhysical, type CheckOutcome } from './verify.js';

/**
 * Verify's checks of a chain, beside the checksums of each member's files (which verify already
 * reads): each member's own structure, and that the members link.
 */

function readLsns(dir: string): CheckpointLsns | undefined {
  const file = CHECKPOINTS_FILES.map((f) => join(dir, MEMBER_DIR, f)).find((p) => existsSync(p));
  return file ? checkpointLsns(readFileSync(file, 'utf8')) : undefined;
}

/**
 * A member's files as mariadb-backup left them: a full prepared (verifyPhysical), a diff or incr an
 * incremental copy whose LSN range and binlog position are the ones its manifest recorded.
 */
export function verifyChainMember(m: Manifest, dir: string): CheckOutcome {
  if (m.type === 'full') return verifyPhysical(m, dir);
  const method = 'mariadb-backup files';
  const lsns = readLsns(dir);
  if (!lsns) return { method, ok: false, detail: `${MEMBER_DIR}/xtrabackup_checkpoints is missing or has no from_lsn and to_lsn` };
  const problems: string[] = [];
  if (lsns.backupType !== INCREMENTAL_TYPE) problems.push(`backup_type is ${lsns.backupType}, not ${INCREMENTAL_TYPE}`);
  const want = m.mysql ?? {};
  if (want.fromLsn !== undefined && want.fromLsn !== lsns.fromLsn) problems.push(`from_lsn is ${lsns.fromLsn}, the manifest says ${want.fromLsn}`);
  if (want.toLsn !== undefined && want.toLsn !== lsns.toLsn) problems.push(`to_lsn is ${lsns.toLsn}, the manifest says ${want.toLsn}`);
  if (want.binlogFile !== undefined) {
    // Encrypted, xtrabackup_binlog_info is inside the stream; --extra-lsndir's xtrabackup_info names the position.
    const sealed = isSealedStream(m);
    const info = (sealed ? INFO_FILES : BINLOG_INFO_FILES).map((f) => join(dir, MEMBER_DIR, f)).find((p) => existsSync(p));
    const got = info ? (sealed ? parseInfoBinlogPos : parseBinlogInfo)(readFileSync(info, 'utf8')) : {};
    if (got.binlogFile !== want.binlogFile || got.binlogPosition !== want.binlogPosition) {
      problems.push(`the binlog position in the backup (${got.binlogFile ?? 'none'}:${got.binlogPosition ?? '-'}) differs from the manifest's`);
    }
  }
  if (problems.length > 0) return { method, ok: false, detail: problems.join('; ') };
  return { method, ok: true, detail: `backup_type = ${INCREMENTAL_TYPE}, LSN ${lsns.fromLsn} to ${lsns.toLsn}${want.binlogFile ? `, binlog ${want.binlogFile}:${want.binlogPosition}` : ''}` };
}

/**
 * The chain backup `id` needs, checked link by link: every member present and complete
 * (resolveChain), and each diff/incr starting, by its own checkpoints file, at the LSN where the
 * member before it ends by its own. Names the first member that breaks the chain.
 */
export function verifyChainLinks(repoRoot: string, manifests: readonly Manifest[], id: string): CheckOutcome {
  const method = 'chain links';
  const r = resolveChain(manifests, id);
  if (!r.ok) return { method, ok: false, detail: r.break.words };
  const repo = new Repository(repoRoot);
  let prior: { m: Manifest; lsns: CheckpointLsns } | undefined;
  for (const m of r.chain) {
    const lsns = readLsns(repo.backupDir(m.id));
    if (!lsns) return { method, ok: false, detail: `backup ${m.id} has no readable ${MEMBER_DIR}/xtrabackup_checkpoints` };
    if (prior) {
      const gap = lsnGapWords({ id: prior.m.id, toLsn: prior.lsns.toLsn }, { id: m.id, type: m.type, fromLsn: lsns.fromLsn });
      if (gap) return { method, ok: false, detail: gap };
    }
    prior = { m, lsns };
  }
  const words = r.chain.map((m) => `${TYPE_WORDS[m.type]} ${m.id}`).join(' → ');
  return { method, ok: true, detail: r.chain.length === 1 ? `${words} needs no other backup` : `${words}: each starts where the one before ends` };
}
