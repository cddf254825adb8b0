import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTORE_CLAIM } from '../src/engines/restore-destination.js';
import { checkMysqlDestination } from '../src/engines/mysql/pitr.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { freePort } from '../src/sandbox/ports.js';
import { ArchivedPostgres, type PitrJson } from './helpers/archived-pg.js';
import { runCli, tempConfigDir, type CliResult } from './helpers/cli.js';
import { sandboxRunDir, sharedMariadb } from './helpers/sandbox.js';

/**
 * Where a restore may write, checked the same way by the dry run and the real run before
 * anything is written, against a real archived PostgreSQL and a real base backup.
 */
const cfg = tempConfigDir();
const runDir = sandboxRunDir();
const isRoot = process.getuid?.() === 0;
let db: ArchivedPostgres;
let env: Record<string, string>;
const started: number[] = [];
const dirs: string[] = [];
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
const place = (name: string) => {
  const d = join(runDir, `${name}-${process.pid}`);
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  db = await ArchivedPostgres.start('dest');
  env = { DBDRILL_CONFIG_DIR: cfg.dir, DEST_PW: db.server.password };
  const add = await cli(['target', 'add', 'dest', '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', 'DEST_PW']);
  expect(add.code, add.stderr).toBe(0);
  const backup = await cli(['backup', 'dest', '--kind', 'physical']);
  expect(backup.code, backup.stderr).toBe(0);
  await db.switchAndArchive();
}, 180_000);

afterAll(async () => {
  for (const pid of started) {
    if (isPidAlive(pid)) {
      signalProcess(pid, 'SIGINT');
      await waitForPidExit(pid, 20_000);
    }
  }
  await db?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  cfg.cleanup();
});

const lastLine = (r: CliResult) => r.stderr.trim().split('\n').at(-1) ?? '';

describe('two restores into the same directory at the same moment', () => {
  it.each([1, 2])('round %i: one proceeds, the other is refused before it writes', async (round) => {
    const into = place(`dest-race-${round}`);
    const [a, b] = await Promise.all([freePort(), freePort()]);
    const runs = await Promise.all([a, b].map((port) => cli(['restore', 'dest', '--to', 'latest', '--into', into, '--port', String(port), '--json'])));
    for (const r of runs) if (r.code === 0) started.push((JSON.parse(r.stdout) as PitrJson).pid);
    const codes = runs.map((r) => r.code).sort();
    expect(codes, runs.map((r) => r.stderr).join('\n---\n')).toEqual([0, 2]);
    const loser = runs.find((r) => r.code === 2)!;
    expect(lastLine(loser)).toMatch(
      new RegExp(`^dbdrill: (${into} cannot be used: another restore \\(pid \\d+, target dest, started .*\\) is writing into it; give --into another directory\\.|${into} is not empty.*)$`),
    );
    expect(loser.stderr).not.toMatch(/internal error/);
    // The winner's restore is whole: its server runs on the restored data, its claim names it.
    const winner = JSON.parse(runs.find((r) => r.code === 0)!.stdout) as PitrJson;
    expect(winner.dataDir).toBe(into);
    expect(isPidAlive(winner.pid)).toBe(true);
    const claim = JSON.parse(readFileSync(join(into, RESTORE_CLAIM), 'utf8')) as { target: string; backup: string };
    expect(claim).toMatchObject({ target: 'dest', backup: winner.plan.backup });
    expect(readdirSync(into)).toContain('PG_VERSION');
  });
});

describe('destinations refused by the dry run and the real run alike', () => {
  const both = async (into: string, port: number, pattern: RegExp) => {
    for (const dry of [true, false]) {
      const r = await cli(['restore', 'dest', '--to', 'latest', '--into', into, '--port', String(port), ...(dry ? ['--dry-run'] : [])]);
      expect(r.code, `${dry ? 'dry run' : 'real run'}: ${r.stderr}`).toBe(2);
      expect(lastLine(r)).toMatch(pattern);
    }
  };

  it.runIf(isRoot)('a directory under a 0700 root-only parent, which the postgres user cannot enter', async () => {
    const parent = place('dest-root-only');
    mkdirSync(parent, { mode: 0o700 });
    const into = join(parent, 'restore');
    await both(into, await freePort(), new RegExp(`^dbdrill: The restored server runs as the postgres user, which cannot enter ${parent} \\(mode 0700\\); give --into a directory that user can reach`));
    expect(readdirSync(parent)).toEqual([]);
  });

  it('a directory inside the target\'s repository', async () => {
    const into = join(db.repo, 'restored-here');
    await both(into, await freePort(), new RegExp(`^dbdrill: ${into} is inside the target's repository ${db.repo}; a restore never writes into the backups it reads`));
    expect(existsSync(into)).toBe(false);
  });

  it('a directory inside the live source\'s data directory', async () => {
    const into = join(db.server.dataDir, 'restored-here');
    await both(into, await freePort(), new RegExp(`^dbdrill: ${into} is inside the PostgreSQL data directory ${db.server.dataDir} \\(a server is running there\\); a restore never writes into a database's own files`));
    expect(existsSync(into)).toBe(false);
  });

  it('a port below 1024, which the restored server (never root) cannot listen on', async () => {
    const into = place('dest-low-port');
    const who = isRoot ? 'the postgres user' : `this user \\(uid ${process.getuid?.()}\\)`;
    await both(into, 80, new RegExp(`^dbdrill: Port 80 is below 1024, where only root may listen, and the restored server runs as ${who}; give --port 1024 or above\\.$`));
    expect(existsSync(into)).toBe(false);
  });

  it('a directory holding only the claim of a restore that is not running now', async () => {
    const into = place('dest-stale-claim');
    mkdirSync(into, { recursive: true });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(into, RESTORE_CLAIM), JSON.stringify({ pid: 999_999_999, host: (await import('node:os')).hostname(), startedAt: '2026-01-01T00:00:00Z', target: 'dest' }));
    await both(into, await freePort(), /holds dbdrill-restore\.json of an earlier restore \(pid 999999999, started 2026-01-01T00:00:00Z\) that is not running here now; remove that file \(or the directory\) to restore there again/);
  });
});

describe('the MariaDB restore destination', () => {
  it('is claimed by exactly one of two restores whose checks both passed', async () => {
    const into = place('my-race');
    const claim = { target: 'shop' };
    const runs = await Promise.allSettled([
      checkMysqlDestination(into, await freePort(), { repo: db.repo, claim }),
      checkMysqlDestination(into, await freePort(), { repo: db.repo, claim }),
    ]);
    expect(runs.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = runs.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((refused.reason as Error).message).toMatch(new RegExp(`^${into} cannot be used: another restore \\(pid ${process.pid}, target shop, started .*\\) is writing into it`));
    expect(readdirSync(into)).toEqual([RESTORE_CLAIM]);
  });

  it('is refused inside a MariaDB data directory and below port 1024, and the dry run writes nothing', async () => {
    const datadir = sharedMariadb().dataDir;
    await expect(checkMysqlDestination(join(datadir, 'restore'), await freePort(), { repo: db.repo })).rejects.toThrow(new RegExp(`is inside the MariaDB data directory ${datadir}(?: \\(a server is running there\\))?; a restore never writes into a database's own files`));
    const into = place('my-low-port');
    await expect(checkMysqlDestination(into, 80, { repo: db.repo })).rejects.toThrow(/^Port 80 is below 1024, where only root may listen/);
    await checkMysqlDestination(into, await freePort(), { repo: db.repo });
    expect(existsSync(into)).toBe(false);
  });
});
