import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archivedSegment } from '../src/pitr/wal-names.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { archiveCommand } from '../src/wal/command.js';
import { decodeDbwHeader, DBW_HEADER_BYTES } from '../src/wal/format.js';
import { findArchived } from '../src/wal/layout.js';
import { spoolPath } from '../src/wal/spool.js';
import { ArchivedPostgres } from './helpers/archived-pg.js';
import { CLI, processesNaming, runCli } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';

/**
 * Batched archiving (issue 19) on a real PostgreSQL: the wal-push started for the oldest waiting
 * segment pushes the others ahead and leaves spool records, and archive_command's shell test
 * answers for those without starting Node. Node starts are counted by an entry that logs each
 * start before running the real CLI.
 */
let db: ArchivedPostgres;
let systemId = '';
const run = join(sandboxRunDir(), `wal-batch-${process.pid}`);
const startsLog = join(run, 'starts.log');
const countingEntry = join(run, 'counting-main.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** For the calls the test makes itself: their workers go idle and exit within half a second. */
const QUICK_IDLE = { DBDRILL_WAL_AHEAD_IDLE_MS: '500' };

const starts = () => (existsSync(startsLog) ? readFileSync(startsLog, 'utf8').split('\n').filter(Boolean) : []);
const archived = (tl = '00000001') => {
  try {
    return readdirSync(join(db.repo, 'wal', tl)).flatMap((f) => archivedSegment(f) ?? []).sort();
  } catch {
    return [];
  }
};

async function setArchiveCommand(cmd: string): Promise<void> {
  await db.sql(`ALTER SYSTEM SET archive_command = '${cmd.replace(/'/g, "''")}'`);
  await db.sql('SELECT pg_reload_conf()');
}

/** n segments written and closed, returned by name. */
async function segments(n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    await db.sql(`INSERT INTO batch_marks SELECT g FROM generate_series(1, 20000) g`);
    names.push((await db.sql<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name'))[0]!.name);
  }
  return names;
}

beforeAll(async () => {
  mkdirSync(run, { recursive: true, mode: 0o755 });
  chmodSync(run, 0o777);
  writeFileSync(countingEntry, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(startsLog)}, process.argv.slice(2).join(' ') + '\\n');\nawait import(${JSON.stringify(pathToFileURL(CLI).href)});\n`);
  chmodSync(countingEntry, 0o644);
  db = await ArchivedPostgres.start('walbatch');
  await db.sql('CREATE TABLE batch_marks (n int)');
  await db.switchAndArchive();
  systemId = (await db.sql<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()'))[0]!.id;
}, 300_000);

afterAll(async () => {
  // Workers the calls started exit after their idle time (short for the test's own calls).
  const workers = () => processesNaming('--ahead').filter((pid) => processesNaming(run).includes(pid) || (db && processesNaming(db.repo).includes(pid)));
  for (let i = 0; i < 100 && workers().length > 0; i++) await sleep(100);
  for (const pid of workers()) signalProcess(pid, 'SIGKILL');
  await db?.stop();
  rmSync(run, { recursive: true, force: true });
}, 60_000);

function batchCommand(): string {
  const before = process.env.DBDRILL_ENTRY;
  process.env.DBDRILL_ENTRY = countingEntry;
  try {
    return archiveCommand(db.repo, { batch: { systemId } });
  } finally {
    process.env.DBDRILL_ENTRY = before;
  }
}

describe('batched wal-push', () => {
  it('a backlog of 6 segments is archived with one Node start; the spool is empty afterwards', async () => {
    // A backlog, as a busy server or a short outage leaves it: archiving fails while 6 segments close.
    await setArchiveCommand('exit 1');
    const backlog = await segments(6);
    await sleep(500);
    expect(archived().filter((n) => backlog.includes(n))).toEqual([]);
    await setArchiveCommand(batchCommand());
    for (let i = 0; i < 300 && archived().filter((n) => backlog.includes(n)).length < backlog.length; i++) await sleep(100);
    expect(archived().filter((n) => backlog.includes(n))).toEqual(backlog);
    // Give the archiver a moment to answer the last calls from the spool.
    const records = () => readdirSync(spoolPath(db.repo, systemId)).filter((f) => !f.startsWith('.'));
    for (let i = 0; i < 100 && records().length > 0; i++) await sleep(100);
    expect(records()).toEqual([]);
    // PostgreSQL started Node once; the worker that call started pushed the rest.
    const pushes = starts().filter((l) => l.includes('--batch'));
    expect(pushes, starts().join('\n')).toEqual([`wal-push --repo ${db.repo} --batch pg_wal/${backlog[0]}`]);
    expect(starts().filter((l) => l.includes('--ahead')).length).toBeLessThanOrEqual(1);
    // Every segment is stored whole, with the checksum of what PostgreSQL wrote.
    for (const n of backlog) {
      const header = decodeDbwHeader(readFileSync(findArchived(db.repo, n)!.path).subarray(0, DBW_HEADER_BYTES));
      expect(typeof header === 'string' ? header : header.bytes).toBe(16 * 1024 * 1024);
    }
    const stat = await db.sql<{ failed: string; last: string }>('SELECT failed_count::text AS failed, last_archived_wal AS last FROM pg_stat_archiver');
    expect(stat[0]!.last).toBe(backlog.at(-1));
  }, 300_000);

  it('a steady stream of segments: the worker keeps ahead, so PostgreSQL rarely starts Node', async () => {
    const before = starts().filter((l) => l.includes('--batch')).length;
    const stream: string[] = [];
    for (let i = 0; i < 12; i++) {
      stream.push(...(await segments(1)));
      await sleep(150);
    }
    for (let i = 0; i < 300 && archived().filter((n) => stream.includes(n)).length < stream.length; i++) await sleep(100);
    expect(archived().filter((n) => stream.includes(n))).toEqual(stream);
    const pgStarts = starts().filter((l) => l.includes('--batch')).length - before;
    // Without the worker every segment is a Node start; with it, the first one or two are on a
    // quiet machine. Half is the bound here: a loaded machine can delay the worker past the
    // shell's one-second wait, and then PostgreSQL's own call pushes that segment.
    expect(pgStarts, starts().join('\n')).toBeLessThanOrEqual(6);
    const stat = await db.sql<{ last: string }>('SELECT last_archived_wal AS last FROM pg_stat_archiver');
    expect(stat[0]!.last).toBe(stream.at(-1));
  }, 300_000);

  it('kill -9 of a batch at any moment: every spool record names a segment durably archived with that checksum', async () => {
    // A pg_wal of our own holding copies of real segments, so the batch can be killed at will.
    const pgdata = join(run, 'fake-pgdata');
    const status = join(pgdata, 'pg_wal', 'archive_status');
    mkdirSync(status, { recursive: true });
    const names = archived().slice(-6);
    for (const n of names) {
      const stored = readFileSync(findArchived(db.repo, n)!.path);
      writeFileSync(join(pgdata, 'pg_wal', n), stored.subarray(DBW_HEADER_BYTES));
    }
    for (let round = 0; round < 4; round++) {
      const repo = join(run, `kill-repo-${round}`);
      for (const n of names) writeFileSync(join(status, `${n}.ready`), '');
      const spool = spoolPath(repo, systemId);
      const child = spawn(process.execPath, [CLI, 'wal-push', '--repo', repo, '--batch', join('pg_wal', names[0]!)], { cwd: pgdata, stdio: 'ignore', env: { ...process.env, ...QUICK_IDLE } });
      await sleep(150 + round * 120);
      // The call and the worker it started, both at the same moment.
      const worker = existsSync(join(spool, '.ahead.lock')) ? Number(readFileSync(join(spool, '.ahead.lock'), 'utf8').trim()) : undefined;
      for (const pid of [child.pid, worker]) if (pid && isPidAlive(pid)) signalProcess(pid, 'SIGKILL');
      await waitForPidExit(child.pid!, 5000);
      if (worker) await waitForPidExit(worker, 5000);
      const records = existsSync(spool) ? readdirSync(spool).filter((f) => !f.startsWith('.')) : [];
      for (const r of records) {
        const at = findArchived(repo, r);
        expect(at, `record ${r} without an archived copy`).toBeDefined();
        const h = decodeDbwHeader(readFileSync(at!.path).subarray(0, DBW_HEADER_BYTES));
        expect(typeof h === 'string' ? h : h.sha256).toBe(readFileSync(join(spool, r), 'utf8').trim());
      }
      // The next call finishes the job (its own segment, and a new worker the rest), exit 0.
      const again = await runCli(['wal-push', '--repo', repo, '--batch', join('pg_wal', names[0]!)], { cwd: pgdata, env: QUICK_IDLE });
      expect(again.code, again.stderr).toBe(0);
      expect(findArchived(repo, names[0]!)).toBeDefined();
      const recorded = () => readdirSync(spool).filter((f) => !f.startsWith('.')).sort();
      for (let i = 0; i < 300 && recorded().length < names.length - 1; i++) await sleep(100);
      for (const n of names) expect(findArchived(repo, n), n).toBeDefined();
      expect(recorded()).toEqual(names.slice(1));
    }
    rmSync(pgdata, { recursive: true, force: true });
  }, 300_000);

  it('a record no .ready file asks for is removed by the next batch, never answered', async () => {
    const pgdata = join(run, 'fake-pgdata-2');
    mkdirSync(join(pgdata, 'pg_wal', 'archive_status'), { recursive: true });
    const [first] = archived().slice(-1);
    writeFileSync(join(pgdata, 'pg_wal', first!), readFileSync(findArchived(db.repo, first!)!.path).subarray(DBW_HEADER_BYTES));
    const repo = join(run, 'stale-repo');
    const r1 = await runCli(['wal-push', '--repo', repo, '--batch', join('pg_wal', first!)], { cwd: pgdata, env: QUICK_IDLE });
    expect(r1.code, r1.stderr).toBe(0);
    const spool = spoolPath(repo, systemId);
    writeFileSync(join(spool, '0000000100000000000000FE'), 'left from before\n');
    const r2 = await runCli(['wal-push', '--repo', repo, '--batch', join('pg_wal', first!)], { cwd: pgdata, env: QUICK_IDLE });
    expect(r2.code, r2.stderr).toBe(0);
    // Removed by r2's call, or by the worker r1 started if it still runs (it rescans every 20 ms).
    const records = () => readdirSync(spool).filter((f) => !f.startsWith('.'));
    for (let i = 0; i < 50 && records().length > 0; i++) await sleep(20);
    expect(records()).toEqual([]);
    rmSync(pgdata, { recursive: true, force: true });
  }, 120_000);
});
