import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../src/config/target.js';
import { chainBaseFor, chainForRestore } from '../src/engines/mysql/chain.js';
import { chainRestoreSettings, restoreChainInto, type PreparedChain } from '../src/engines/mysql/chain-restore.js';
import { verifyChainLinks, verifyChainMember } from '../src/engines/mysql/chain-verify.js';
import { verifyPhysical } from '../src/engines/mysql/verify.js';
import { listTables, prepareStatsSession, tableStats } from '../src/engines/mysql/table-stats.js';
import type { JobEvent } from '../src/ops/job.js';
import { sandboxTarget } from '../src/ops/sandbox-target.js';
import { CorruptBackupError } from '../src/repo/backup-files.js';
import { verifyFiles } from '../src/repo/checksum.js';
import type { Manifest, TableStat } from '../src/repo/manifest.js';
import { Repository } from '../src/repo/repository.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { runJob, takePhysicalBackup } from './helpers/chain-backup.js';
import { sandboxRunDir } from './helpers/sandbox.js';

// A MariaDB of this file's own: its physical backups copy the whole server, and its checkpoints are
// pushed along so that each member of the chain covers a different LSN range.
let server: SandboxInstance;
let target: Target;
let repoDir: string;
const repo = () => new Repository(repoDir);
const catalog = () => repo().catalog().manifests;

type Snapshot = Record<string, TableStat[]>;
const SYSTEM = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

async function connect(port: number, user: string, password: string, database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user, password, multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true, ...(database ? { database } : {}) });
}

async function sql(text: string): Promise<mysql.RowDataPacket[]> {
  const conn = await connect(server.port, server.user, server.password, 'shop');
  try {
    return (await conn.query(text))[0] as mysql.RowDataPacket[];
  } finally {
    await conn.end();
  }
}

/** Row count and digest of every table of every user schema: what a restore must give back exactly. */
async function snapshot(port: number, user: string, password: string): Promise<Snapshot> {
  const conn = await connect(port, user, password);
  try {
    await prepareStatsSession(conn);
    const [schemas] = await conn.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA ORDER BY 1');
    const out: Snapshot = {};
    for (const s of schemas.map((r) => String(r.s)).filter((s) => !SYSTEM.has(s))) out[s] = await tableStats(conn, s, await listTables(conn, s));
    return out;
  } finally {
    await conn.end();
  }
}

async function statusLsn(name: string): Promise<bigint> {
  const rows = await sql(`SHOW GLOBAL STATUS LIKE '${name}'`);
  return BigInt(String(rows[0]!.Value));
}

/** Waits until InnoDB's checkpoint has passed every write so far, so the next backup's to_lsn moves on. */
async function checkpointPastWrites(): Promise<void> {
  const written = await statusLsn('Innodb_lsn_current');
  const deadline = Date.now() + 60_000;
  while ((await statusLsn('Innodb_lsn_last_checkpoint')) < written) {
    if (Date.now() > deadline) throw new Error(`no checkpoint past LSN ${written} within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const taken: Record<'F' | 'I1' | 'I2' | 'D', Manifest> = {} as never;
const state: Record<'F' | 'I1' | 'I2' | 'D', Snapshot> = {} as never;

async function take(key: keyof typeof taken, type: Manifest['type']): Promise<{ manifest: Manifest; events: JobEvent[] }> {
  await checkpointPastWrites();
  const r = await takePhysicalBackup(target, type);
  taken[key] = r.manifest;
  // Nothing writes while a backup runs, so the server's state now is the state the backup holds.
  state[key] = await snapshot(server.port, server.user, server.password);
  return r;
}

/** Restores backup `id`'s chain into a new server, returns what that server holds and what the restore said. */
async function restoreChain(id: string): Promise<{ snap: Snapshot; prepared: PreparedChain; events: JobEvent[]; chain: Manifest[] }> {
  const chain = chainForRestore(catalog(), id, target.name);
  const settings = await chainRestoreSettings(repoDir, chain);
  let prepared: PreparedChain | undefined;
  const { result, events } = await runJob(async (ctx) => {
    const sb = await startMariadbSandbox({
      binlog: false,
      settings,
      signal: ctx.signal,
      populate: async (dataDir) => {
        prepared = await restoreChainInto(ctx, repoDir, chain, dataDir);
      },
    });
    try {
      return await snapshot(sb.port, sb.user, sb.password);
    } finally {
      await sb.stop();
    }
  });
  return { snap: result, prepared: prepared!, events, chain };
}

const stepStatus = (events: JobEvent[], step: string) => events.filter((e) => e.type === 'step' && e.step === step).map((e) => (e as { status: string }).status);

beforeAll(async () => {
  server = await startMariadbSandbox({ binlog: true, sampleData: true });
  repoDir = join(sandboxRunDir(), `chain-repo-${process.pid}`);
  target = sandboxTarget(server, 'chain', repoDir);
  // Dirty pages are flushed at once, so checkpoints (and with them each backup's to_lsn) move on.
  await sql('SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0, GLOBAL innodb_max_dirty_pages_pct = 0');
});

afterAll(async () => {
  await server?.stop();
  if (repoDir) rmSync(repoDir, { recursive: true, force: true });
});

describe('mariadb-backup chains: full, incr, incr, diff', () => {
  it('takes a full, then incrementals against the newest member and a differential against the full, reading the bases only', async () => {
    const full = await take('F', 'full');
    expect(full.manifest.mysql?.fromLsn).toBe('0');
    expect(full.manifest.prior).toBeUndefined();
    const fullFiles = () => verifyFiles(repo().backupDir(taken.F.id), taken.F.files);

    // Writes of every kind a chain must carry: new rows, changed and deleted rows, a new table
    // (a tablespace the full never saw), a new schema.
    await sql(`CREATE TABLE shop.chain_t (id int PRIMARY KEY, v varchar(100), n int) ENGINE=InnoDB;
      INSERT INTO shop.chain_t SELECT seq, CONCAT('row ', seq), seq * 3 FROM seq_1_to_3000;
      UPDATE shop.customers SET name = CONCAT(name, ' (changed 1)') WHERE id % 3 = 0;
      DELETE FROM shop.order_items WHERE order_id % 10 = 1;
      CREATE DATABASE side; CREATE TABLE side.notes (n int PRIMARY KEY, t text) ENGINE=InnoDB;
      INSERT INTO side.notes VALUES (1, 'one'), (2, 'two');`);
    const i1 = await take('I1', 'incr');
    expect(i1.manifest).toMatchObject({ type: 'incr', prior: taken.F.id, status: 'complete' });
    expect(i1.manifest.mysql!.fromLsn).toBe(taken.F.mysql!.toLsn);
    expect(i1.manifest.mysql!.binlogFile).toBe(taken.F.mysql!.binlogFile);
    expect(i1.manifest.mysql!.binlogPosition!).toBeGreaterThan(taken.F.mysql!.binlogPosition!);
    expect(i1.manifest.sizeBytes).toBeLessThan(taken.F.sizeBytes);
    expect(stepStatus(i1.events, 'check base backup')).toEqual(['running', 'done']);
    expect(stepStatus(i1.events, 'prepare')).toEqual([]);
    expect(await fullFiles()).toEqual([]);

    // A rebuilt table, a dropped one, rows changed twice.
    await sql(`INSERT INTO shop.chain_t SELECT seq, CONCAT('row ', seq), seq FROM seq_3001_to_4000;
      UPDATE shop.chain_t SET v = 'second' WHERE id % 7 = 0;
      ALTER TABLE shop.chain_t ADD COLUMN extra int NOT NULL DEFAULT 7, ALGORITHM=COPY;
      DROP TABLE side.notes; CREATE TABLE side.notes2 (n int PRIMARY KEY) ENGINE=InnoDB; INSERT INTO side.notes2 VALUES (10), (20);
      UPDATE shop.customers SET name = CONCAT(name, ' (changed 2)') WHERE id % 5 = 0;`);
    const i2 = await take('I2', 'incr');
    expect(i2.manifest).toMatchObject({ type: 'incr', prior: taken.I1.id });
    expect(i2.manifest.mysql!.fromLsn).toBe(taken.I1.mysql!.toLsn);
    expect(await verifyFiles(repo().backupDir(taken.I1.id), taken.I1.files)).toEqual([]);

    await sql(`DELETE FROM shop.chain_t WHERE id > 3500; TRUNCATE side.notes2; INSERT INTO side.notes2 VALUES (30);
      UPDATE shop.orders SET status = 'refunded' WHERE id % 11 = 0;`);
    const d = await take('D', 'diff');
    expect(d.manifest).toMatchObject({ type: 'diff', prior: taken.F.id });
    expect(d.manifest.mysql!.fromLsn).toBe(taken.F.mysql!.toLsn);
    expect(await fullFiles()).toEqual([]);

    // The checkpoint moved between backups, so every link joins distinct LSN ranges.
    const to = (k: keyof typeof taken) => BigInt(taken[k].mysql!.toLsn!);
    expect(to('F') < to('I1') && to('I1') < to('I2') && to('I2') < to('D')).toBe(true);
    // Each state differs from the one before: a restore that returns the wrong one cannot pass.
    expect(new Set(Object.values(state).map((s) => JSON.stringify(s))).size).toBe(4);
  }, 300_000);

  it.each([
    ['F', ['F']],
    ['I1', ['F', 'I1']],
    ['I2', ['F', 'I1', 'I2']],
    ['D', ['F', 'D']],
  ] as const)('restoring %s reads its chain and gives back exactly what the server held at that backup', async (key, members) => {
    const { snap, prepared, events, chain } = await restoreChain(taken[key].id);
    expect(chain.map((m) => m.id)).toEqual(members.map((k) => taken[k].id));
    expect(prepared.members.map((m) => m.id)).toEqual(members.map((k) => taken[k].id));
    expect(prepared.members.map((m) => m.bytes)).toEqual(members.map((k) => taken[k].files.filter((f) => f.path.startsWith('base/')).reduce((n, f) => n + f.bytes, 0)));
    expect(prepared.binlog).toMatchObject({ binlogFile: taken[key].mysql!.binlogFile, binlogPosition: taken[key].mysql!.binlogPosition });
    expect(stepStatus(events, 'copy backup files')).toEqual(['running', 'done']);
    expect(stepStatus(events, 'apply incrementals')).toEqual(members.length > 1 ? ['running', 'done'] : ['skipped']);
    expect(snap).toEqual(state[key]);
    // The repository was only read: every member still matches its checksums.
    for (const k of members) expect(await verifyFiles(repo().backupDir(taken[k].id), taken[k].files)).toEqual([]);
  }, 180_000);

  it('verify reads each member as mariadb-backup left it, and the LSN links from their own checkpoints files', () => {
    for (const k of ['F', 'I1', 'I2', 'D'] as const) {
      const v = verifyChainMember(taken[k], repo().backupDir(taken[k].id));
      expect(v, k).toMatchObject({ ok: true });
      if (k !== 'F') expect(v.detail).toBe(`backup_type = incremental, LSN ${taken[k].mysql!.fromLsn} to ${taken[k].mysql!.toLsn}, binlog ${taken[k].mysql!.binlogFile}:${taken[k].mysql!.binlogPosition}`);
    }
    // The check for a full alone would call an incremental unprepared: verify must choose by type.
    expect(verifyPhysical(taken.I1, repo().backupDir(taken.I1.id))).toMatchObject({ ok: false, detail: 'backup_type is incremental, not a prepared full backup (full-prepared or log-applied)' });
    expect(verifyChainLinks(repoDir, catalog(), taken.I2.id)).toEqual({
      method: 'chain links', ok: true, detail: `full ${taken.F.id} → incremental ${taken.I1.id} → incremental ${taken.I2.id}: each starts where the one before ends`,
    });
  });

  it('a flipped byte in an incremental stops the restore before any server starts, naming the member and the file', async () => {
    const i1Dir = repo().backupDir(taken.I1.id);
    const delta = taken.I1.files.filter((f) => f.path.endsWith('.delta')).sort((a, b) => b.bytes - a.bytes)[0]!;
    const path = join(i1Dir, delta.path);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(path, bytes);

    const chain = chainForRestore(catalog(), taken.I2.id, target.name);
    const into = join(sandboxRunDir(), `chain-broken-${process.pid}`, 'data');
    const err = await runJob((ctx) => restoreChainInto(ctx, repoDir, chain, into)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptBackupError);
    expect((err as Error).message).toBe(
      `Backup ${taken.I1.id} is corrupt: ${delta.path} does not match the sha256 recorded at backup time; the restore stopped before any server started on the chain of backup ${taken.I2.id}, and the backup is now marked corrupt (restore another one: dbdrill catalog chain).`,
    );
    // Nothing reached the data directory, and the copies made so far are gone.
    expect(existsSync(into)).toBe(false);
    expect(readdirSync(join(into, '..'))).toEqual([]);
    rmSync(join(into, '..'), { recursive: true, force: true });
    expect(repo().readManifest(taken.I1.id).status).toBe('corrupt');

    // From now on every plan refuses the chain through I1, and still takes the one that avoids it.
    expect(() => chainForRestore(catalog(), taken.I2.id, target.name)).toThrow(
      `Backup ${taken.I2.id} cannot be restored: backup ${taken.I1.id}, which incremental backup ${taken.I2.id} depends on, is corrupt (verify at `,
    );
    expect(chainForRestore(catalog(), taken.D.id, target.name).map((m) => m.id)).toEqual([taken.F.id, taken.D.id]);
  }, 120_000);

  it('an incremental whose base was pruned or is broken is refused in one sentence, and no backup is started', async () => {
    // Prune the diff: the newest member is I2 again, whose chain runs through the corrupt I1.
    rmSync(repo().backupDir(taken.D.id), { recursive: true, force: true });
    const before = readdirSync(repo().backupsDir).sort();
    await expect(takePhysicalBackup(target, 'incr')).rejects.toThrow(
      `Cannot take an incremental backup of target "chain": backup ${taken.I1.id}, which incremental backup ${taken.I2.id} depends on, is corrupt (`,
    );
    rmSync(repo().backupDir(taken.I1.id), { recursive: true, force: true });
    const pruned = `Cannot take an incremental backup of target "chain": backup ${taken.I1.id}, which incremental backup ${taken.I2.id} depends on, is no longer in the repository (pruned or removed), and a backup taken against it could never be restored; take a full backup, or a differential one (against full backup ${taken.F.id}).`;
    await expect(takePhysicalBackup(target, 'incr')).rejects.toThrow(pruned);
    expect(() => chainBaseFor(catalog(), 'incr', { target: 'chain' })).toThrow(pruned);
    expect(readdirSync(repo().backupsDir).sort()).toEqual(before.filter((d) => d !== taken.I1.id));
  }, 120_000);

  it('a base whose checkpoints file changed is marked corrupt and the diff fails before mariadb-backup runs', async () => {
    const cp = join(repo().backupDir(taken.F.id), 'base/xtrabackup_checkpoints');
    const text = readFileSync(cp, 'utf8');
    writeFileSync(cp, text.replace(/to_lsn = (\d)/, (_, d: string) => `to_lsn = ${(Number(d) + 1) % 10}`));
    expect(statSync(cp).size).toBe(Buffer.byteLength(text));
    const err = await takePhysicalBackup(target, 'diff').catch((e: unknown) => e as Error & { events: JobEvent[] });
    expect((err as Error).message).toBe(
      `Backup ${taken.F.id}, which this differential backup is taken against, is damaged: base/xtrabackup_checkpoints: checksum differs; it is now marked corrupt, so take a full backup.`,
    );
    expect(err.events.some((e) => e.type === 'step' && e.step === 'copy data files')).toBe(false);
    expect(repo().readManifest(taken.F.id).status).toBe('corrupt');
    const failed = catalog().find((m) => m.type === 'diff' && m.status === 'failed');
    expect(failed?.files).toEqual([]);
    expect(readdirSync(repo().backupDir(failed!.id))).toEqual(['manifest.json']);
  }, 120_000);
});
