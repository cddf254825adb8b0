import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointLsns } from '../src/engines/mysql/backup-info.js';
import { chainBaseFor, chainForRestore, dependentsOf, lsnGapWords, resolveChain } from '../src/engines/mysql/chain.js';
import { verifyChainLinks, verifyChainMember } from '../src/engines/mysql/chain-verify.js';
import { checkIncremental } from '../src/engines/mysql/incremental-backup.js';
import { DbdrillError } from '../src/errors.js';
import type { BackupType, Manifest } from '../src/repo/manifest.js';
import { parseManifest } from '../src/repo/manifest-schema.js';

const FIX = join(import.meta.dirname, '../fixtures/mariadb-backup');

/** A physical MariaDB backup's manifest, as the catalog reads it; minute `n` of one day gives its id. */
function member(n: number, type: BackupType, extra: Partial<Manifest> & { from?: string; to?: string } = {}): Manifest {
  const { from, to, ...rest } = extra;
  const letter = { full: 'F', diff: 'D', incr: 'I' }[type];
  return {
    formatVersion: 1,
    id: `20260101T${String(10 + Math.floor(n / 60)).padStart(2, '0')}${String(n % 60).padStart(2, '0')}00Z-${letter}`,
    target: 'shop',
    engine: 'mysql',
    kind: 'physical',
    type,
    status: 'complete',
    tool: { name: 'mariadb-backup', version: '10.11.18', argv: [] },
    serverVersion: '10.11.18',
    startedAt: '2026-01-01T10:00:00Z',
    sizeBytes: 1000 + n,
    files: [],
    mysql: { binlogFile: 'mysql-bin.000001', binlogPosition: 100 + n, ...(from !== undefined ? { fromLsn: from } : {}), ...(to !== undefined ? { toLsn: to } : {}) },
    ...rest,
  };
}

const ids = (ms: Manifest[]) => ms.map((m) => m.id);

function refusal(fn: () => unknown): DbdrillError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DbdrillError);
    return e as DbdrillError;
  }
  throw new Error('expected a refusal');
}

describe('xtrabackup_checkpoints, as captured', () => {
  it('reads the LSN range of a prepared full and of an incremental', () => {
    expect(checkpointLsns(readFileSync(join(FIX, 'xtrabackup_checkpoints'), 'utf8'))).toEqual({ backupType: 'log-applied', fromLsn: '0', toLsn: '44404', lastLsn: '1604046' });
    expect(checkpointLsns(readFileSync(join(FIX, 'incremental/xtrabackup_checkpoints'), 'utf8'))).toEqual({
      backupType: 'incremental', fromLsn: '1832983', toLsn: '1834408', lastLsn: '1834917',
    });
  });

  it('keeps LSNs past 2^53 exact and refuses a file without its range', () => {
    expect(checkpointLsns('backup_type = incremental\nfrom_lsn = 18446744073709551000\nto_lsn = 18446744073709551615\n')?.toLsn).toBe('18446744073709551615');
    expect(checkpointLsns('backup_type = incremental\nfrom_lsn = 12\n')).toBeUndefined();
    expect(checkpointLsns('backup_type = incremental\nfrom_lsn = twelve\nto_lsn = 13\n')).toBeUndefined();
    expect(checkpointLsns('')).toBeUndefined();
  });

  it('accepts an incremental only if it starts where its base ended', () => {
    const base = { backupType: 'log-applied', fromLsn: '0', toLsn: '500' };
    expect(() => checkIncremental({ backupType: 'incremental', fromLsn: '500', toLsn: '900' }, base, 'B')).not.toThrow();
    expect(() => checkIncremental({ backupType: 'incremental', fromLsn: '400', toLsn: '900' }, base, 'B')).toThrow(
      'mariadb-backup copied from LSN 400, but backup B it was taken against ends at LSN 500, so the two would not link.',
    );
    expect(() => checkIncremental({ backupType: 'full-backuped', fromLsn: '0', toLsn: '900' }, base, 'B')).toThrow('backup_type = full-backuped, not incremental');
    expect(() => checkIncremental(undefined, base, 'B')).toThrow('no readable base/xtrabackup_checkpoints');
    expect(() => checkIncremental({ backupType: 'incremental', fromLsn: '500', toLsn: '500' }, base, 'B')).not.toThrow();
    expect(() => checkIncremental({ backupType: 'incremental', fromLsn: '500', toLsn: '80' }, base, 'B')).toThrow(
      "The server's InnoDB log ends at LSN 80, before LSN 500 where backup B ended, so its data directory was replaced since that backup; take a full backup.",
    );
  });
});

describe('the base of a new diff or incr', () => {
  const F1 = member(0, 'full', { from: '0', to: '100' });
  const I1 = member(1, 'incr', { prior: F1.id, from: '100', to: '200' });
  const I2 = member(2, 'incr', { prior: I1.id, from: '200', to: '300' });
  const F2 = member(3, 'full', { from: '0', to: '400' });
  const D1 = member(4, 'diff', { prior: F2.id, from: '400', to: '500' });
  const I3 = member(5, 'incr', { prior: D1.id, from: '500', to: '600' });
  const logical = { ...member(6, 'full'), kind: 'logical' as const, id: '20260101T100600Z-L' };
  const req = { target: 'shop', serverVersion: '10.11.20' };

  it('an incr goes on the newest member of the chain, a diff on the newest full', () => {
    expect(chainBaseFor([F1], 'incr', req).id).toBe(F1.id);
    expect(chainBaseFor([F1, I1, I2], 'incr', req).id).toBe(I2.id);
    expect(chainBaseFor([F1, I1, I2], 'diff', req).id).toBe(F1.id);
    // A newer full starts a new chain; a logical backup is no member of any.
    expect(chainBaseFor([F1, I1, I2, F2, logical], 'incr', req).id).toBe(F2.id);
    expect(chainBaseFor([F1, I1, I2, F2, D1], 'incr', req).id).toBe(D1.id);
    expect(chainBaseFor([I3, D1, F2, I2, I1, F1], 'incr', req).id).toBe(I3.id);
    expect(chainBaseFor([F1, I1, I2, F2, D1, I3], 'diff', req).id).toBe(F2.id);
  });

  it('skips backups that failed or have not finished: they hold no copy', () => {
    const failed = { ...member(7, 'incr', { prior: I3.id }), status: 'failed' as const, error: 'cancelled' };
    const running = { ...member(8, 'full'), status: 'running' as const };
    const all = [F1, I1, I2, F2, D1, I3, failed, running];
    expect(chainBaseFor(all, 'incr', req).id).toBe(I3.id);
    expect(chainBaseFor(all, 'diff', req).id).toBe(F2.id);
  });

  it('refuses when there is no full', () => {
    const e = refusal(() => chainBaseFor([logical], 'incr', req));
    expect(e.message).toBe('Target "shop" has no complete full physical backup to take an incremental backup against; take a full backup first.');
    expect(e.exitCode).toBe(2);
    expect(refusal(() => chainBaseFor([{ ...F1, status: 'failed' }], 'diff', req)).message).toBe(
      'Target "shop" has no complete full physical backup to take a differential backup against; take a full backup first.',
    );
  });

  it('refuses a base whose chain is broken, naming the member: missing (pruned), failed, corrupt, being pruned', () => {
    expect(refusal(() => chainBaseFor([F1, I2], 'incr', req)).message).toBe(
      `Cannot take an incremental backup of target "shop": backup ${I1.id}, which incremental backup ${I2.id} depends on, is no longer in the repository (pruned or removed), and a backup taken against it could never be restored; take a full backup, or a differential one (against full backup ${F1.id}).`,
    );
    const corruptI1 = { ...I1, status: 'corrupt' as const, verification: [{ at: '2026-01-02T00:00:00.000Z', method: 'sha256', ok: false, detail: 'base/ibdata1.delta: checksum differs' }] };
    expect(refusal(() => chainBaseFor([F1, corruptI1, I2], 'incr', req)).message).toContain(
      `backup ${I1.id}, which incremental backup ${I2.id} depends on, is corrupt (verify at 2026-01-02 00:00:00Z: base/ibdata1.delta: checksum differs)`,
    );
    // The newest backup is itself corrupt: not skipped, or the next incr would silently drop its changes' base.
    const corruptI2 = { ...I2, status: 'corrupt' as const };
    expect(refusal(() => chainBaseFor([F1, I1, corruptI2], 'incr', req)).message).toContain(`backup ${I2.id} is corrupt (marked corrupt)`);
    const expiring = { ...I1, status: 'expiring' } as unknown as Manifest;
    expect(refusal(() => chainBaseFor([F1, expiring, I2], 'incr', req)).message).toContain(`backup ${I1.id}, which incremental backup ${I2.id} depends on, is being pruned`);
    const failedI1 = { ...I1, status: 'failed' as const, error: 'disk full.' };
    expect(refusal(() => chainBaseFor([F1, failedI1, I2], 'incr', req)).message).toContain(`depends on, failed (disk full)`);
    // A corrupt newest full: neither a diff nor an incr may be based on it, and no older full is taken silently instead.
    const corruptF2 = { ...F2, status: 'corrupt' as const };
    expect(refusal(() => chainBaseFor([F1, I1, corruptF2], 'diff', req)).message).toBe(
      `Cannot take a differential backup of target "shop": backup ${F2.id} is corrupt (marked corrupt), and a backup taken against it could never be restored; take a full backup.`,
    );
    expect(refusal(() => chainBaseFor([F1, I1, corruptF2], 'incr', req)).message).toContain(`backup ${F2.id} is corrupt`);
  });

  it('refuses to continue a chain across MariaDB release series', () => {
    expect(refusal(() => chainBaseFor([F1, I1], 'incr', { target: 'shop', serverVersion: '11.4.2' })).message).toBe(
      `Cannot take an incremental backup of target "shop": its chain starts at full backup ${F1.id} of MariaDB 10.11.18, the server now runs 11.4.2, and mariadb-backup does not apply changes across release series; take a full backup.`,
    );
  });
});

describe('the chain a restore reads', () => {
  const F = member(0, 'full', { from: '0', to: '100' });
  const I1 = member(1, 'incr', { prior: F.id, from: '100', to: '200' });
  const I2 = member(2, 'incr', { prior: I1.id, from: '200', to: '300' });
  const D = member(3, 'diff', { prior: F.id, from: '100', to: '350' });
  const I3 = member(4, 'incr', { prior: D.id, from: '350', to: '400' });
  const all = [I3, D, I2, I1, F];

  it('lists every member from the full, oldest first', () => {
    expect(ids(chainForRestore(all, F.id, 'shop'))).toEqual([F.id]);
    expect(ids(chainForRestore(all, I1.id, 'shop'))).toEqual([F.id, I1.id]);
    expect(ids(chainForRestore(all, I2.id, 'shop'))).toEqual([F.id, I1.id, I2.id]);
    expect(ids(chainForRestore(all, D.id, 'shop'))).toEqual([F.id, D.id]);
    expect(ids(chainForRestore(all, I3.id, 'shop'))).toEqual([F.id, D.id, I3.id]);
  });

  it('refuses a chain with a missing, corrupt or misplaced link, naming it', () => {
    expect(refusal(() => chainForRestore([I2, F], I2.id, 'shop')).message).toBe(
      `Backup ${I2.id} cannot be restored: backup ${I1.id}, which incremental backup ${I2.id} depends on, is no longer in the repository (pruned or removed); restore another backup (dbdrill catalog shop).`,
    );
    const r = resolveChain([I2, { ...I1, status: 'corrupt' }, F], I2.id);
    expect(r.ok ? undefined : r.break.member).toBe(I1.id);
    expect(refusal(() => chainForRestore([{ ...I2, status: 'running' }, I1, F], I2.id, 'shop')).message).toContain(`backup ${I2.id} has not finished`);
    expect(refusal(() => chainForRestore(all, 'nope', 'shop')).message).toContain('backup nope is not in the repository');
    // A diff is taken against a full, never against an incr.
    const badDiff = member(5, 'diff', { prior: I1.id, from: '200', to: '500' });
    expect(refusal(() => chainForRestore([...all, badDiff], badDiff.id, 'shop')).message).toContain(
      `differential backup ${badDiff.id} depends on incremental backup ${I1.id}, but a differential backup is taken against a full one`,
    );
    const noPrior = { ...member(6, 'incr') };
    expect(refusal(() => chainForRestore([...all, noPrior], noPrior.id, 'shop')).message).toContain('does not name the backup it was taken against (prior)');
    // A link forward in time (a hand-edited manifest) is damage, not an endless walk.
    const loop = { ...I1, prior: I2.id };
    expect(refusal(() => chainForRestore([I2, loop, F], I2.id, 'shop')).message).toContain(`names ${I2.id} as its base, which is not older than itself`);
  });

  it('refuses LSNs that do not link', () => {
    const gapped = { ...I2, mysql: { ...I2.mysql, fromLsn: '250' } };
    expect(refusal(() => chainForRestore([gapped, I1, F], I2.id, 'shop')).message).toBe(
      `Backup ${I2.id} cannot be restored: incremental backup ${I2.id} starts at LSN 250, but backup ${I1.id} it was taken against ends at LSN 200, so the two do not link; restore another backup (dbdrill catalog shop).`,
    );
    // Unrecorded LSNs (a full taken before they were recorded) are left to the check of the copied files.
    expect(lsnGapWords({ id: 'a' }, { id: 'b', type: 'incr', fromLsn: '5' })).toBeUndefined();
    const { toLsn: _t, ...oldFullMysql } = F.mysql!;
    expect(ids(chainForRestore([I1, { ...F, mysql: oldFullMysql }], I1.id, 'shop'))).toEqual([F.id, I1.id]);
  });

  it('finds every backup that depends on one (what a prune must keep with it)', () => {
    expect(ids(dependentsOf(all, F.id))).toEqual([I1.id, I2.id, D.id, I3.id]);
    expect(ids(dependentsOf(all, I1.id))).toEqual([I2.id]);
    expect(ids(dependentsOf(all, D.id))).toEqual([I3.id]);
    expect(dependentsOf(all, I3.id)).toEqual([]);
  });

  it('a manifest carries prior and the LSN range through the schema check; a malformed one is named', () => {
    const file = '/repo/backups/x/manifest.json';
    expect(parseManifest(JSON.parse(JSON.stringify(I2)), file, I2.id)).toMatchObject({ prior: I1.id, mysql: { fromLsn: '200', toLsn: '300' } });
    expect(() => parseManifest({ ...I2, prior: '../F' }, file, I2.id)).toThrow(/prior/);
    expect(() => parseManifest({ ...I2, mysql: { ...I2.mysql, toLsn: 300 } }, file, I2.id)).toThrow(/toLsn/);
  });
});

describe('verify of a chain, on checkpoints files laid out as in a repository', () => {
  const root = mkdtempSync(join(tmpdir(), 'dbdrill-chain-verify-'));
  const F = member(0, 'full');
  const I1 = member(1, 'incr', { prior: F.id });
  const I2 = member(2, 'incr', { prior: I1.id, from: '300', to: '400' });
  const lay = (m: Manifest, checkpoints: string, binlog = `mysql-bin.000001\t${m.mysql!.binlogPosition}\t0-1-5\n`) => {
    mkdirSync(join(root, 'backups', m.id, 'base'), { recursive: true });
    writeFileSync(join(root, 'backups', m.id, 'base/xtrabackup_checkpoints'), checkpoints);
    writeFileSync(join(root, 'backups', m.id, 'base/xtrabackup_binlog_info'), binlog);
  };
  const cp = (type: string, from: number, to: number) => `backup_type = ${type}\nfrom_lsn = ${from}\nto_lsn = ${to}\nlast_lsn = ${to + 9}\n`;
  lay(F, cp('log-applied', 0, 100));
  // I1 was taken before LSNs were recorded in manifests: only its file knows where it ends.
  lay(I1, cp('incremental', 100, 250));
  lay(I2, cp('incremental', 300, 400));

  it('names the link whose files do not continue, even when the manifests recorded no LSNs', () => {
    expect(verifyChainLinks(root, [F, I1, I2], I1.id)).toMatchObject({ ok: true });
    expect(verifyChainLinks(root, [F, I1, I2], I2.id)).toEqual({
      method: 'chain links', ok: false,
      detail: `incremental backup ${I2.id} starts at LSN 300, but backup ${I1.id} it was taken against ends at LSN 250, so the two do not link`,
    });
    expect(verifyChainLinks(root, [F, I2], I2.id)).toMatchObject({ ok: false, detail: expect.stringContaining('is no longer in the repository') });
  });

  it('checks a member against its manifest: type, LSN range, binlog position', () => {
    expect(verifyChainMember(I2, join(root, 'backups', I2.id))).toMatchObject({ ok: true, detail: 'backup_type = incremental, LSN 300 to 400, binlog mysql-bin.000001:102' });
    expect(verifyChainMember({ ...I2, mysql: { ...I2.mysql, toLsn: '401', binlogPosition: 7 } }, join(root, 'backups', I2.id)).detail).toBe(
      "to_lsn is 400, the manifest says 401; the binlog position in the backup (mysql-bin.000001:102) differs from the manifest's",
    );
    lay(I1, cp('full-backuped', 100, 250));
    expect(verifyChainMember(I1, join(root, 'backups', I1.id))).toMatchObject({ ok: false, detail: 'backup_type is full-backuped, not incremental' });
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));
});
