import { chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPlainSegmentsFromPgbackrest } from '../src/engines/postgres/pgbackrest/archive.js';
import { openPgbackrest } from '../src/engines/postgres/pgbackrest/setup.js';
import { pgbackrestStreamSink, pushStreamed } from '../src/engines/postgres/pgbackrest/stream.js';
import { parseSegment } from '../src/pitr/wal-names.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { PitrRestores } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { PgbackrestPostgres } from './helpers/pgbackrest-pg.js';
import { markerAndTicks, oneReceiver, receivers, Stream, until } from './helpers/stream.js';
import { flipMiddle } from './helpers/wal-files.js';

/**
 * `dbdrill stream --synchronous` on a pgBackRest target (real PostgreSQL 15, pgBackRest 2.45):
 * pg_receivewal into <repo>/stream/, completed segments pushed into pgBackRest's archive with
 * archive-push, and restores through pgBackRest reaching the stream's .partial. One server.
 */
const NAME = 'spgbr';
const cfg = tempConfigDir();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let db: PgbackrestPostgres;
let env: Record<string, string>;
let stream: Stream;
let restores: PitrRestores;
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
/** Segments closed by pg_switch_wal while the stream ran. */
const switched: string[] = [];
let markerAt = new Date(0);
/** The data directory test 3's restore promoted (timeline 2) into. */
let restoredDir = '';

/** The segments pgBackRest's archive of the stanza holds (by listing it). */
function pgbackrestArchived(): string[] {
  const root = join(db.target.repo, 'pgbackrest', 'archive', NAME);
  const out: string[] = [];
  for (const id of readdirSync(root).filter((d) => /^\d+-\d+$/.test(d))) {
    for (const d of readdirSync(join(root, id)).filter((d) => /^[0-9A-F]{16}$/.test(d))) {
      for (const f of readdirSync(join(root, id, d))) out.push(f.slice(0, 24));
    }
  }
  return out.sort();
}

const streamFiles = () => readdirSync(join(db.target.repo, 'stream'));
const currentSegment = async () => (await db.sql<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS name'))[0]!.name;

beforeAll(async () => {
  db = await PgbackrestPostgres.start(NAME);
  env = { DBDRILL_CONFIG_DIR: cfg.dir, SPGBR_PW: db.server.password };
  restores = new PitrRestores(cli, 'spgbr-restored');
  const add = await cli(['target', 'add', NAME, '--engine', 'postgres', '--host', '127.0.0.1', '--port', String(db.server.port), '--user', db.server.user, '--dbname', db.server.dbname, '--repo', db.target.repo, '--password-env', 'SPGBR_PW', '--method', 'pgbackrest']);
  expect(add.code, add.stderr).toBe(0);
  const backup = await cli(['backup', NAME, '--kind', 'physical']);
  expect(backup.code, backup.stderr).toBe(0);
  await db.sql('CREATE TABLE ticks (n serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), note text)');
  stream = Stream.start(NAME, env, ['--synchronous']);
  await until('the stream to be the synchronous standby', async () => {
    const rows = await db.sql<{ sync_state: string }>(`SELECT sync_state FROM pg_stat_replication WHERE application_name = 'dbdrill_${NAME}'`);
    return rows[0]?.sync_state === 'sync';
  });
}, 180_000);

afterAll(async () => {
  await stream?.stop();
  if (db) for (const pid of receivers(db.target.repo)) if (isPidAlive(pid)) signalProcess(pid, 'SIGKILL');
  await restores?.stopAll();
  await db?.stop().catch(() => {});
  cfg.cleanup();
}, 120_000);

describe('dbdrill stream --synchronous on a pgBackRest target', () => {
  it("pushes completed segments into pgBackRest's archive and removes them from stream/; a killed pg_receivewal is restarted, the window has no gap, health shows the stream", async () => {
    expect(stream.text()).toContain(`completed segments go into pgBackRest's archive of stanza "${NAME}"`);
    const before = [await oneReceiver(db.target.repo, stream)];
    for (let i = 0; i < 3; i++) {
      await db.sql(`INSERT INTO ticks (note) SELECT 'fill ${i}' FROM generate_series(1, 20000)`);
      switched.push(await currentSegment());
      await db.sql('SELECT pg_switch_wal()');
      // mid-stream: pg_receivewal dies at once, the WAL keeps coming
      if (i === 1) signalProcess(before[0]!, 'SIGKILL');
    }
    const after = await until('a new pg_receivewal', () => {
      const now = receivers(db.target.repo);
      return now.length === 1 && now[0] !== before[0] ? now : undefined;
    });
    expect(after[0]).not.toBe(before[0]);
    expect(stream.text()).toMatch(/the receiver stopped: pg_receivewal was killed by SIGKILL/);
    await db.sql(`INSERT INTO ticks (note) VALUES ('after the switches')`);
    const last = await currentSegment();
    await until('the stream to catch up', () => streamFiles().includes(`${last}.partial`));
    // Every segment the stream completed went through archive-push, and only then left stream/.
    await until('the switched segments to be pushed', () => switched.every((s) => stream.text().includes(`archived ${s}`) && !streamFiles().includes(s)));
    const archived = pgbackrestArchived();
    for (const s of switched) expect(archived).toContain(s);
    expect(streamFiles().filter((f) => !f.endsWith('.partial'))).toEqual([]);
    expect(stream.text()).not.toContain('REFUSED');

    const w = await cli(['window', NAME, '--json']);
    expect(w.code, w.stderr).toBe(0);
    const win = JSON.parse(w.stdout) as { gaps: unknown[]; newestSegment: string };
    expect(win.gaps).toEqual([]);
    // The segment being received ends the window: pgBackRest's archive does not have it yet.
    expect(win.newestSegment).toBe(last);
    expect(archived).not.toContain(last);

    const h = await cli(['health', NAME, '--json']);
    const report = JSON.parse(h.stdout) as { checks: { name: string; status: string; reason: string }[]; archive: { stream?: { running: boolean; slot: string } } };
    expect(report.archive.stream).toMatchObject({ running: true, slot: `dbdrill_${NAME}` });
    expect(report.checks.find((c) => c.name === 'stream')).toMatchObject({ status: 'OK', reason: expect.stringMatching(/^Stream running \(synchronous\): \S+ \S*B behind/) });
  }, 120_000);

  it("a segment pgBackRest already holds with other contents is refused, reported and left in stream/; one with the same contents is pushed and removed", async () => {
    const [same, differs] = switched as [string, string];
    const pb = await openPgbackrest(db.target);
    const scratch = join(db.target.repo, 'scratch');
    mkdirSync(scratch, { recursive: true });
    const owner = statSync(join(db.target.repo, 'stream'));
    // Plain copies of the archived segments, fetched back with archive-get.
    await withPlainSegmentsFromPgbackrest(pb, 1, [same, differs].map((s) => parseSegment(s)!.segNo), async (dir) => {
      copyFileSync(join(dir, same), join(scratch, same));
      copyFileSync(join(dir, differs), join(scratch, differs));
    });
    flipMiddle(join(scratch, differs));
    const pushedBefore = stream.text().split(`archived ${same}`).length;
    for (const s of [same, differs]) {
      chownSync(join(scratch, s), owner.uid, owner.gid);
      renameSync(join(scratch, s), join(db.target.repo, 'stream', s));
    }
    await until('the refusal', () => stream.text().includes('REFUSED'));
    await until('the identical copy to be pushed', () => stream.text().split(`archived ${same}`).length > pushedBefore && !streamFiles().includes(same));
    expect(stream.text()).toContain(`REFUSED ${differs} is already in pgBackRest's archive of stanza "${NAME}" with different contents (pgBackRest error 45); the stream's copy was not pushed (left in ${join(db.target.repo, 'stream')})`);
    // Reported once, kept, and the archive still holds the original.
    await sleep(1500);
    expect(stream.text().split(`REFUSED ${differs}`).length).toBe(2);
    expect(streamFiles()).toContain(differs);
    expect(pgbackrestArchived().filter((s) => s === differs)).toHaveLength(1);
    rmSync(join(db.target.repo, 'stream', differs));
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  it('kill -9 of the server a second after a marker commit: restore latest through pgBackRest reaches the marker from the .partial (RPO 0), and a time inside the partial stops before it', async () => {
    for (let i = 0; i < 20; i++) await db.sql(`INSERT INTO ticks (note) VALUES ('tick ${i}')`);
    const marker = (await db.sql<{ at: Date }>(`INSERT INTO ticks (note) VALUES ('marker') RETURNING at`))[0]!.at;
    markerAt = marker;
    await sleep(1000);
    signalProcess(db.server.pid, 'SIGKILL');
    await waitForPidExit(db.server.pid, 10_000);
    // 1: the stream reports the file it refused earlier when it stops.
    expect(await stream.stop()).toBe(1);
    const partials = streamFiles().filter((f) => f.endsWith('.partial'));
    expect(partials).toHaveLength(1);
    const partial = partials[0]!.slice(0, 24);
    expect(pgbackrestArchived()).not.toContain(partial);

    // The window and the restore picker end at the partial's last commit.
    const w = await cli(['window', NAME, '--json']);
    expect(w.code, w.stderr).toBe(0);
    const win = JSON.parse(w.stdout) as { to: string; newestSegment: string };
    expect(win.newestSegment).toBe(partial);
    expect(Date.parse(win.to)).toBeGreaterThanOrEqual(marker.getTime());

    // A time past the window is still refused before anything is written.
    const beyond = await restores.restore(NAME, ['--to', new Date(Date.parse(win.to) + 3_600_000).toISOString()]);
    expect(beyond.code).toBe(2);
    expect(existsSync(join(beyond.into, 'PG_VERSION'))).toBe(false);

    const r = await restores.restore(NAME, ['--to', 'latest']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report!.plan.walTo).toBe(partial);
    restoredDir = r.into;
    const auto = readFileSync(join(r.into, 'postgresql.auto.conf'), 'utf8');
    expect(auto).toMatch(/restore_command = '.*archive-get %f "%p"; r=\$\?; test \$r = 1 && exec \S+ \S+main\.js wal-fetch --repo=\S+ --pgbackrest-archive=\S+ %f "%p"; exit \$r'/);
    expect(await markerAndTicks(db, r.report!.port)).toEqual({ marker: 1, ticks: 20 });

    // A time inside the partial: the ticks committed before it, the marker (committed after its row's clock) not.
    const pitr = await restores.restore(NAME, ['--to', marker.toISOString()]);
    expect(pitr.code, pitr.stderr).toBe(0);
    expect(pitr.report!.plan.walTo).toBe(partial);
    expect(await markerAndTicks(db, pitr.report!.port)).toEqual({ marker: 0, ticks: 20 });
  }, 180_000);

  it("a drill restores the pgBackRest set and replays the .partial up to the marker", async () => {
    const d = await cli(['drill', NAME, '--json']);
    expect(d.code, d.stderr).toBe(0);
    const report = JSON.parse(d.stdout) as { rpo: { lastCommitAt?: string } };
    expect(Date.parse(report.rpo.lastCommitAt!)).toBeGreaterThanOrEqual(markerAt.getTime());
  }, 180_000);

  it("wal-fetch after archive-get: the stream's .partial as the segment, exit 1 for what only pgBackRest could hold, 255 (a gap) when a later segment is archived; four pushes of one file at once all succeed (pgBackRest error 104 tried again); a history file is pushed too", async () => {
    const repo = db.target.repo;
    const archiveDir = join(repo, 'pgbackrest', 'archive', NAME, '15-1');
    const fetchTo = join(repo, 'fetched');
    const fetch = (name: string) => runCli(['wal-fetch', '--repo', repo, '--pgbackrest-archive', archiveDir, name, fetchTo]);
    const partial = streamFiles().find((f) => f.endsWith('.partial'))!.slice(0, 24);
    const ok = await fetch(partial);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(fetchTo).equals(readFileSync(join(repo, 'stream', `${partial}.partial`)))).toBe(true);
    rmSync(fetchTo);
    expect((await fetch('00000002.history')).code).toBe(1);

    // switched[1] leaves pgBackRest's archive while a .partial of it sits in stream/: never handed over.
    const gap = switched[1]!;
    const dir = join(archiveDir, gap.slice(0, 16));
    const stored = readdirSync(dir).find((f) => f.startsWith(`${gap}-`))!;
    renameSync(join(dir, stored), join(repo, stored));
    copyFileSync(join(repo, 'stream', `${partial}.partial`), join(repo, 'stream', `${gap}.partial`));
    try {
      const g = await fetch(gap);
      expect(g.code).toBe(255);
      expect(g.stderr).toContain(`${gap} cannot be restored: it is missing from pgBackRest's archive ${archiveDir} while the later segment ${switched[2]} of timeline 1 is archived: a gap in the WAL`);
      expect(existsSync(fetchTo)).toBe(false);
    } finally {
      rmSync(join(repo, 'stream', `${gap}.partial`));
      renameSync(join(repo, stored), join(dir, stored));
    }

    // archive_command and the stream push the same segment at about the same moment: pgBackRest's
    // temp files collide (error 104) and pushStreamed tries again (with one try, this part fails:
    // checked). A segment full of rows, so that compressing it keeps the pushes overlapping, under
    // a name far past the WAL used.
    const pb = await openPgbackrest(db.target);
    const twin = join(repo, 'stream', '0000000100000000000000F0');
    await withPlainSegmentsFromPgbackrest(pb, 1, [parseSegment(switched[0]!)!.segNo], async (dir) => copyFileSync(join(dir, switched[0]!), twin));
    chownSync(twin, statSync(join(repo, 'stream')).uid, statSync(join(repo, 'stream')).gid);
    await Promise.all([1, 2, 3, 4].map(() => pushStreamed(pb, twin)));
    expect(pgbackrestArchived().filter((s) => s === '0000000100000000000000F0')).toHaveLength(1);

    // A timeline history file the receiver wrote goes the same way: the restore's own 00000002.history.
    const history = join(repo, 'stream', '00000002.history');
    copyFileSync(join(restoredDir, 'pg_wal', '00000002.history'), history);
    chownSync(history, statSync(join(repo, 'stream')).uid, statSync(join(repo, 'stream')).gid);
    const settled = await (await pgbackrestStreamSink({ ...db.target, method: 'pgbackrest' })).settle();
    expect(settled.moved).toContain('00000002.history');
    expect(existsSync(history)).toBe(false);
    expect(readFileSync(join(archiveDir, '00000002.history'), 'utf8')).toBe(readFileSync(join(restoredDir, 'pg_wal', '00000002.history'), 'utf8'));
  }, 60_000);
});
