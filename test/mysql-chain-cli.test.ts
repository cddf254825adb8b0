import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/drill/report.js';
import { listTables, prepareStatsSession, tableStats } from '../src/engines/mysql/table-stats.js';
import type { CatalogEntry } from '../src/ops/catalog.js';
import type { Manifest, TableStat } from '../src/repo/manifest.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { runCli, tempConfigDir, type CliResult } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';

// Issue 15 through the CLI on a MariaDB of this file's own: full → writes → incr → writes → incr →
// writes → diff, each member restored to a moment after it (replaying binlogs from its position),
// and what the restored server holds compared with what the source held at that moment.
const cfg = tempConfigDir();
const runDir = sandboxRunDir();
const repo = join(cfg.dir, 'repo');
let server: SandboxInstance;
let env: Record<string, string>;
const restored: { pid: number; dir: string }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Snapshot = Record<string, TableStat[]>;
const SYSTEM = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);
type Key = 'F' | 'I1' | 'I2' | 'D';
const taken = {} as Record<Key, Manifest>;
/** What the source held at the moment `moment[k]`, between backup k and the writes after it. */
const state = {} as Record<Key, Snapshot>;
const moment = {} as Record<Key, string>;

async function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { env, timeoutMs: 240_000 });
}

async function connect(port: number, user = server.user, password = server.password, database?: string): Promise<mysql.Connection> {
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

/** Row count and digest of every table of every user schema. */
async function snapshot(port: number, user?: string, password?: string): Promise<Snapshot> {
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
  return BigInt(String((await sql(`SHOW GLOBAL STATUS LIKE '${name}'`))[0]!.Value));
}

/** InnoDB's checkpoint past every write so far, so the next backup's to_lsn moves on. */
async function checkpointPastWrites(): Promise<void> {
  const written = await statusLsn('Innodb_lsn_current');
  const deadline = Date.now() + 60_000;
  while ((await statusLsn('Innodb_lsn_last_checkpoint')) < written) {
    if (Date.now() > deadline) throw new Error(`no checkpoint past LSN ${written} within 60 s`);
    await sleep(200);
  }
}

async function backup(key: Key, type: Manifest['type']): Promise<CliResult> {
  await checkpointPastWrites();
  const r = await cli(['backup', 'chain', '--kind', 'physical', '--type', type, '--json']);
  expect(r.code, r.stderr).toBe(0);
  taken[key] = (JSON.parse(r.stdout) as { backup: Manifest }).backup;
  return r;
}

/**
 * Writes that the moment after backup `key` holds, the moment itself (alone in its second, so a
 * time target is exact), then writes that a restore to it must not bring back.
 */
async function writesAround(key: Key, before: string, after: string): Promise<void> {
  await sql(before);
  await sleep(1100);
  moment[key] = (await sql("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ') AS t"))[0]!.t as string;
  state[key] = await snapshot(server.port);
  await sleep(1100);
  await sql(after);
}

function login(optionFile: string): { user: string; password: string } {
  const text = readFileSync(optionFile, 'utf8');
  return { user: /^user=(.*)$/m.exec(text)![1]!, password: /^password="(.*)"$/m.exec(text)![1]!.replace(/\\(.)/g, '$1') };
}

interface RestoreJson {
  pid: number;
  port: number;
  plan: { backup: string; chain?: { id: string; type: string; bytes: number }[]; estimatedBytes: number; notes: string[] };
  mysql: { optionFile: string; stopCommand: string; transactionsReplayed: number };
}

beforeAll(async () => {
  server = await startMariadbSandbox({ binlog: true, sampleData: true });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, CHAIN_PW: server.password };
  await sql('SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0, GLOBAL innodb_max_dirty_pages_pct = 0');
  const add = await cli(['target', 'add', 'chain', '--engine', 'mysql', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', 'shop', '--repo', repo, '--password-env', 'CHAIN_PW']);
  expect(add.code, add.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const r of restored) {
    if (isPidAlive(r.pid)) {
      signalProcess(r.pid, 'SIGTERM');
      await waitForPidExit(r.pid, 30_000);
    }
    rmSync(r.dir, { recursive: true, force: true });
  }
  await server?.stop();
  cfg.cleanup();
});

describe('dbdrill backup --type full|diff|incr on MariaDB, restored from every member', () => {
  it('refuses a diff or incr with no full to base it on, and a --type the kind does not take, in one sentence each', async () => {
    const incr = await cli(['backup', 'chain', '--kind', 'physical', '--type', 'incr']);
    expect(incr.code).toBe(2);
    expect(incr.stderr).toMatch(/\ndbdrill: Target "chain" has no complete full physical backup to take an incremental backup against; take a full backup first\.\n$/);
    const logical = await cli(['backup', 'chain', '--kind', 'logical', '--type', 'diff']);
    expect(logical.code).toBe(2);
    expect(logical.stderr).toBe('dbdrill: A logical backup is always full; drop --type diff or use --kind physical.\n');
    const bad = await cli(['backup', 'chain', '--kind', 'physical', '--type', 'delta']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--type "delta" is not known; use full, diff or incr.');
    expect(existsSync(join(repo, 'backups')) ? readdirSync(join(repo, 'backups')) : []).toEqual([]);
  });

  it('takes full → incr → incr → diff, each against the right base, recording LSNs and binlog positions', async () => {
    await backup('F', 'full');
    await writesAround('F',
      `CREATE TABLE shop.chain_t (id int PRIMARY KEY, v varchar(100), n int) ENGINE=InnoDB;
       INSERT INTO shop.chain_t SELECT seq, CONCAT('row ', seq), seq FROM seq_1_to_2000;`,
      `UPDATE shop.customers SET name = CONCAT(name, ' +1') WHERE id % 3 = 0; DELETE FROM shop.order_items WHERE order_id % 10 = 1;`);
    const i1 = await backup('I1', 'incr');
    expect(i1.stderr).toContain(`incr backup taken against full backup ${taken.F.id}`);
    await writesAround('I1',
      `INSERT INTO shop.chain_t SELECT seq, 'two', seq FROM seq_2001_to_3000; CREATE DATABASE side; CREATE TABLE side.notes (n int PRIMARY KEY) ENGINE=InnoDB; INSERT INTO side.notes VALUES (1);`,
      `ALTER TABLE shop.chain_t ADD COLUMN extra int NOT NULL DEFAULT 7, ALGORITHM=COPY; INSERT INTO side.notes VALUES (2);`);
    await backup('I2', 'incr');
    await writesAround('I2',
      `UPDATE shop.chain_t SET v = 'three' WHERE id % 7 = 0; DROP TABLE side.notes;`,
      `DELETE FROM shop.chain_t WHERE id > 2500; UPDATE shop.orders SET status = 'refunded' WHERE id % 11 = 0;`);
    const d = await backup('D', 'diff');
    expect(d.stdout).toContain(`"prior": "${taken.F.id}"`);
    await writesAround('D',
      `INSERT INTO shop.chain_t (id, v, n) VALUES (9001, 'after diff', 1);`,
      `TRUNCATE shop.chain_t;`);
    const sync = await cli(['binlog-sync', 'chain', '--rotate']);
    expect(sync.code, sync.stderr).toBe(0);

    expect(taken.I1).toMatchObject({ type: 'incr', prior: taken.F.id });
    expect(taken.I2).toMatchObject({ type: 'incr', prior: taken.I1.id });
    expect(taken.D).toMatchObject({ type: 'diff', prior: taken.F.id });
    expect(taken.I1.mysql!.fromLsn).toBe(taken.F.mysql!.toLsn);
    expect(taken.I2.mysql!.fromLsn).toBe(taken.I1.mysql!.toLsn);
    expect(taken.D.mysql!.fromLsn).toBe(taken.F.mysql!.toLsn);
    for (const k of ['F', 'I1', 'I2', 'D'] as const) expect(taken[k].mysql!.binlogFile, k).toMatch(/^mysql-bin\.\d{6}$/);
    expect(taken.I1.sizeBytes).toBeLessThan(taken.F.sizeBytes / 2);
    expect(new Set(Object.values(state).map((s) => JSON.stringify(s))).size).toBe(4);
  }, 600_000);

  it('catalog shows type and prior, and what each diff or incr restore reads, in text and --json', async () => {
    const j = await cli(['catalog', 'chain', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const entries = (JSON.parse(j.stdout) as { backups: CatalogEntry[] }).backups;
    const byId = new Map(entries.map((e) => [e.id, e]));
    expect(byId.get(taken.F.id)).toMatchObject({ type: 'full' });
    expect(byId.get(taken.F.id)!.prior).toBeUndefined();
    expect(byId.get(taken.I2.id)).toMatchObject({ type: 'incr', prior: taken.I1.id });
    expect(byId.get(taken.I2.id)!.reads!.map((r) => [r.id, r.sizeBytes])).toEqual([taken.F, taken.I1, taken.I2].map((m) => [m.id, m.sizeBytes]));
    expect(byId.get(taken.D.id)!.reads!.map((r) => r.id)).toEqual([taken.F.id, taken.D.id]);
    const t = await cli(['catalog', 'chain']);
    expect(t.stdout).toMatch(/ID\s+KIND\s+TYPE\s+PRIOR\s+STATUS/);
    expect(t.stdout).toMatch(new RegExp(`${taken.I2.id}\\s+physical\\s+incr\\s+${taken.I1.id}\\s+complete`));
    expect(t.stdout).toContain(`${taken.I2.id} restores from full ${taken.F.id} (`);
  });

  it.each([
    ['F', ['F']],
    ['I1', ['F', 'I1']],
    ['I2', ['F', 'I1', 'I2']],
    ['D', ['F', 'D']],
  ] as const)('restore --to the moment after %s reads its chain, replays binlogs, and holds exactly what the source held then', async (key, members) => {
    const into = join(runDir, `chaincli-${key}-${process.pid}`);
    const port = await freePort();
    const r = await cli(['restore', 'chain', '--to', moment[key], '--into', into, '--port', String(port), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as RestoreJson;
    restored.push({ pid: report.pid, dir: into });
    expect(report.plan.backup).toBe(taken[key].id);
    if (members.length > 1) {
      expect(report.plan.chain!.map((m) => [m.id, m.bytes])).toEqual(members.map((k) => [taken[k].id, taken[k].sizeBytes]));
      expect(report.plan.estimatedBytes).toBeGreaterThanOrEqual(members.reduce((n, k) => n + taken[k].sizeBytes, 0));
      expect(r.stderr).toContain('OK apply incrementals');
    } else {
      expect(report.plan.chain).toBeUndefined();
    }
    expect(report.mysql.transactionsReplayed).toBeGreaterThan(0);
    const who = login(report.mysql.optionFile);
    expect(await snapshot(report.port, who.user, who.password)).toEqual(state[key]);
    signalProcess(report.pid, 'SIGTERM');
    expect(await waitForPidExit(report.pid, 30_000)).toBe(true);
  }, 300_000);

  it('the plan text lists every member read and its size', async () => {
    const r = await cli(['restore', 'chain', '--to', moment.I2, '--into', join(runDir, `chaincli-dry-${process.pid}`), '--port', String(await freePort()), '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`reads: {4}full ${taken.F.id} \\([\\d.]+ [KMG]iB\\) → incr ${taken.I1.id} \\([\\d.]+ [KMG]?i?B\\) → incr ${taken.I2.id} \\(`));
  });

  it('a drill of an incr measures "apply incrementals" as its own step', async () => {
    const r = await cli(['drill', 'chain', '--to', moment.I2, '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.backup).toBe(taken.I2.id);
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ['pick backup', 'done'], ['verify backup files', 'done'], ['provision scratch instance', 'done'], ['restore base', 'done'],
      ['apply incrementals', 'done'], ['replay binlogs', 'done'], ['verify', 'done'], ['measure', 'done'], ['tear down', 'done'],
    ]);
    const apply = report.steps.find((s) => s.name === 'apply incrementals')!;
    expect(apply.detail).toBe(`applied incr ${taken.I1.id}, incr ${taken.I2.id} onto full ${taken.F.id}`);
    expect(apply.bytes).toBe(taken.I1.sizeBytes + taken.I2.sizeBytes);
    expect(report.steps.find((s) => s.name === 'restore base')!.bytes).toBe(taken.F.sizeBytes + taken.I1.sizeBytes + taken.I2.sizeBytes);
    expect(report.rto!.applySeconds).toBeGreaterThan(0);
    expect(report.rto!.seconds).toBeGreaterThan(report.rto!.applySeconds! + report.rto!.transferSeconds);
  }, 300_000);

  it('a flipped byte in an incremental stops the restore before the server starts, naming it; then incr on a broken chain is refused', async () => {
    const delta = taken.I1.files.filter((f) => f.path.endsWith('.delta')).sort((a, b) => b.bytes - a.bytes)[0]!;
    const path = join(repo, 'backups', taken.I1.id, delta.path);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(path, bytes);

    const into = join(runDir, `chaincli-broken-${process.pid}`);
    const r = await cli(['restore', 'chain', '--backup', taken.I2.id, '--into', into, '--port', String(await freePort())]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Backup ${taken.I1.id} is corrupt: ${delta.path} does not match the sha256 recorded at backup time; the restore stopped before any server started on the chain of backup ${taken.I2.id}`);
    expect(existsSync(join(into, 'data', 'ibdata1'))).toBe(false);
    rmSync(into, { recursive: true, force: true });

    // Now I2 names its broken link at once, and the planner restores a moment after it from F instead.
    const again = await cli(['restore', 'chain', '--backup', taken.I2.id, '--into', into, '--port', '1', '--dry-run']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`Backup ${taken.I2.id} cannot be restored: backup ${taken.I1.id}, which incremental backup ${taken.I2.id} depends on, is corrupt (`);
    const dry = await cli(['restore', 'chain', '--to', moment.I2, '--into', into, '--port', String(await freePort()), '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect((JSON.parse(dry.stdout) as RestoreJson).plan.backup).toBe(taken.F.id);

    // The diff (newest member) is pruned: an incr would be based on I2, whose chain runs through I1.
    rmSync(join(repo, 'backups', taken.D.id), { recursive: true, force: true });
    const before = readdirSync(join(repo, 'backups')).sort();
    const incr = await cli(['backup', 'chain', '--kind', 'physical', '--type', 'incr']);
    expect(incr.code).toBe(2);
    expect(incr.stderr).toMatch(new RegExp(`\\ndbdrill: Cannot take an incremental backup of target "chain": backup ${taken.I1.id}, which incremental backup ${taken.I2.id} depends on, is corrupt \\(.*\\), and a backup taken against it could never be restored; take a full backup, or a differential one \\(against full backup ${taken.F.id}\\)\\.\\n$`));
    expect(readdirSync(join(repo, 'backups')).sort()).toEqual(before);
  }, 120_000);
});
