import { describe, expect, it } from 'vitest';
import { statusMarker } from '../screens/catalog/columns.js';
import type { ArchivedBinlog } from '../src/binlog/archive.js';
import { findBinlogGaps } from '../src/binlog/names.js';
import { computeMysqlWindow, planMysqlRestore } from '../src/binlog/window.js';
import { thresholdsOf } from '../src/config/health-settings.js';
import { deriveBackupChecks, type BackupEntry } from '../src/health/backup-checks.js';
import { statusAfterVerify } from '../src/ops/verify.js';
import type { WalInventory } from '../src/pitr/inventory.js';
import { planRestore } from '../src/pitr/plan.js';
import { parseRestoreTarget, type RestoreTarget } from '../src/pitr/time.js';
import { computeWindow } from '../src/pitr/window.js';
import { corruptReason, type Manifest } from '../src/repo/manifest.js';

// A corrupt backup (status corrupt, with the verification that found it) is never a plan's start.
const failedVerify = [
  { at: '2026-11-25T09:20:00.123Z', method: 'sha256', ok: false, detail: 'base/base.tar: checksum differs' },
  { at: '2026-11-25T09:20:00.123Z', method: 'pg_verifybackup', ok: false, detail: 'pg_verifybackup: error: checksum mismatch for file "base/5/16384"' },
];

describe('PostgreSQL plans around a corrupt base backup', () => {
  const inv = (segs: number[]): WalInventory => ({ timelines: new Map([[1, segs]]), histories: [], newestArchivedAt: new Map() });
  const backup = (id: string, startSeg: number, consistentAt: string, corrupt = false): Manifest => ({
    formatVersion: 1, id, target: 't', engine: 'postgres', kind: 'physical', type: 'full', status: corrupt ? 'corrupt' : 'complete',
    tool: { name: 'pg_basebackup', version: '15', argv: [] }, serverVersion: '15.18', startedAt: consistentAt, sizeBytes: 1000, files: [],
    postgres: { timeline: 1, startLsn: `0/${(startSeg * 0x1000000 + 0x28).toString(16).toUpperCase()}`, stopLsn: `0/${(startSeg * 0x1000000 + 0x100).toString(16).toUpperCase()}`, consistentAt },
    ...(corrupt ? { verification: failedVerify } : {}),
  });
  // Segment n's last commit: 09:00 + n minutes.
  const lastCommit = (_tl: number, seg: number) => new Date(Date.parse('2026-11-25T09:00:00Z') + seg * 60_000);
  const good = backup('20261125T090130Z-F', 2, '2026-11-25T09:01:30Z');
  const bad = backup('20261125T090430Z-F', 5, '2026-11-25T09:04:30Z', true);
  const note = `backup ${bad.id} is corrupt (verify at 2026-11-25 09:20:00Z: base/base.tar: checksum differs); starting from ${good.id} instead`;

  it('takes the previous good backup for a time the corrupt one would serve, and says so', () => {
    const i = inv([2, 3, 4, 5, 6, 7, 8]);
    const ms = [good, bad];
    const w = computeWindow(ms, i, lastCommit);
    expect(w.ranges.map((r) => r.backup)).toEqual([good.id]);
    const p = planRestore(parseRestoreTarget({ to: '2026-11-25T09:07:00Z' }), ms, i, w, lastCommit);
    expect(p.backup.id).toBe(good.id);
    expect(p.walFrom).toBe('000000010000000000000002');
    expect(p.notes).toEqual([note]);
    // A time before the corrupt backup's consistent point passes nothing over: no note.
    expect(planRestore(parseRestoreTarget({ to: '2026-11-25T09:03:00Z' }), ms, i, w, lastCommit).notes).toEqual([]);
    expect(planRestore(parseRestoreTarget({ to: 'latest' }), ms, i, w, lastCommit).notes).toContain(note);
    expect(planRestore(parseRestoreTarget({ lsn: '0/6000100' }), ms, i, w, lastCommit).notes).toEqual([note]);
  });

  it('refuses, naming the corrupt backup and the window that remains, when no good backup reaches the time', () => {
    const i = inv([2, 3, 5, 6, 7, 8]);
    const ms = [good, bad];
    const w = computeWindow(ms, i, lastCommit);
    expect(() => planRestore(parseRestoreTarget({ to: '2026-11-25T09:07:00Z' }), ms, i, w, lastCommit)).toThrow(
      `2026-11-25 09:07:00Z is past the end of the recoverable window (2026-11-25 09:01:30Z → 2026-11-25 09:03:00Z): replay would stop at the gap 000000010000000000000004…000000010000000000000004 in the archive; backup ${bad.id}, which would have served it, is corrupt (verify at 2026-11-25 09:20:00Z: base/base.tar: checksum differs); choose an earlier time, or --to latest to replay everything archived.`,
    );
    expect(() => planRestore(parseRestoreTarget({ to: '2026-11-25T09:07:00Z' }), [bad], i, computeWindow([bad], i, lastCommit), lastCommit)).toThrow(
      `There is no complete physical backup to start from: backup ${bad.id} is corrupt (verify at 2026-11-25 09:20:00Z: base/base.tar: checksum differs); take a new one with dbdrill backup NAME --kind physical.`,
    );
    expect(() => planRestore(parseRestoreTarget({ to: 'latest' }), ms, i, w, lastCommit, { backup: bad.id })).toThrow(
      `Backup ${bad.id} is corrupt (verify at 2026-11-25 09:20:00Z: base/base.tar: checksum differs); restore from another backup (see dbdrill catalog), or put the damaged file back and run dbdrill verify.`,
    );
  });

  it('an xid target, which starts from the oldest backup, passes over a corrupt oldest one', () => {
    const i = inv([1, 2, 3, 4, 5, 6]);
    const old = backup('20261125T090030Z-F', 1, '2026-11-25T09:00:30Z', true);
    const p = planRestore(parseRestoreTarget({ xid: '7734' }), [old, good], i, computeWindow([old, good], i, lastCommit), lastCommit);
    expect(p.backup.id).toBe(good.id);
    expect(p.notes).toContain(`backup ${old.id} is corrupt (verify at 2026-11-25 09:20:00Z: base/base.tar: checksum differs); starting from ${good.id} instead`);
  });
});

describe('MySQL/MariaDB plans around a corrupt backup', () => {
  const manifest = (id: string, startedAt: string, file: string, position: number, corrupt = false): Manifest => ({
    formatVersion: 1, id, target: 'my', engine: 'mysql', kind: 'logical', type: 'full', status: corrupt ? 'corrupt' : 'complete',
    tool: { name: 'mariadb-dump', version: '10.11.18', argv: [] }, serverVersion: '10.11.18', startedAt, sizeBytes: 1000,
    files: [], database: 'shop', mysql: { binlogFile: file, binlogPosition: position },
    ...(corrupt ? { verification: [{ at: '2026-11-25T13:00:00Z', method: 'sha256', ok: false, detail: 'dump.sql: checksum differs (found by a restore)' }] } : {}),
  });
  const file = (n: number, first: string, last: string): ArchivedBinlog => ({ file: `mysql-bin.${String(n).padStart(6, '0')}`, size: 100, firstEventAt: first, lastEventAt: last, transactions: 1 });
  const files = [file(1, '2026-11-25T09:00:00Z', '2026-11-25T10:30:00Z'), file(2, '2026-11-25T10:30:00Z', '2026-11-25T11:00:00Z'), file(3, '2026-11-25T11:00:00Z', '2026-11-25T12:30:00Z')];
  const inv = { files, gaps: findBinlogGaps(files.map((f) => f.file)) };
  const b1 = manifest('20261125T100000Z-L', '2026-11-25T10:00:00.500Z', 'mysql-bin.000001', 400);
  const b2 = manifest('20261125T110500Z-L', '2026-11-25T11:05:00.500Z', 'mysql-bin.000003', 300, true);
  const at = (iso: string): RestoreTarget => ({ kind: 'time', at: new Date(iso), input: iso });

  it('starts from the previous good backup and says why; refuses the corrupt one by name', () => {
    const w = computeMysqlWindow([b1, b2], inv);
    const p = planMysqlRestore(at('2026-11-25T12:00:00Z'), [b1, b2], inv, w);
    expect(p.backup.id).toBe(b1.id);
    expect(p.notes).toContain(`backup ${b2.id} is corrupt (verify at 2026-11-25 13:00:00Z: dump.sql: checksum differs (found by a restore)); starting from ${b1.id} instead`);
    expect(planMysqlRestore(at('2026-11-25T10:45:00Z'), [b1, b2], inv, w).notes.filter((n) => n.includes('corrupt'))).toEqual([]);
    expect(() => planMysqlRestore({ kind: 'latest' }, [b1, b2], inv, w, { backup: b2.id })).toThrow(`Backup ${b2.id} is corrupt (verify at 2026-11-25 13:00:00Z: dump.sql`);
    expect(() => planMysqlRestore({ kind: 'immediate' }, [b1, b2], inv, w, { backup: b2.id })).toThrow(`Backup ${b2.id} is corrupt (verify at`);
    expect(() => planMysqlRestore({ kind: 'latest' }, [b2], inv, computeMysqlWindow([b2], inv))).toThrow(
      `There is no complete backup with binlog coordinates to start from: backup ${b2.id} is corrupt (verify at 2026-11-25 13:00:00Z: dump.sql: checksum differs (found by a restore)); take a new one with dbdrill backup NAME.`,
    );
  });
});

describe('status of a corrupt backup', () => {
  it('verify makes a backup corrupt when its files or the tool reading them fail, and complete again when they pass', () => {
    expect(statusAfterVerify('complete', false)).toBe('corrupt');
    expect(statusAfterVerify('corrupt', true)).toBe('complete');
    expect(statusAfterVerify('corrupt', false)).toBe('corrupt');
    expect(statusAfterVerify('failed', true)).toBe('failed');
  });

  it('gives the first failed check of the newest failing run as the reason', () => {
    const m = { verification: [{ at: '2026-11-20T00:00:00Z', method: 'restore', ok: false, detail: 'old' }, ...failedVerify] } as Manifest;
    expect(corruptReason(m)).toBe('verify at 2026-11-25 09:20:00Z: base/base.tar: checksum differs');
  });

  it('the console catalog shows it as BAD, and health does not count it as the newest good backup', () => {
    expect(statusMarker({ status: 'corrupt' })).toBe('BAD');
    const T0 = Date.parse('2026-11-24T12:00:00Z');
    const entry = (id: string, status: BackupEntry['status'], ago: number): BackupEntry => ({ id, status, startedAt: new Date(T0 - ago * 1000).toISOString(), durationSeconds: 60 });
    const { view, checks } = deriveBackupChecks(
      { target: 'prod', repo: '/repo', backups: [entry('20261124T110000Z-F', 'corrupt', 3600), entry('20261123T110000Z-F', 'complete', 90_000)], unreadable: [], engine: 'postgres', now: T0 },
      thresholdsOf({}),
    );
    expect(view.newestComplete?.id).toBe('20261123T110000Z-F');
    expect(checks.find((c) => c.name === 'last_backup')).toMatchObject({
      status: 'WARN',
      reason: 'The last backup, 20261124T110000Z-F, is corrupt (it failed verification; it is not restored from).',
    });
  });
});
