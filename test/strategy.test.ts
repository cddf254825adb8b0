import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archivedSegment } from '../src/pitr/wal-names.js';
import { markExpiring } from '../src/repo/expire.js';
import type { Manifest } from '../src/repo/manifest.js';
import { Repository } from '../src/repo/repository.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { ArchivedPostgres, PitrRestores } from './helpers/archived-pg.js';
import { CLI, runCli, tempConfigDir } from './helpers/cli.js';

/**
 * Tick, prune and the window they leave, on a PostgreSQL of the file's own whose archive_command
 * is the built wal-push. Backups are real pg_basebackup runs; WAL is really archived.
 */
const cfg = tempConfigDir();
let db: ArchivedPostgres;
let env: Record<string, string>;
let restores: PitrRestores;
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
const T = 'strat';

interface TickJson {
  at: string;
  targets: { target: string; action: string; jobs: { job: string; due: boolean; reason: string }[]; runs?: { job: string; status: string; slot?: string; result?: { backup?: string }; error?: string }[] }[];
}

const manifests = () => new Repository(db.repo).catalog().manifests;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for a minute that has at least `room` seconds left, so "the same minute" holds. */
async function freshMinute(room = 40): Promise<void> {
  const s = new Date().getUTCSeconds();
  if (60 - s < room) await sleep((61 - s) * 1000);
}

/** Every complete backup's files are there with their recorded sizes; nothing half gone, nothing left over. */
function catalogAgreesWithFiles(): void {
  const repo = new Repository(db.repo);
  const { manifests: ms, unreadable } = repo.catalog();
  expect(unreadable).toEqual([]);
  for (const m of ms) {
    expect(m.status, m.id).not.toBe('expiring');
    if (m.status !== 'complete') continue;
    for (const f of m.files) expect(statSync(join(repo.backupDir(m.id), f.path)).size, `${m.id}/${f.path}`).toBe(f.bytes);
  }
  const dirs = readdirSync(repo.backupsDir);
  expect(dirs.filter((d) => d.startsWith('.expired-'))).toEqual([]);
  expect(dirs.sort()).toEqual(ms.map((m) => m.id).sort());
}

function walNames(): string[] {
  return readdirSync(join(db.repo, 'wal', '00000001')).flatMap((f) => archivedSegment(f) ?? []).sort();
}

beforeAll(async () => {
  db = await ArchivedPostgres.start('strategy');
  env = { DBDRILL_CONFIG_DIR: cfg.dir, STRAT_PW: db.server.password };
  restores = new PitrRestores(cli, 'strategy');
  const add = await cli(['target', 'add', T, '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', 'STRAT_PW']);
  expect(add.code, add.stderr).toBe(0);
});

afterAll(async () => {
  await restores?.stopAll();
  await db?.stop();
  cfg.cleanup();
});

describe('tick', () => {
  // One test, so no test waits for the next minute: the first tick is killed mid-backup (an
  // interrupted run does not serve its slot), the next runs the full, and a third in the same
  // minute finds it served.
  it('a tick killed mid-backup leaves the next tick able to run the due full, and none runs again in the same minute', async () => {
    const set = await cli(['policy', 'set', T, '--full', '* * * * *', '--json']);
    expect(set.code, set.stderr).toBe(0);
    await freshMinute();
    const child = spawn(process.execPath, [CLI, 'tick', '--wait', '--json'], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const lock = join(db.repo, 'runs', 'lock.json');
    let victim: number | undefined;
    for (let i = 0; i < 600 && victim === undefined; i++) {
      const running = manifests().find((m) => m.status === 'running' && m.tool.name !== '');
      if (running && existsSync(lock)) victim = (JSON.parse(readFileSync(lock, 'utf8')) as { pid: number }).pid;
      else await sleep(20);
    }
    expect(victim, 'the backup never showed as running').toBeDefined();
    signalProcess(victim!, 'SIGKILL');
    child.kill('SIGKILL');
    await waitForPidExit(victim!, 5000);
    expect(existsSync(lock)).toBe(true);

    const first = await cli(['tick', '--wait', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const t1 = JSON.parse(first.stdout) as TickJson;
    const runs1 = t1.targets[0]!.runs!;
    expect(runs1.map((r) => [r.job, r.status])).toEqual([['full', 'ok']]);
    const backup = runs1[0]!.result!.backup!;
    const killed = manifests().find((m) => m.status === 'failed');
    expect(killed?.error).toMatch(/^interrupted: the dbdrill process \d+ on .* is gone/);
    expect(manifests().filter((m) => m.status === 'complete').map((m) => [m.id, m.kind])).toEqual([[backup, 'physical']]);
    const records = readdirSync(join(db.repo, 'runs')).filter((f) => f.endsWith('.json') && f !== 'lock.json').map((f) => JSON.parse(readFileSync(join(db.repo, 'runs', f), 'utf8')) as { job: string; status: string; result?: { backup?: string } });
    expect(records.filter((r) => r.status === 'interrupted')).toHaveLength(1);
    // The run log is in the repository.
    expect(records.filter((r) => r.status === 'ok')).toEqual([expect.objectContaining({ job: 'full', status: 'ok', result: expect.objectContaining({ backup }) })]);
    expect(existsSync(lock)).toBe(false);

    const second = await cli(['tick', '--wait', '--json']);
    const t2 = JSON.parse(second.stdout) as TickJson;
    expect(t2.at.slice(0, 16), 'the machine was too slow to tick twice in one minute').toBe(t1.at.slice(0, 16));
    expect(t2.targets[0]!.action).toBe('idle');
    expect(t2.targets[0]!.jobs[0]!.reason).toMatch(/^not due: the .* run is served/);
    expect(manifests().filter((m) => m.status === 'complete')).toHaveLength(1);
    const off = await cli(['policy', 'set', T, '--full', 'off']);
    expect(off.code, off.stderr).toBe(0);
    // The prune tests below count on two complete fulls from here.
    expect((await cli(['backup', T, '--kind', 'physical'])).code).toBe(0);
  }, 240_000);
});

describe('prune', () => {
  const marks: { n: number; at: string }[] = [];

  it('--keep-full 2 with four fulls: lists, then removes exactly the two oldest and the WAL before the oldest kept', async () => {
    await db.sql('CREATE TABLE strat_marks (n int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())');
    for (const n of [1, 2]) {
      await db.sql(`INSERT INTO strat_marks (n) VALUES (${n})`);
      await sleep(300);
      marks.push({ n, at: await db.now() });
      await db.switchAndArchive();
      const b = await cli(['backup', T, '--kind', 'physical', '--json']);
      expect(b.code, b.stderr).toBe(0);
    }
    await db.sql('INSERT INTO strat_marks (n) VALUES (3)');
    await sleep(300);
    marks.push({ n: 3, at: await db.now() });
    await db.sql('INSERT INTO strat_marks (n) VALUES (4)');
    await db.switchAndArchive();
    const complete = manifests().filter((m) => m.status === 'complete').map((m) => m.id).sort();
    expect(complete).toHaveLength(4);
    const [old1, old2, keep1, keep2] = complete as [string, string, string, string];
    const keptStart = (new Repository(db.repo).readManifest(keep1).postgres!.walStart!).slice(8);
    const walBefore = walNames();
    const expectedGone = walBefore.filter((n) => n.slice(8) < keptStart);
    expect(expectedGone.length).toBeGreaterThan(0);

    expect((await cli(['policy', 'set', T, '--keep-full', '2'])).code).toBe(0);
    const dry = await cli(['prune', T, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { backups: { id: string; keep: boolean; status: string; reasons: string[] }[]; archive: { files: { name: string; keep: boolean }[] } };
    const goingComplete = plan.backups.filter((b) => !b.keep && b.status === 'complete').map((b) => b.id).sort();
    expect(goingComplete).toEqual([old1, old2]);
    expect(plan.backups.find((b) => b.id === old1)!.reasons).toEqual(['keep-full 2 keeps newer physical fulls']);
    expect(plan.backups.filter((b) => b.keep).map((b) => b.id).sort()).toEqual([keep1, keep2]);
    expect(plan.archive.files.filter((f) => !f.keep).map((f) => f.name)).toEqual(expectedGone);
    // A dry run changes nothing.
    expect(walNames()).toEqual(walBefore);
    expect(manifests().filter((m) => m.status === 'complete')).toHaveLength(4);
    const text = await cli(['prune', T, '--dry-run']);
    expect(text.stdout).toContain(`REMOVE ${old1} physical full complete: keep-full 2 keeps newer physical fulls`);

    const run = await cli(['prune', T, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(manifests().map((m) => m.id).sort()).toEqual([keep1, keep2]);
    expect(walNames()).toEqual(walBefore.filter((n) => !expectedGone.includes(n)));
    catalogAgreesWithFiles();

    const w = JSON.parse((await cli(['window', T, '--json'])).stdout) as { from: string; gaps: unknown[] };
    expect(w.gaps).toEqual([]);
    expect(w.from).toBe(new Repository(db.repo).readManifest(keep1).postgres!.consistentAt);
  }, 300_000);

  it('a restore inside the remaining window is exact; one before it is refused naming the new window', async () => {
    const inside = await restores.restore(T, ['--to', marks[2]!.at]);
    expect(inside.code, inside.stderr).toBe(0);
    const rows = await db.sql<{ n: number }>('SELECT n FROM strat_marks ORDER BY n', inside.port);
    expect(rows.map((r) => r.n)).toEqual([1, 2, 3]);
    await restores.stop(inside.report!.pid);

    const before = await restores.restore(T, ['--to', marks[0]!.at]);
    expect(before.code).toBe(2);
    const from = new Repository(db.repo).readManifest(manifests().map((m) => m.id).sort()[0]!).postgres!.consistentAt!;
    // The message keeps the fraction of a second the window starts at.
    expect(before.stderr).toContain(`is before the earliest restorable point (${from.replace('T', ' ').replace(/(\.\d*?)0*Z$/, '$1Z').replace(/\.Z$/, 'Z')}`);
    expect(existsSync(before.into) ? readdirSync(before.into) : []).toEqual([]);
  }, 300_000);

  it('kill -9 during prune, then prune again: catalog and files agree', async () => {
    for (let i = 0; i < 2; i++) {
      await db.switchAndArchive();
      expect((await cli(['backup', T, '--kind', 'physical'])).code).toBe(0);
    }
    const [oldest, second] = manifests().map((m) => m.id).sort() as [string, string];
    // The state a crash between the steps leaves: one backup marked expiring with part of its
    // files gone, one removed up to its rename (a .expired- directory).
    const repo = new Repository(db.repo);
    const m = markExpiring(repo, repo.readManifest(oldest));
    rmSync(join(repo.backupDir(oldest), m.files[0]!.path));
    const cat = JSON.parse((await cli(['catalog', T, '--json'])).stdout) as { backups: { id: string; status: string }[] };
    expect(cat.backups.find((b) => b.id === oldest)!.status).toBe('expiring');
    const w = JSON.parse((await cli(['window', T, '--json'])).stdout) as { from: string };
    // No planner starts from an expiring backup: the window begins at the next one.
    expect(w.from).toBe(repo.readManifest(second).postgres!.consistentAt);

    // And a real kill -9 wherever it lands.
    const child = spawn(process.execPath, [CLI, 'prune', T], { env: { ...process.env, ...env }, stdio: 'ignore' });
    for (let i = 0; i < 500; i++) {
      if (manifests().some((x) => x.id === second && x.status === 'expiring') || child.exitCode !== null) break;
      await sleep(2);
    }
    if (child.pid && isPidAlive(child.pid)) signalProcess(child.pid, 'SIGKILL');
    await waitForPidExit(child.pid!, 5000);
    writeFileSync(join(repo.backupsDir, '.expired-20200101T000000Z-F'), 'left by a crash after the rename');

    const again = await cli(['prune', T, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(manifests().map((x) => x.id).sort()).toEqual(manifests().filter((x) => x.status === 'complete').map((x) => x.id).sort());
    expect(manifests().map((x) => x.id)).not.toContain(oldest);
    expect(manifests().map((x) => x.id)).not.toContain(second);
    expect(manifests()).toHaveLength(2);
    catalogAgreesWithFiles();
  }, 300_000);
});

describe('bad input', () => {
  it('tick with an unreadable config says so in one sentence, exit 2', async () => {
    const bad = tempConfigDir();
    try {
      writeFileSync(join(bad.dir, 'config.json'), '{"version": 1, "targets": {"x": ');
      const r = await runCli(['tick'], { env: { DBDRILL_CONFIG_DIR: bad.dir } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^dbdrill: The config file .*config\.json cannot be read \(.*\); fix the JSON or move the file away\.\n$/);
      writeFileSync(join(bad.dir, 'config.json'), JSON.stringify({ version: 1, targets: { x: { engine: 'postgres', repo: '/tmp/x', policy: { schedule: { full: '0 2 * * 8' } } } } }));
      const r2 = await runCli(['tick'], { env: { DBDRILL_CONFIG_DIR: bad.dir } });
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain('target "x": policy.schedule.full "0 2 * * 8": the day-of-week field "8" is not valid');
    } finally {
      bad.cleanup();
    }
  }, 300_000);

  it('policy set refuses each bad value naming it, and leaves the policy as it was', async () => {
    const cases: [string[], string][] = [
      [['--full', '0 24 * * *'], 'dbdrill: --full "0 24 * * *": the hour field "24" is not valid (0-23, lists a,b, ranges a-b, steps */n).'],
      [['--keep-full', '0'], 'dbdrill: --keep-full 0 would keep nothing; give 1 or more, or leave it out.'],
      [['--gfs', '7d,4q'], 'dbdrill: --gfs "7d,4q": unknown unit "q"; give counts with d (days), w (weeks), m (months) or y (years), e.g. 7d,4w,12m,7y.'],
      [['--incr', '@hourly'], `dbdrill: --incr: target "${T}" (PostgreSQL, native method) takes only full backups, so it has no incremental backups to schedule or keep; remove --incr, or use the pgbackrest method.`],
      [['--keep-full', 'off', '--keep-archive', '7'], 'dbdrill: the retention with only --keep-archive would keep no full backup, so nothing could be restored; add --keep-full, --keep-days or --gfs.'],
    ];
    const before = JSON.parse((await cli(['policy', 'show', T, '--json'])).stdout) as { policy: unknown };
    for (const [args, message] of cases) {
      const r = await cli(['policy', 'set', T, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(`${message}\n`);
    }
    expect((JSON.parse((await cli(['policy', 'show', T, '--json'])).stdout) as { policy: unknown }).policy).toEqual(before.policy);
  }, 300_000);

  it('schedule install prints the cron line and the systemd units that call tick', async () => {
    const cron = await cli(['schedule', 'install', '--cron', '--json']);
    expect(cron.code, cron.stderr).toBe(0);
    const c = JSON.parse(cron.stdout) as { files: { content: string }[]; warnings: string[] };
    expect(c.files[0]!.content).toContain(`* * * * * root ${process.execPath} `);
    expect(c.files[0]!.content).toContain('tick --json >>/var/log/dbdrill-tick.log 2>&1');
    expect(c.warnings).toEqual([`Target "${T}" reads its password from $STRAT_PW, which cron does not set; give the target a --password-file instead.`]);
    const dir = tempConfigDir();
    try {
      const sd = await cli(['schedule', 'install', '--systemd', '--apply', '--dir', dir.dir]);
      expect(sd.code, sd.stderr).toBe(0);
      expect(readFileSync(join(dir.dir, 'dbdrill-tick.timer'), 'utf8')).toContain('OnCalendar=*-*-* *:*:00');
      expect(readFileSync(join(dir.dir, 'dbdrill-tick.service'), 'utf8')).toMatch(/ExecStart=.* tick --json/);
      expect(statSync(join(dir.dir, 'dbdrill-tick.timer')).mode & 0o777).toBe(0o644);
    } finally {
      dir.cleanup();
    }
  }, 300_000);
});
