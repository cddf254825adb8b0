import { mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { ArchivedPostgres } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';
import { readDbw } from './helpers/wal-files.js';

const cfg = tempConfigDir();
const runDir = sandboxRunDir();
let db: ArchivedPostgres;
let env: Record<string, string>;
const restoredPids: number[] = [];
const sql = <T extends import('pg').QueryResultRow>(text: string, port?: number) => db.sql<T>(text, port);

const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });

beforeAll(async () => {
  db = await ArchivedPostgres.start('pitr');
  env = { DBDRILL_CONFIG_DIR: cfg.dir, PITR_PW: db.server.password };
  const add = await cli(['target', 'add', 'pitr', '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', 'PITR_PW']);
  expect(add.code, add.stderr).toBe(0);
});

afterAll(async () => {
  for (const pid of restoredPids) {
    if (isPidAlive(pid)) {
      signalProcess(pid, 'SIGINT');
      await waitForPidExit(pid, 20_000);
    }
  }
  await db?.stop();
  for (const d of ['pitr-restored', 'pitr-busy', 'pitr-gap', 'pitr-refused']) rmSync(join(runDir, `${d}-${process.pid}`), { recursive: true, force: true });
  cfg.cleanup();
});

describe('point-in-time restore of PostgreSQL', () => {
  let markedAt = '';
  let afterGap = '';

  it('archives through wal-push, restores to a marked time, and excludes later writes', async () => {
    const backup = await cli(['backup', 'pitr', '--kind', 'physical', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    await sql('CREATE TABLE marks (n int PRIMARY KEY, note text)');
    await sql(`INSERT INTO marks VALUES (1, 'before the mark')`);
    await new Promise((r) => setTimeout(r, 300));
    markedAt = await db.now();
    await new Promise((r) => setTimeout(r, 300));
    await sql(`INSERT INTO marks VALUES (2, 'after the mark')`);
    await sql('DROP TABLE order_items');
    await db.switchAndArchive();

    const w = await cli(['window', 'pitr', '--json']);
    expect(w.code, w.stderr).toBe(0);
    const win = JSON.parse(w.stdout) as { from: string; to: string; gaps: unknown[]; segments: number };
    expect(win.gaps).toEqual([]);
    expect(Date.parse(win.from)).toBeLessThan(Date.parse(markedAt));
    expect(Date.parse(win.to)).toBeGreaterThan(Date.parse(markedAt));

    const into = join(runDir, `pitr-restored-${process.pid}`);
    const port = db.server.port + 1000 > 65000 ? db.server.port - 1000 : db.server.port + 1000;
    const r = await cli(['restore', 'pitr', '--to', markedAt, '--into', into, '--port', String(port), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { pid: number; timeline: number; reached: { lastCommitAt: string }; plan: { settings: Record<string, string> } };
    restoredPids.push(report.pid);
    // All six digits of the time given: a Date would keep three (issue 11).
    expect(report.plan.settings).toMatchObject({ recovery_target_time: markedAt.replace('T', ' ').replace('Z', '+00'), recovery_target_timeline: '1' });
    expect(report.timeline).toBe(2);
    expect(Date.parse(report.reached.lastCommitAt)).toBeLessThanOrEqual(Date.parse(markedAt));

    // The dropped table is back, the row written after the mark is not.
    const marks = await sql<{ n: number }>('SELECT n FROM marks ORDER BY n', port);
    expect(marks.map((m) => m.n)).toEqual([1]);
    const items = await sql<{ count: string }>('SELECT count(*) FROM order_items', port);
    expect(Number(items[0]!.count)).toBe(4000);
    // The restored copy does not archive into the production archive.
    const mode = await sql<{ archive_mode: string }>('SHOW archive_mode', port);
    expect(mode[0]!.archive_mode).toBe('off');
    // The source is untouched: its later writes are still there.
    expect((await sql<{ n: number }>('SELECT n FROM marks ORDER BY n')).map((m) => m.n)).toEqual([1, 2]);

    signalProcess(report.pid, 'SIGINT');
    expect(await waitForPidExit(report.pid, 20_000)).toBe(true);
  });

  it('refuses targets outside the window before writing anything', async () => {
    const into = join(runDir, `pitr-refused-${process.pid}`);
    const early = await cli(['restore', 'pitr', '--to', '2020-01-01T00:00:00Z', '--into', into, '--port', '1']);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/\ndbdrill: 2020-01-01 00:00:00Z is before the earliest restorable point \(.*\); the recoverable window is .* → .*\.\n$/);
    const late = await cli(['restore', 'pitr', '--to', new Date(Date.now() + 3600_000).toISOString(), '--into', into, '--port', '1']);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/is past the end of the recoverable window \(.* → .*\): the newest archived commit is at .*; choose an earlier time, or --to latest/);
    const zoneless = await cli(['restore', 'pitr', '--to', '2026-11-25 10:00', '--into', into, '--port', '1']);
    expect(zoneless.code).toBe(2);
    expect(zoneless.stderr).toContain('has no time zone');
    expect(() => readdirSync(into)).toThrow();
  });

  it('refuses a non-empty destination and leaves it as it was', async () => {
    const into = join(runDir, `pitr-busy-${process.pid}`);
    mkdirSync(into, { recursive: true });
    writeFileSync(join(into, 'precious.txt'), 'keep me');
    const r = await cli(['restore', 'pitr', '--to', 'latest', '--into', into, '--port', '45999']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not empty; a restore never writes over existing files');
    expect(readdirSync(into)).toEqual(['precious.txt']);
  });

  it('reports a deleted segment as a gap and refuses a restore that needs it', async () => {
    await sql(`INSERT INTO marks VALUES (3, 'segment a')`);
    const missing = await db.switchAndArchive();
    await sql(`INSERT INTO marks VALUES (4, 'segment b')`);
    await db.switchAndArchive();
    await sql(`INSERT INTO marks VALUES (5, 'segment c')`);
    afterGap = await db.now();
    await db.switchAndArchive();
    unlinkSync(join(db.repo, 'wal', missing.slice(0, 8), `${missing}.dbw`));

    const w = await cli(['window', 'pitr', '--json']);
    const win = JSON.parse(w.stdout) as { gaps: { from: string; to: string; missing: number }[]; to: string };
    expect(win.gaps).toEqual([{ timeline: 1, from: missing, to: missing, missing: 1 }]);
    expect(Date.parse(win.to)).toBeLessThan(Date.parse(afterGap));
    const text = await cli(['window', 'pitr']);
    expect(text.stdout).toContain(`GAP  timeline 1: ${missing}…${missing} missing (1 segment(s))`);

    const r = await cli(['restore', 'pitr', '--to', afterGap, '--into', join(runDir, `pitr-gap-${process.pid}`), '--port', '45998']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`replay would stop at the gap ${missing}…${missing} in the archive`);
  });

  it('wal-push refuses to overwrite an archived segment with different bytes', async () => {
    const dir = join(db.repo, 'wal', '00000001');
    const stored = readdirSync(dir).filter((n) => /^[0-9A-F]{24}\.dbw$/.test(n)).sort()[0]!;
    const name = stored.slice(0, 24);
    // The same segment with one byte changed past its header: valid, but not what is archived.
    const fake = join(cfg.dir, name);
    const bytes = readDbw(join(dir, stored)).payload;
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(fake, bytes);
    const r = await cli(['wal-push', '--repo', db.repo, '--allow-root', fake]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^dbdrill: ${name} is already archived with different contents \\(archived sha256 [0-9a-f]{64}, new sha256 [0-9a-f]{64}\\); it was not overwritten`));
  });
});
