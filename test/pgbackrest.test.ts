import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../src/config/target.js';
import { archiveIdDir, readPgbackrestInventory } from '../src/engines/postgres/pgbackrest/archive.js';
import { pgbackrestBackup } from '../src/engines/postgres/pgbackrest/backup.js';
import { chainOf, type PgbackrestBackupRow } from '../src/engines/postgres/pgbackrest/catalog.js';
import { findPgbackrest, runPgbackrest, type Pgbackrest } from '../src/engines/postgres/pgbackrest/command.js';
import { stanzaBackupDir } from '../src/engines/postgres/pgbackrest/layout.js';
import { checkLocalDataDir } from '../src/engines/postgres/pgbackrest/local-server.js';
import { pgbackrestPitrRestore } from '../src/engines/postgres/pgbackrest/restore.js';
import { preparePgbackrest, readConf } from '../src/engines/postgres/pgbackrest/setup.js';
import { readStanzaInfo, stanzaCheck, stanzaCreate } from '../src/engines/postgres/pgbackrest/stanza.js';
import { pgbackrestVerify } from '../src/engines/postgres/pgbackrest/verify.js';
import { readPgbackrestArchive } from '../src/engines/postgres/pgbackrest/window.js';
import { planRestore } from '../src/pitr/plan.js';
import { segmentName } from '../src/pitr/wal-names.js';
import { freePort } from '../src/sandbox/ports.js';
import { failEngine, PgbackrestPostgres, RestoredServers, runEngine } from './helpers/pgbackrest-pg.js';

const STANZA = 'pgbr';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Flips one byte of a file in place; returns a function that flips it back. */
function flipByte(file: string, at: number): () => void {
  const flip = () => {
    const fd = openSync(file, 'r+');
    try {
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, at);
      b[0] = b[0]! ^ 0xff;
      writeSync(fd, b, 0, 1, at);
    } finally {
      closeSync(fd);
    }
  };
  flip();
  return flip;
}

describe('pgBackRest as a PostgreSQL method (real PostgreSQL 15 and pgBackRest 2.45)', () => {
  let db: PgbackrestPostgres;
  let pb: Pgbackrest;
  const restores = new RestoredServers(STANZA);
  /** Server times between the writes and the next backup: [after A, after B, after C]. */
  const marks: Date[] = [];
  let rows: PgbackrestBackupRow[] = [];

  beforeAll(async () => {
    db = await PgbackrestPostgres.start(STANZA);
  }, 120_000);

  afterAll(async () => {
    await restores.stopAll();
    await db?.stop();
  }, 120_000);

  it('writes a conf under the repository with no secret, creates the stanza, and check proves archive-push reaches it', async () => {
    const prepared = await preparePgbackrest(db.target);
    pb = prepared.pb;
    expect(prepared.server).toMatchObject({ dataDir: db.server.dataDir, socketDir: db.server.socketDir, port: db.server.port });
    const conf = readConf(db.target);
    expect(conf).toBe(prepared.conf);
    expect(conf).toContain(`\n[${STANZA}]\npg1-path=${db.server.dataDir}\npg1-port=${db.server.port}\npg1-socket-path=${db.server.socketDir}\npg1-user=dbdrill\npg1-database=shop\n`);
    expect(conf).toContain(`repo1-path=${join(db.target.repo, 'pgbackrest')}\n`);
    expect(conf).not.toContain(db.server.password);
    expect(statSync(pb.layout.confFile).mode & 0o777).toBe(0o600);

    const { value: info } = await runEngine((ctx) => stanzaCreate(ctx, pb, prepared.server.systemId));
    expect(info.db[0]!.systemId).toBe(prepared.server.systemId);
    await runEngine((ctx) => stanzaCheck(ctx, pb));
    const after = await readStanzaInfo(pb);
    expect(after!.archive[0]!.max).toMatch(/^[0-9A-F]{24}$/);
  }, 120_000);

  it('refuses a diff or incr before any full, and takes nothing', async () => {
    for (const type of ['incr', 'diff'] as const) {
      const { error } = await failEngine((ctx) => pgbackrestBackup(ctx, pb, STANZA, { type }));
      expect(error.message).toBe(`There is no full pgBackRest backup of "${STANZA}" for a ${type} to build on; take one with --type full first.`);
      expect(error.exitCode).toBe(2);
    }
    expect((await readStanzaInfo(pb))!.backup).toEqual([]);
  }, 60_000);

  it('full → writes → diff → writes → incr: catalog rows with type, prior and the chain, and live progress', async () => {
    await db.sql('CREATE TABLE pgbr_rows (id int PRIMARY KEY, phase text NOT NULL)');
    const full = await runEngine((ctx) => pgbackrestBackup(ctx, pb, STANZA, { type: 'full' }));
    const progress = full.events.flatMap((e) => (e.type === 'progress' ? [e] : []));
    expect(progress.map((p) => p.phase)).toContain('waiting for checkpoint');
    const copying = progress.filter((p) => p.unit === 'bytes');
    expect(copying.length).toBeGreaterThan(10);
    expect(copying.at(-1)!.done).toBeGreaterThan(10 * 1024 * 1024);
    expect(copying.at(-1)!.total).toBe(copying.at(-1)!.done);
    expect(full.events.some((e) => e.type === 'step' && e.step === 'full backup' && e.status === 'done')).toBe(true);

    const writes = async (phase: string, from: number) => {
      // Past the previous set's consistent point (its stop second + 1).
      await sleep(1200);
      await db.sql(`INSERT INTO pgbr_rows SELECT g, '${phase}' FROM generate_series(${from}, ${from + 99}) g`);
      marks.push(await db.now());
      await sleep(200);
    };
    await writes('A', 1);
    const diff = await runEngine((ctx) => pgbackrestBackup(ctx, pb, STANZA, { type: 'diff' }));
    await writes('B', 101);
    const incr = await runEngine((ctx) => pgbackrestBackup(ctx, pb, STANZA, { type: 'incr' }));
    await writes('C', 201);
    // A commit after the last mark, for recovery to stop before.
    await db.sql(`INSERT INTO pgbr_rows VALUES (301, 'D')`);

    expect(full.value.row).toMatchObject({ type: 'full', method: 'pgbackrest', status: 'complete', reference: [] });
    expect(diff.value.row).toMatchObject({ type: 'diff', prior: full.value.label, reference: [full.value.label] });
    expect(incr.value.row).toMatchObject({ type: 'incr', prior: diff.value.label, reference: [full.value.label, diff.value.label] });
    // pgBackRest copies only what changed: the diff and incr are far smaller than the full.
    expect(diff.value.row.pgbackrest.delta).toBeLessThan(full.value.row.pgbackrest.delta / 2);
    expect(incr.value.tool.argv).toContain('--type=incr');

    const info = await readStanzaInfo(pb);
    const view = await readPgbackrestArchive(pb, STANZA);
    rows = view.manifests;
    expect(rows.map((r) => [r.id, r.type, r.prior])).toEqual([
      [incr.value.label, 'incr', diff.value.label],
      [diff.value.label, 'diff', full.value.label],
      [full.value.label, 'full', undefined],
    ]);
    expect(chainOf(rows, incr.value.label).map((r) => r.type)).toEqual(['full', 'diff', 'incr']);
    for (const r of rows) {
      expect(r.postgres).toMatchObject({ timeline: 1, systemId: info!.db[0]!.systemId });
      expect(r.postgres!.startLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(r.sizeBytes).toBeGreaterThan(0);
      expect(new Date(r.postgres!.consistentAt!).getTime()).toBeGreaterThan(new Date(r.startedAt).getTime());
    }
  }, 180_000);

  it('reads the archive as a gap-free inventory matching pgbackrest info, with a window up to the last writes', async () => {
    // The segment just finished holds the C writes; it reaches the repository through the async queue.
    const last = (await db.sql<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name'))[0]!.name;
    const info = (await readStanzaInfo(pb))!;
    const archiveDir = archiveIdDir(pb, '15-1');
    for (let i = 0; i < 100 && !(readPgbackrestInventory(archiveDir).timelines.get(1) ?? []).includes(parseInt(last.slice(16), 16)); i++) await sleep(100);
    const view = await readPgbackrestArchive(pb, STANZA);
    const segs = view.inventory.timelines.get(1)!;
    expect(segs).toEqual(Array.from({ length: segs.length }, (_, i) => segs[0]! + i));
    expect(segmentName({ timeline: 1, segNo: segs[0]! })).toBe(info.archive[0]!.min);
    expect(segmentName({ timeline: 1, segNo: segs.at(-1)! })).toBe(last);
    expect(view.window.gaps).toEqual([]);
    expect(view.window.from).toBe(rows.at(-1)!.postgres!.consistentAt);
    // The last commit replayable is the D write, made right after the last mark.
    const to = new Date(view.window.to!).getTime();
    expect(to).toBeGreaterThan(marks[2]!.getTime());
    expect(to).toBeLessThan(marks[2]!.getTime() + 1000);
  }, 60_000);

  it('restores each set to a time after the writes it holds, chosen by the planner, with exact rows', async () => {
    const view = await readPgbackrestArchive(pb, STANZA);
    const at = (i: number) => ({ kind: 'time' as const, at: marks[i]!, input: marks[i]!.toISOString() });
    const expected = [
      { target: at(0), set: rows[2]!.id, phases: { A: 100 } },
      { target: at(1), set: rows[1]!.id, phases: { A: 100, B: 100 } },
      { target: at(2), set: rows[0]!.id, phases: { A: 100, B: 100, C: 100 } },
      { target: { kind: 'latest' as const }, set: rows[0]!.id, phases: { A: 100, B: 100, C: 100, D: 1 } },
    ];
    for (const want of expected) {
      const target = want.target;
      const plan = planRestore(target, view.manifests, view.inventory, view.window, view.lastCommit);
      expect(plan.backup.id).toBe(want.set);
      const dataDir = restores.dir();
      const port = await freePort();
      const { value: out } = await runEngine((ctx) =>
        pgbackrestPitrRestore(ctx, pb, {
          set: plan.backup.id, target, timeline: plan.timeline, dataDir, port, targetName: STANZA, serverMajor: 15,
          expect: { segments: plan.segments, startLsn: plan.startLsn, endLsn: plan.endLsn },
        }),
      );
      restores.track(out.pid);
      const got = await db.sql<{ phase: string; n: string }>('SELECT phase, count(*) AS n FROM pgbr_rows GROUP BY phase ORDER BY phase', port);
      expect(Object.fromEntries(got.map((r) => [r.phase, Number(r.n)]))).toEqual(want.phases);
      if (target.kind === 'time') expect(out.state.stoppedBefore?.before).toBe(true);
      else expect(out.state.stoppedBefore).toBeUndefined();
      expect(out.bytes).toBeGreaterThan(0);
      const auto = readFileSync(join(dataDir, 'postgresql.auto.conf'), 'utf8');
      expect(auto).toContain("archive_mode = 'off'");
      if (target.kind === 'time') expect(auto).toContain("recovery_target_action = 'promote'");
      expect(auto).toMatch(/restore_command = '.*--no-archive-async archive-get %f "%p"'/);
      expect(auto).toContain(`port = '${port}'`);
      await restores.stop(out.pid);
    }
  }, 240_000);
});
