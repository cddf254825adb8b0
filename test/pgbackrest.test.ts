import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../src/config/target.js';
import { archiveIdDir, readPgbackrestInventory } from '../src/engines/postgres/pgbackrest/archive.js';
import { pgbackrestBackup } from '../src/engines/postgres/pgbackrest/backup.js';
import { pgbackrestExpire } from '../src/engines/postgres/pgbackrest/expire.js';
import { chainOf, type PgbackrestBackupRow } from '../src/engines/postgres/pgbackrest/catalog.js';
import { runPgbackrest, type Pgbackrest } from '../src/engines/postgres/pgbackrest/command.js';
import { stanzaBackupDir } from '../src/engines/postgres/pgbackrest/layout.js';
import { checkLocalDataDir } from '../src/engines/postgres/pgbackrest/local-server.js';
import { pgbackrestPitrRestore } from '../src/engines/postgres/pgbackrest/restore.js';
import { preparePgbackrest, readConf } from '../src/engines/postgres/pgbackrest/setup.js';
import { readStanzaInfo, stanzaCheck, stanzaCreate } from '../src/engines/postgres/pgbackrest/stanza.js';
import { pgbackrestVerify } from '../src/engines/postgres/pgbackrest/verify.js';
import { readPgbackrestArchive } from '../src/engines/postgres/pgbackrest/window.js';
import { planRestore } from '../src/pitr/plan.js';
import { replayCheckOf } from '../src/pitr/reached.js';
import { segmentName } from '../src/pitr/wal-names.js';
import { findTool } from '../src/runner/tools.js';
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
      expect(error.message).toBe(`There is no full pgBackRest backup of "${STANZA}" for ${type === 'incr' ? 'an incr' : 'a diff'} to build on; take one with --type full first.`);
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
    const at = (i: number) => ({ kind: 'time' as const, at: marks[i]!, input: marks[i]!.toISOString(), usec: marks[i]!.getUTCMilliseconds() * 1000 });
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
          expect: { segments: plan.segments, startLsn: plan.startLsn, endLsn: plan.endLsn, check: replayCheckOf(plan) },
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
  it('verify passes a healthy repository, then names a flipped byte in a diff, the incr that reads it and a damaged segment; a restore of that diff stops at the file', async () => {
    const healthy = await runEngine((ctx) => pgbackrestVerify(ctx, pb, STANZA));
    expect(healthy.value.verdict).toMatchObject({ ok: true, findings: [] });
    expect(healthy.value.rows.map((r) => r.status)).toEqual(['complete', 'complete', 'complete']);

    const [incr, diff, full] = [rows[0]!.id, rows[1]!.id, rows[2]!.id];
    const diffData = join(stanzaBackupDir(pb.layout, STANZA), diff);
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
    const victim = files(join(diffData, 'pg_data')).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const rel = victim.slice(diffData.length + 1).replace(/\.zst$/, '');
    const undoFile = flipByte(victim, Math.floor(statSync(victim).size / 2));
    const archiveDir = archiveIdDir(pb, '15-1');
    const segDir = join(archiveDir, '0000000100000000');
    const segFile = readdirSync(segDir).find((f) => f.startsWith('000000010000000000000002-'))!;
    const undoSeg = flipByte(join(segDir, segFile), 500);
    try {
      const bad = await runEngine((ctx) => pgbackrestVerify(ctx, pb, STANZA));
      const v = bad.value.verdict;
      expect(v.ok).toBe(false);
      expect(v.damaged.get(diff)).toMatch(new RegExp(`^${rel} (does not match its checksum|cannot be read)`));
      expect(v.damaged.get(incr)).toBe(`it references backup ${diff}, which is damaged`);
      expect(v.damaged.has(full)).toBe(false);
      expect(v.findings.some((f) => f.startsWith('WAL segment 000000010000000000000002 in the archive '))).toBe(true);
      expect(bad.value.rows.map((r) => [r.id, r.status])).toEqual([[incr, 'corrupt'], [diff, 'corrupt'], [full, 'complete']]);
      expect(bad.value.rows[1]!.verification![0]).toMatchObject({ method: 'pgbackrest verify', ok: false });

      // pgBackRest checks every file it restores: the damaged one stops the restore before any server starts.
      const dataDir = restores.dir();
      const port = await freePort();
      const { error } = await failEngine((ctx) =>
        pgbackrestPitrRestore(ctx, pb, { set: diff, target: { kind: 'immediate' }, dataDir, port, targetName: STANZA, serverMajor: 15, expect: { segments: 1, check: { target: { kind: 'immediate' }, settings: {}, promise: { kind: 'consistent', lsn: '0/0' }, legs: [], segmentBytes: 16 * 1024 * 1024 } } }),
      );
      expect(error.exitCode).toBe(1);
      // Named either way pgBackRest notices it: a checksum that differs, or a copy that no longer decompresses.
      expect(error.message).toMatch(/^pgBackRest stopped the restore/);
      expect(error.message).toContain(rel.replace(/^pg_data\//, ''));
      expect(existsSync(join(dataDir, 'global', 'pg_control'))).toBe(false);
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    } finally {
      undoFile();
      undoSeg();
    }
    // A missing segment in the middle of the archive, which pgBackRest's verify does not report.
    const gapFile = readdirSync(segDir).find((f) => f.startsWith('000000010000000000000003-'))!;
    renameSync(join(segDir, gapFile), join(archiveDir, gapFile));
    try {
      const gap = await runEngine((ctx) => pgbackrestVerify(ctx, pb, STANZA));
      expect(gap.value.report.status).toBe('ok');
      expect(gap.value.verdict.ok).toBe(false);
      expect(gap.value.verdict.findings).toContain('The archive lacks WAL 000000010000000000000003…000000010000000000000003 (1 segment); no restore replays past it.');
    } finally {
      renameSync(join(archiveDir, gapFile), join(segDir, gapFile));
    }
    expect((await runEngine((ctx) => pgbackrestVerify(ctx, pb, STANZA))).value.verdict.ok).toBe(true);
  }, 180_000);

  it('reaches a server that demands a password through PGPASSWORD only; a wrong one gets one sentence', async () => {
    const hba = join(db.server.dataDir, 'pg_hba.conf');
    const original = readFileSync(hba, 'utf8');
    writeFileSync(hba, original.replace(/^local(\s+)all(\s+)all(\s+)trust/m, 'local$1all$2all$3scram-sha-256'));
    await db.sql('SELECT pg_reload_conf()');
    try {
      await runEngine((ctx) => stanzaCheck(ctx, pb));
      const { error } = await failEngine((ctx) => stanzaCheck(ctx, { ...pb, secret: { kind: 'pg', password: 'not-the-password' } }));
      expect(error.code).toBe('auth-failed');
      expect(error.exitCode).toBe(2);
      expect(error.message).toBe('pgBackRest could not connect to the PostgreSQL server of stanza "pgbr" through its Unix socket: password authentication failed for user "dbdrill"; check the target\'s user and password.');
      expect(error.message).not.toContain('not-the-password');
      expect(readConf(db.target)).not.toContain(db.server.password);
    } finally {
      writeFileSync(hba, original);
      await db.sql('SELECT pg_reload_conf()');
    }
  }, 120_000);

  it('refuses the stanza of another cluster naming both system ids, leaving the conf alone; refuses a data directory that is not this server\'s', async () => {
    const other = await PgbackrestPostgres.start(STANZA, { sampleData: false, repo: db.target.repo, archive: false });
    try {
      const before = readConf(db.target);
      const ours = (await readStanzaInfo(pb))!.db[0]!.systemId;
      const theirs = (await other.sql<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()'))[0]!.id;
      const error = await preparePgbackrest(other.target).then(() => undefined, (e: Error & { exitCode?: number }) => e);
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toBe(
        `The pgBackRest stanza "pgbr" in ${join(db.target.repo, 'pgbackrest')} belongs to another cluster (system id ${ours}), not to this target's server (system id ${theirs}); give the target a repository of its own, or remove that stanza if its cluster is gone.`,
      );
      expect(readConf(db.target)).toBe(before);

      // A server reached over the network may report a path that exists here for another cluster.
      expect(() => checkLocalDataDir('remote', other.server.dataDir, ours)).toThrow(
        `${other.server.dataDir} on this machine holds another cluster (system id ${theirs}) than the server of target "remote" (system id ${ours}), which is elsewhere; pgBackRest copies the data directory itself, so run dbdrill on the database host (or keep the native method for a server reached only over the network).`,
      );
      expect(() => checkLocalDataDir('remote', '/var/lib/postgresql/99/main', ours)).toThrow(
        'The server of target "remote" keeps its data in /var/lib/postgresql/99/main, which is not on this machine; pgBackRest copies the data directory itself, so run dbdrill on the database host (or keep the native method for a server reached only over the network).',
      );
    } finally {
      await other.stop({ keepRepo: true });
    }
  }, 120_000);

  it('says how to install pgBackRest when it is missing, before writing anything', async () => {
    const path = process.env.PATH;
    const target: Target = { ...db.target, repo: join(db.target.repo, '..', `pgbr-missing-${process.pid}`) };
    process.env.PATH = '/nonexistent';
    try {
      const error = await preparePgbackrest(target).then(() => undefined, (e: Error & { exitCode?: number }) => e);
      expect(error?.message).toBe('pgbackrest is not installed (looked in PATH and /usr/lib/postgresql/*/bin); install it with: apt-get install pgbackrest.');
      expect(error?.exitCode).toBe(2);
    } finally {
      process.env.PATH = path;
    }
    expect(existsSync(target.repo)).toBe(false);
    await expect(findTool('pgbackrest')).resolves.toMatchObject({ name: 'pgbackrest', version: '2.45' });
  });

  it('names the pgBackRest process that holds the backup lock, and an interrupted backup leaves no set behind', async () => {
    // Dirty buffers, so the spread checkpoint the first backup waits for takes a while.
    await db.sql('CREATE TABLE pgbr_lock AS SELECT g, md5(g::text) AS v FROM generate_series(1, 200000) g');
    const sets = (await readStanzaInfo(pb))!.backup.length;
    const stop = new AbortController();
    let holder: number | undefined;
    const first = runPgbackrest(pb, 'backup', ['--type=full', '--no-start-fast'], {
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'start') holder = e.pid;
      },
    }).then(() => undefined, (e: Error & { code?: string }) => e);
    const lockFile = join(pb.layout.lockPath, `${STANZA}-backup.lock`);
    for (let i = 0; i < 100; i++) {
      try {
        if (holder !== undefined && (JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number }).pid === holder) break;
      } catch {
        // not written yet
      }
      await sleep(100);
    }
    try {
      const { error } = await failEngine((ctx) => pgbackrestBackup(ctx, pb, STANZA, { type: 'incr' }));
      expect(error.exitCode).toBe(1);
      expect(error.message).toMatch(new RegExp(`^pgBackRest backup of stanza "pgbr" did not start: process ${holder} \\(\\S*pgbackrest .*backup\\) holds its backup lock \\(${lockFile}\\); wait for it to finish, or stop it, and run this again\\.$`));
    } finally {
      stop.abort();
    }
    expect((await first)?.code).toBe('aborted');
    expect((await readStanzaInfo(pb))!.backup.length).toBe(sets);
  }, 120_000);
  it('expires the set it is told to with what depends on it, keeping the chain below', async () => {
    const [incr, diff, full] = [rows[0]!.id, rows[1]!.id, rows[2]!.id];
    const before = (await readStanzaInfo(pb))!.backup.map((b) => b.label);
    expect(before).toEqual([full, diff, incr]);
    const { events } = await runEngine((ctx) => pgbackrestExpire(ctx, pb, { set: diff }));
    expect(events.some((e) => e.type === 'tool-line' && e.text.includes(`expire adhoc backup set ${diff}, ${incr}`))).toBe(true);
    expect((await readStanzaInfo(pb))!.backup.map((b) => b.label)).toEqual([full]);
    expect(existsSync(join(stanzaBackupDir(pb.layout, STANZA), incr))).toBe(false);
  }, 60_000);
});
