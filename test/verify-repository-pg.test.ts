import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoVerifyReport } from '../src/ops/verify-repository.js';
import type { Manifest } from '../src/repo/manifest.js';
import { findArchived } from '../src/wal/layout.js';
import { ArchivedPostgres } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { flipBitInRecord, truncateSegment } from './helpers/wal-damage.js';

// A PostgreSQL of this file's own: its older backup gets a flipped bit and its archive loses a
// segment from the middle and has one cut short, each put back after.
const cfg = tempConfigDir();
let db: ArchivedPostgres;
let env: Record<string, string>;
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 300_000 });

let older: Manifest;
let newer: Manifest;
let logical: Manifest;
/** Segments archived between the two physical backups' starts, and after the newer one. */
let between: string[] = [];
let after: string[] = [];

async function backup(kind: 'physical' | 'logical'): Promise<Manifest> {
  const r = await cli(['backup', 'vrepo', '--kind', kind, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { backup: Manifest }).backup;
}

async function work(n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    await db.sql(`INSERT INTO vmarks (note) SELECT 'verify ${i} ' || g FROM generate_series(1, 50) g`);
    names.push(await db.switchAndArchive());
  }
  return names;
}

async function verify(): Promise<{ code: number; report: RepoVerifyReport; stderr: string; text: string }> {
  const r = await cli(['verify', 'vrepo', '--json']);
  const t = await cli(['verify', 'vrepo']);
  expect(t.code).toBe(r.code);
  return { code: r.code, report: JSON.parse(r.stdout) as RepoVerifyReport, stderr: r.stderr, text: t.stdout };
}

const manifestOf = (id: string) => JSON.parse(readFileSync(join(db.repo, 'backups', id, 'manifest.json'), 'utf8')) as Manifest;

beforeAll(async () => {
  db = await ArchivedPostgres.start('vrepo');
  env = { DBDRILL_CONFIG_DIR: cfg.dir, VREPO_PW: db.server.password };
  const add = await cli(['target', 'add', 'vrepo', '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', 'VREPO_PW']);
  expect(add.code, add.stderr).toBe(0);
  await db.sql('CREATE TABLE vmarks (n serial PRIMARY KEY, note text)');
  older = await backup('physical');
  between = await work(3);
  newer = await backup('physical');
  logical = await backup('logical');
  after = await work(2);
}, 600_000);

afterAll(async () => {
  await db?.stop();
  cfg.cleanup();
});

describe('verify NAME: the whole repository (PostgreSQL)', () => {
  it('a clean repository verifies OK with exit 0: one entry per backup and per archive range, progress on stderr', async () => {
    const { code, report, stderr, text } = await verify();
    expect(code, stderr).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.backups.map((b) => [b.backup, b.status])).toEqual([[older.id, 'ok'], [newer.id, 'ok'], [logical.id, 'ok']]);
    expect(report.backups[0]!.checks.map((c) => c.method)).toEqual(['sha256', 'pg_verifybackup']);
    expect(report.archive?.kind).toBe('wal');
    expect(report.archive!.ranges).toHaveLength(1);
    expect(report.archive!.ranges[0]).toMatchObject({ timeline: 1, status: 'ok', ok: true, last: after.at(-1) });
    expect(report.archive!.files).toBeGreaterThanOrEqual(5);
    // Each physical backup replays from its start to the archive's end.
    const replays = report.backups.flatMap((b) => b.replay ?? []);
    expect(replays.map((r) => [r.backup, r.ok, r.end])).toEqual([[older.id, true, after.at(-1)], [newer.id, true, after.at(-1)]]);
    expect(stderr).toMatch(new RegExp(`backup ${older.id} \\(1 of 3\\)`));
    expect(stderr).toContain('OK WAL archive');
    expect(text).toContain(`Repository of vrepo verified: 3 backup(s) intact`);
  }, 300_000);

  it('a segment deleted from the middle of the archive is named, with the backup it stops and the part of the window it loses', async () => {
    const gone = between[1]!;
    const at = findArchived(db.repo, gone)!;
    renameSync(at.path, `${at.path}.away`);
    try {
      const { code, report, text } = await verify();
      expect(code).toBe(1);
      expect(report.ok).toBe(false);
      const bad = report.archive!.ranges.filter((r) => !r.ok);
      expect(bad).toHaveLength(1);
      expect(bad[0]).toMatchObject({ first: gone, last: gone, status: 'missing', breaks: [older.id], lost: { afterFile: between[0], untilBackup: newer.id, to: newer.postgres!.consistentAt } });
      // The last commit before the gap is one of the inserts above, read from the archive by pg_waldump.
      expect(Date.parse(bad[0]!.lost!.from!)).toBeGreaterThan(Date.parse(older.postgres!.consistentAt!));
      expect(Date.parse(bad[0]!.lost!.from!)).toBeLessThan(Date.parse(newer.postgres!.consistentAt!));
      expect(bad[0]!.reason).toMatch(new RegExp(`^segment ${gone} is missing; it stops the replay of backup ${older.id}; no restore reaches from .* \\(the last commit in ${between[0]}\\) to .*, where backup ${newer.id} starts$`));
      const olderEntry = report.backups.find((b) => b.backup === older.id)!;
      expect(olderEntry.status).toBe('ok');
      expect(olderEntry.replay).toEqual([expect.objectContaining({ ok: false, stopsAt: gone, reaches: between[0] })]);
      expect(report.backups.find((b) => b.backup === newer.id)!.replay).toEqual([expect.objectContaining({ ok: true })]);
      expect(text).toContain(`FAIL timeline 1 ${gone}: segment ${gone} is missing`);
      expect(text).toContain('FAILED verification');
    } finally {
      renameSync(`${at.path}.away`, at.path);
    }
  }, 300_000);

  it('segments with a bit flipped before the push, one flipped after it and one cut short are each named damaged, with the backups each stops', async () => {
    const flipped = between[2]!;
    const cut = after[0]!;
    // Damage from before the push (bad memory on the server): the .dbw checksums agree with it, the record's CRC does not.
    const early = between[0]!;
    const unflipEarly = (await flipBitInRecord(db.repo, early, 16 * 1024 * 1024)).restore;
    // Damage in the archive after the push (disk rot): the .dbw checksums no longer agree.
    const unflip = (await flipBitInRecord(db.repo, flipped, 16 * 1024 * 1024, { reseal: false })).restore;
    const putBack = truncateSegment(db.repo, cut);
    try {
      const { code, report } = await verify();
      expect(code).toBe(1);
      const bad = report.archive!.ranges.filter((r) => !r.ok);
      expect(bad.map((r) => [r.first, r.status, r.breaks])).toEqual([
        [early, 'damaged', [older.id]],
        [flipped, 'damaged', [older.id]],
        [cut, 'damaged', [older.id, newer.id]],
      ]);
      expect(bad[0]!.reason).toMatch(new RegExp(`^segment ${early} is damaged: its WAL record at [0-9A-F]+/[0-9A-F]+ fails its CRC check \\(pg_waldump\\)`));
      expect(bad[1]!.reason).toContain(`segment ${flipped} is damaged: its archived copy`);
      expect(bad[1]!.reason).toContain('is corrupt: the sha256 of its stored bytes');
      expect(bad[2]!.reason).toContain(`segment ${cut} is damaged: its archived copy`);
      expect(bad[2]!.reason).toContain('truncated');
      expect(bad[2]!.lost?.untilBackup).toBeUndefined();
      expect(bad[2]!.reason).toContain(`to the archive's end (${after.at(-1)}`);
      expect(report.problems).toHaveLength(3);
    } finally {
      putBack();
      unflip();
      unflipEarly();
    }
  }, 300_000);

  it('a bit flipped in the older backup is named, marks that backup corrupt (not the newer one), and verify passes again once the file is put back', async () => {
    const file = older.files.find((f) => /(^|\/)base\.tar/.test(f.path))!;
    const tar = join(db.repo, 'backups', older.id, file.path);
    const original = readFileSync(tar);
    const bad = Buffer.from(original);
    const at = original.length >> 1;
    bad[at] = bad[at]! ^ 0x04;
    writeFileSync(tar, bad);
    try {
      const { code, report } = await verify();
      expect(code).toBe(1);
      const e = report.backups.find((b) => b.backup === older.id)!;
      expect(e).toMatchObject({ status: 'failed', statusBefore: 'complete', statusAfter: 'corrupt' });
      expect(e.reason).toContain(`${file.path}: checksum differs`);
      expect(report.backups.filter((b) => b.status === 'failed').map((b) => b.backup)).toEqual([older.id]);
      expect(report.problems[0]).toContain(`backup ${older.id}: sha256: ${file.path}: checksum differs`);
      expect(manifestOf(older.id).status).toBe('corrupt');
      expect(manifestOf(newer.id).status).toBe('complete');
    } finally {
      writeFileSync(tar, original);
    }
    const again = await verify();
    expect(again.code, again.report.problems.join('\n')).toBe(0);
    expect(again.report.backups.find((b) => b.backup === older.id)).toMatchObject({ status: 'ok', statusBefore: 'corrupt', statusAfter: 'complete' });
    expect(manifestOf(older.id).status).toBe('complete');
  }, 300_000);

  it('verify --backup ID still verifies one backup, and COMMAND --help prints the forms', async () => {
    const one = await cli(['verify', 'vrepo', '--backup', newer.id, '--json']);
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ backup: newer.id, ok: true });
    const help = await cli(['verify', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('dbdrill verify NAME [--from COPY] [--identity FILE]\n        every backup, chain link and archived file');
    expect(help.stdout).toContain('dbdrill verify NAME --backup ID [--restore]');
  }, 300_000);
});
