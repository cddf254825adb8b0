import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEGMENT_RE } from '../src/pitr/wal-names.js';
import { ArchivedPostgres, PitrRestores, type PitrJson } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';

/**
 * Point-in-time restores to an LSN, a transaction, a named restore point and the end of the
 * archive, and following a timeline, each against a real PostgreSQL whose WAL went through
 * wal-push. Rows 1, 2, 3 are committed in that order around the targets.
 */
const cfg = tempConfigDir();
let db: ArchivedPostgres;
let env: Record<string, string>;
let restores: PitrRestores;
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });
/** The one-sentence error, without the step lines printed before it. */
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('dbdrill:'));
const rows = async (port: number) => (await db.sql<{ n: number }>('SELECT n FROM steps ORDER BY n', port)).map((r) => r.n);

let xid2 = '';
let lsn2 = '';

beforeAll(async () => {
  db = await ArchivedPostgres.start('pitrt');
  env = { DBDRILL_CONFIG_DIR: cfg.dir, PITRT_PW: db.server.password };
  restores = new PitrRestores(cli, 'pitrt-restored');
  const add = await cli(['target', 'add', 'pt', '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', 'PITRT_PW']);
  expect(add.code, add.stderr).toBe(0);
  const backup = await cli(['backup', 'pt', '--kind', 'physical']);
  expect(backup.code, backup.stderr).toBe(0);
  await db.sql('CREATE TABLE steps (n int PRIMARY KEY, note text)');
  await db.sql(`INSERT INTO steps VALUES (1, 'one')`);
  await db.sql(`SELECT pg_create_restore_point('after_one')`);
  xid2 = (await db.sql<{ xid: string }>(`INSERT INTO steps VALUES (2, 'two') RETURNING pg_current_xact_id()::text AS xid`))[0]!.xid;
  // Where the next record will go: everything up to and including row 2's commit lies before it.
  lsn2 = (await db.sql<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn'))[0]!.lsn;
  await db.sql(`INSERT INTO steps VALUES (3, 'three')`);
  await db.switchAndArchive();
});

afterAll(async () => {
  await restores?.stopAll();
  await db?.stop();
  cfg.cleanup();
});

describe('restore targets other than a time', () => {
  it('--lsn stops at that LSN and reports replay progress as LSNs', async () => {
    const r = await restores.restore('pt', ['--lsn', lsn2]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report!.plan.settings).toMatchObject({ recovery_target_lsn: lsn2 });
    expect(r.report!.plan.endLsn).toBe(lsn2);
    expect(await rows(r.port)).toEqual([1, 2]);
    // Progress on stderr: the replayed LSN against the target, ending at 100 %.
    expect(r.stderr).toMatch(/replaying WAL \(\d+ of \d+ segments restored\) \d+% at [0-9A-F]+\/[0-9A-F]+ of [0-9A-F]+\/[0-9A-F]+/);
    expect(r.stderr).toMatch(/replaying WAL \(\d+ of \d+ segments restored\) 100% at /);
    await restores.stop(r.report!.pid);
  });

  it('--xid stops after that transaction, and with --exclusive just before it', async () => {
    const incl = await restores.restore('pt', ['--xid', xid2]);
    expect(incl.code, incl.stderr).toBe(0);
    expect(incl.report!.plan.settings).toMatchObject({ recovery_target_xid: xid2 });
    expect(await rows(incl.port)).toEqual([1, 2]);
    expect(incl.report!.reached.stoppedBeforeXid).toBe(xid2);
    await restores.stop(incl.report!.pid);

    const excl = await restores.restore('pt', ['--xid', xid2, '--exclusive']);
    expect(excl.code, excl.stderr).toBe(0);
    expect(excl.report!.plan.settings).toMatchObject({ recovery_target_xid: xid2, recovery_target_inclusive: 'false' });
    expect(await rows(excl.port)).toEqual([1]);
    await restores.stop(excl.report!.pid);
  });

  it('--name stops at a restore point made with pg_create_restore_point', async () => {
    const r = await restores.restore('pt', ['--name', 'after_one']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report!.plan.settings).toMatchObject({ recovery_target_name: 'after_one' });
    expect(await rows(r.port)).toEqual([1]);
    await restores.stop(r.report!.pid);
  });
});

describe('--to latest and timelines', () => {
  let latest: PitrJson;
  let latestPort = 0;

  it('--to latest replays everything archived', async () => {
    const r = await restores.restore('pt', ['--to', 'latest']);
    expect(r.code, r.stderr).toBe(0);
    expect(await rows(r.port)).toEqual([1, 2, 3]);
    expect(r.report!.timeline).toBe(2);
    latest = r.report!;
    latestPort = r.port;
  });

  it('refuses a --timeline the archive does not have, before writing anything', async () => {
    const r = await restores.restore('pt', ['--to', 'latest', '--timeline', '7']);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      "dbdrill: Timeline 7 is not in the archive, which holds segments of timeline 1; give one of those with --timeline, or leave it out to follow the newest timeline the backups reach.",
    ]);
    expect(existsSync(r.into)).toBe(false);
  });

  let markOn2 = '';

  it('follows a timeline once its segments and history file are archived', async () => {
    // Work on the restored copy (now timeline 2), then archive its WAL as its archive_command would have.
    await db.sql(`INSERT INTO steps VALUES (4, 'on timeline 2')`, latestPort);
    await new Promise((r) => setTimeout(r, 300));
    markOn2 = (await db.sql<{ now: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`, latestPort))[0]!.now;
    await new Promise((r) => setTimeout(r, 300));
    await db.sql(`INSERT INTO steps VALUES (6, 'later on timeline 2')`, latestPort);
    const finished = (await db.sql<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name', latestPort))[0]!.name;
    expect(finished.slice(0, 8)).toBe('00000002');
    const pgWal = join(latest.dataDir, 'pg_wal');
    const tl2 = readdirSync(pgWal).filter((n) => SEGMENT_RE.test(n) && n.startsWith('00000002') && n <= finished).sort();
    expect(tl2.length).toBeGreaterThan(0);
    for (const seg of tl2) {
      const p = await cli(['wal-push', 'pt', '--allow-root', join(pgWal, seg)]);
      expect(p.code, p.stderr).toBe(0);
    }
    // Segments alone are not enough: recovery needs the history to know where timeline 2 branched.
    const noHistory = await restores.restore('pt', ['--to', 'latest', '--timeline', '2']);
    expect(noHistory.code).toBe(2);
    expect(errorLines(noHistory.stderr)).toEqual([
      `dbdrill: Timeline 2 has no history file in the archive (wal/00000002.history), so recovery cannot follow it from backup ${latest.plan.backup} on timeline 1; archive that file or leave --timeline out.`,
    ]);
    const h = await cli(['wal-push', 'pt', '--allow-root', join(pgWal, '00000002.history')]);
    expect(h.code, h.stderr).toBe(0);
    await restores.stop(latest.pid);

    // The source goes on writing on timeline 1.
    await db.sql(`INSERT INTO steps VALUES (5, 'on timeline 1')`);
    await db.switchAndArchive();

    const w = await cli(['window', 'pt']);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/\n {2}timeline 1: \d+ segment\(s\), 00000001[0-9A-F]{16}…00000001[0-9A-F]{16}\n/);
    expect(w.stdout).toContain(`\n  timeline 2: ${tl2.length} segment(s), ${tl2[0]}…${tl2.at(-1)}, history archived\n`);
    const wj = JSON.parse((await cli(['window', 'pt', '--json'])).stdout) as { timeline: number; perTimeline: { timeline: number; segments: number; history: boolean }[]; ranges: { timeline: number }[] };
    expect(wj.perTimeline.map((t) => [t.timeline, t.history])).toEqual([[1, false], [2, true]]);
    expect(wj.perTimeline[1]!.segments).toBe(tl2.length);
    // A range per timeline the backup reaches; the window is the newest timeline's.
    expect(wj.ranges.map((r) => r.timeline)).toEqual([1, 2]);
    expect(wj.timeline).toBe(2);

    const on2 = await restores.restore('pt', ['--to', 'latest', '--timeline', '2']);
    expect(on2.code, on2.stderr).toBe(0);
    expect(on2.report!.plan.settings.recovery_target_timeline).toBe('2');
    expect(await rows(on2.port)).toEqual([1, 2, 3, 4, 6]);
    expect(on2.report!.timeline).toBe(3);
    await restores.stop(on2.report!.pid);
  }, 300_000);

  it('without --timeline follows the newest timeline (PostgreSQL\'s default); the abandoned one needs --timeline', async () => {
    const newest = await restores.restore('pt', ['--to', 'latest']);
    expect(newest.code, newest.stderr).toBe(0);
    expect(newest.report!.plan.settings.recovery_target_timeline).toBe('2');
    expect(newest.stderr).toContain('following timeline 2, the newest backup');
    expect(await rows(newest.port)).toEqual([1, 2, 3, 4, 6]);
    await restores.stop(newest.report!.pid);

    const on1 = await restores.restore('pt', ['--to', 'latest', '--timeline', '1']);
    expect(on1.code, on1.stderr).toBe(0);
    expect(on1.report!.plan.settings.recovery_target_timeline).toBe('1');
    expect(await rows(on1.port)).toEqual([1, 2, 3, 5]);
    await restores.stop(on1.report!.pid);
  }, 300_000);

  it('a time on timeline 2, with and without --timeline 2: exact (row 6 came after it)', async () => {
    for (const args of [['--to', markOn2], ['--to', markOn2, '--timeline', '2']]) {
      const t = await restores.restore('pt', args);
      expect(t.code, t.stderr).toBe(0);
      expect(t.report!.plan.settings.recovery_target_timeline).toBe('2');
      expect(await rows(t.port)).toEqual([1, 2, 3, 4]);
      await restores.stop(t.report!.pid);
    }
  }, 300_000);
});
