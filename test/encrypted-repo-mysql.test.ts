import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BinlogIndex } from '../src/binlog/archive.js';
import { TargetStore } from '../src/config/store.js';
import type { EngineContext } from '../src/engines/context.js';
import { fetchSealedBinlog } from '../src/engines/mysql/binlog-sealed-fetch.js';
import { findBinlogTool } from '../src/engines/mysql/binlog-server.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';
import { filesUnder, flipByte, sentences } from './helpers/files.js';

/**
 * Issue 17 on MariaDB: the primary repository encrypted with age (target --encrypt-to).
 * mariadb-dump and mariadb-backup --stream=xbstream go through age as they are written, binlog-sync
 * fetches each binlog through a FIFO into age; no marker row value is in any file under the
 * repository and every backup file and binlog starts with age's header; restores with the identity
 * give exact rows (count and checksum), without it one sentence and nothing written; a
 * point-in-time restore between two inserts is exact; an encrypted diff/incr chain restores exact;
 * verify without a key names a flipped byte.
 * A MariaDB of this file's own: it rotates binary logs, which the shared server must not see.
 */
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
const keys = join(sandboxRunDir(), `enc-my-keys-${process.pid}`);
const MARKER = `sealed-my-marker-${process.pid}-9c2f1a`;
const AGE_HEADER = 'age-encryption.org/v1';
let server: SandboxInstance;
let env: Record<string, string>;
let recipient = '';
let logicalId = '';
let physicalId = '';
let betweenAt = '';
const restored: { pid: number; dir: string }[] = [];
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra }, timeoutMs: 240_000 });
const identity = () => join(keys, 'id.txt');

async function sql<T = mysql.RowDataPacket[]>(text: string, opts: { port?: number; password?: string; user?: string; database?: string } = {}): Promise<T> {
  const conn = await mysql.createConnection({
    host: '127.0.0.1', port: opts.port ?? server.port, user: opts.user ?? server.user, password: opts.password ?? server.password,
    database: opts.database ?? 'shop', dateStrings: true,
  });
  try {
    return (await conn.query(text))[0] as T;
  } finally {
    await conn.end();
  }
}

/** Row count and a checksum of the rows (ordered), to compare a restore with its source exactly. */
async function rowsOf(opts: { port?: number; password?: string; user?: string; database?: string } = {}): Promise<{ n: number; sum: string; notes: string[] }> {
  const rows = await sql<{ n: number; note: string }[]>('SELECT n, note FROM marks ORDER BY n', opts);
  return { n: rows.length, sum: createHash('sha256').update(JSON.stringify(rows)).digest('hex'), notes: rows.map((r) => r.note) };
}

async function serverNow(): Promise<string> {
  const rows = await sql<{ t: string }[]>("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ') AS t");
  return rows[0]!.t;
}

interface RestoreReport {
  pid: number;
  plan: { backup: string };
  mysql: { optionFile: string; user: string; transactionsReplayed: number };
}

async function restoreTo(args: string[], extra: Record<string, string> = {}) {
  const into = join(sandboxRunDir(), `enc-my-restore-${process.pid}-${restored.length}-${Date.now().toString(36)}`);
  const port = await freePort();
  const r = await cli(['restore', 'enc', ...args, '--into', into, '--port', String(port), '--json'], extra);
  const report = r.code === 0 ? (JSON.parse(r.stdout) as RestoreReport) : undefined;
  restored.push({ pid: report?.pid ?? 0, dir: into });
  const password = report ? /^password="(.*)"$/m.exec(readFileSync(report.mysql.optionFile, 'utf8'))![1]!.replace(/\\(.)/g, '$1') : '';
  return { ...r, into, port, report, password };
}

beforeAll(async () => {
  rmSync(keys, { recursive: true, force: true });
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  execFileSync('age-keygen', ['-o', identity()], { stdio: 'ignore' });
  recipient = execFileSync('age-keygen', ['-y', identity()]).toString().trim();
  server = await startMariadbSandbox({ binlog: true, sampleData: true });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, ENC_MY_PW: server.password };
}, 120_000);

afterAll(async () => {
  for (const r of restored) {
    if (r.pid && isPidAlive(r.pid)) {
      signalProcess(r.pid, 'SIGTERM');
      await waitForPidExit(r.pid, 30_000);
    }
    rmSync(r.dir, { recursive: true, force: true });
  }
  await server?.stop();
  rmSync(keys, { recursive: true, force: true });
  cfg.cleanup();
});

describe('encrypted repository (MariaDB)', { timeout: 600_000 }, () => {
  it('backs up (logical, physical) and archives binlogs with no plaintext in any file under the repository', async () => {
    const add = await cli(['target', 'add', 'enc', '--engine', 'mysql', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', 'shop', '--repo', repo, '--password-env', 'ENC_MY_PW', '--encrypt-to', recipient]);
    expect(add.code, add.stderr).toBe(0);
    await sql('CREATE TABLE marks (n int PRIMARY KEY, note varchar(200))');
    await sql(`INSERT INTO marks VALUES (1, '${MARKER}-in-backup')`);
    const logical = await cli(['backup', 'enc', '--kind', 'logical', '--json']);
    expect(logical.code, logical.stderr).toBe(0);
    logicalId = (JSON.parse(logical.stdout) as { backup: { id: string } }).backup.id;
    const physical = await cli(['backup', 'enc', '--kind', 'physical', '--json']);
    expect(physical.code, physical.stderr).toBe(0);
    physicalId = (JSON.parse(physical.stdout) as { backup: { id: string } }).backup.id;

    // Two inserts after the backups, with the moment between them kept for the point-in-time restore.
    await sql(`INSERT INTO marks VALUES (2, '${MARKER}-before')`);
    await new Promise((r) => setTimeout(r, 1100));
    betweenAt = await serverNow();
    await new Promise((r) => setTimeout(r, 1100));
    await sql(`INSERT INTO marks VALUES (3, '${MARKER}-after')`);
    const sync = await cli(['binlog-sync', 'enc', '--rotate', '--json']);
    expect(sync.code, sync.stderr).toBe(0);

    // The marker is in the server's own binlogs in plain (so the grep below could find it)...
    expect(filesUnder(server.binlogDir!).some((f) => readFileSync(f).includes(Buffer.from(MARKER)))).toBe(true);
    // ...and in no file of the repository.
    const files = filesUnder(repo);
    expect(files.filter((f) => readFileSync(f).includes(Buffer.from(MARKER)))).toEqual([]);
    // Every file holding data is age ciphertext: the dump, the xbstream, each archived binlog.
    const binlogs = files.filter((f) => /\/binlog\/mysql-bin\.\d{6}$/.test(f));
    expect(binlogs.length).toBeGreaterThanOrEqual(1);
    const sealed = [join(repo, 'backups', logicalId, 'dump.sql'), join(repo, 'backups', physicalId, 'base', 'backup.xbstream'), ...binlogs];
    for (const f of sealed) expect(readFileSync(f).subarray(0, AGE_HEADER.length).toString(), f).toBe(AGE_HEADER);
    // Nothing else but dbdrill's records and the plain-by-design files (LSNs, binlog position, charset).
    const others = files.filter((f) => !sealed.includes(f)).map((f) => f.slice(repo.length + 1));
    for (const o of others) expect(o).toMatch(/(^|\/)(repo|encryption|manifest|index|database)\.json$|\/base\/xtrabackup_(checkpoints|info)$/);
    // No plain binlog (magic \xfebin) and no plain xbstream (XBSTCK01) anywhere.
    for (const f of files) {
      const head = readFileSync(f).subarray(0, 8);
      expect(head.subarray(0, 4).equals(Buffer.from([0xfe, 0x62, 0x69, 0x6e])), f).toBe(false);
      expect(head.toString('latin1'), f).not.toBe('XBSTCK01');
    }

    // Manifests and the binlog index keep the ciphertext's sums and the plain ones.
    const m = JSON.parse(readFileSync(join(repo, 'backups', physicalId, 'manifest.json'), 'utf8')) as { encryption: { recipients: string[] }; files: { path: string; sha256: string; plain?: { sha256: string } }[] };
    expect(m.encryption.recipients).toEqual([recipient]);
    const stream = m.files.find((f) => f.path === 'base/backup.xbstream')!;
    expect(stream.plain!.sha256).not.toBe(stream.sha256);
    const idx = JSON.parse(readFileSync(join(repo, 'binlog', 'index.json'), 'utf8')) as BinlogIndex;
    expect(idx.files.every((f) => f.plain !== undefined && f.firstEventAt !== undefined && f.transactions >= 0)).toBe(true);
    // The window is read from the index: no key needed.
    const win = await cli(['window', 'enc', '--json']);
    expect(win.code, win.stderr).toBe(0);
  });

  it('restore without the identity fails in one sentence and writes nothing', async () => {
    const logical = await cli(['restore', 'enc', '--backup', logicalId, '--dbname', 'enc_none']);
    expect(logical.code).not.toBe(0);
    expect(logical.stderr).toMatch(new RegExp(`Backup ${logicalId} is encrypted with age; give --identity FILE`));
    expect(sentences(logical.stderr)).toHaveLength(1);
    expect(await sql("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'enc_none'")).toEqual([]);

    const pitr = await restoreTo(['--to', betweenAt]);
    expect(pitr.code).not.toBe(0);
    expect(pitr.stderr).toMatch(/The repository .* is encrypted with age; give --identity FILE/);
    expect(sentences(pitr.stderr)).toHaveLength(1);
    expect(existsSync(pitr.into)).toBe(false);
  });

  it('restore with another key fails in one sentence naming the backup', async () => {
    const other = join(keys, 'other.txt');
    execFileSync('age-keygen', ['-o', other], { stdio: 'ignore' });
    const logical = await cli(['restore', 'enc', '--backup', logicalId, '--dbname', 'enc_wrong', '--identity', other]);
    expect(logical.code).not.toBe(0);
    expect(logical.stderr).toMatch(new RegExp(`Backup ${logicalId} could not be decrypted: the identity .*other\\.txt is not one of the keys`));
    expect(sentences(logical.stderr)).toHaveLength(1);
    expect(logical.stderr).not.toContain('AGE-SECRET-KEY');
    expect(await sql("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'enc_wrong'")).toEqual([]);

    const pitr = await restoreTo(['--to', betweenAt, '--identity', other]);
    expect(pitr.code).not.toBe(0);
    expect(pitr.stderr).toMatch(/Backup \S+ could not be decrypted: the identity .*other\.txt is not one of the keys/);
    expect(sentences(pitr.stderr)).toHaveLength(1);
    expect(existsSync(pitr.into)).toBe(false);
  });

  it('restores with the identity: logical and physical give exact rows', async () => {
    const source = await rowsOf();
    const logical = await cli(['restore', 'enc', '--backup', logicalId, '--dbname', 'enc_logical', '--identity', identity()]);
    expect(logical.code, logical.stderr).toBe(0);
    const got = await rowsOf({ database: 'enc_logical' });
    expect(got.n).toBe(1);
    expect(got.notes).toEqual([`${MARKER}-in-backup`]);
    expect(source.n).toBe(3);

    // The physical backup as it was taken (DBDRILL_AGE_IDENTITY this time): unpacked into the restore's data directory, prepared there.
    const phys = await restoreTo(['--backup', physicalId], { DBDRILL_AGE_IDENTITY: identity() });
    expect(phys.code, phys.stderr).toBe(0);
    expect(phys.report!.plan.backup).toBe(physicalId);
    const restoredRows = await rowsOf({ port: phys.port, user: phys.report!.mysql.user, password: phys.password });
    expect(restoredRows).toEqual(got);
  });

  it('point-in-time restore between two inserts gives exactly the rows before that time', async () => {
    let seen = '';
    let polling = true;
    const poll = (async () => {
      while (polling) {
        seen += execFileSync('ps', ['-eo', 'args']).toString();
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const r = await restoreTo(['--to', betweenAt, '--identity', identity()]);
    polling = false;
    await poll;
    expect(r.code, r.stderr).toBe(0);
    expect(r.report!.mysql.transactionsReplayed).toBeGreaterThan(0);
    // age ran with the identity by its path; no private key ever reached a command line.
    expect(seen).toMatch(/age -d -i /);
    expect(seen).not.toContain('AGE-SECRET-KEY');
    const rows = await rowsOf({ port: r.port, user: r.report!.mysql.user, password: r.password });
    expect(rows.notes).toEqual([`${MARKER}-in-backup`, `${MARKER}-before`]);
    // Exactly the source's rows before the second insert.
    const source = await sql<{ n: number; note: string }[]>('SELECT n, note FROM marks WHERE n < 3 ORDER BY n');
    expect(rows.sum).toBe(createHash('sha256').update(JSON.stringify(source)).digest('hex'));
    // The binlogs were decrypted into the restore's own directory only, and that scratch is gone.
    expect(readdirSync(r.into).filter((n) => n.startsWith('.binlogs-'))).toEqual([]);
  });

  it('a copy of the encrypted repository restores to the same point with the identity', async () => {
    const dest = join(cfg.dir, 'nas');
    mkdirSync(dest);
    expect((await cli(['target', 'copy-add', 'enc', 'nas', '--dest', dest])).code).toBe(0);
    const copy = await cli(['copy', 'enc', '--to', 'nas']);
    expect(copy.code, copy.stderr).toBe(0);
    expect(filesUnder(dest).filter((f) => readFileSync(f).includes(Buffer.from(MARKER)))).toEqual([]);
    // What the primary already holds as age ciphertext (dumps, xbstreams, binlogs) is stored as it
    // is, byte for byte, never encrypted a second time; the rest gets the copy's own age layer.
    const sealedInRepo = filesUnder(repo).filter((f) => readFileSync(f).subarray(0, AGE_HEADER.length).toString() === AGE_HEADER);
    expect(sealedInRepo.length).toBeGreaterThan(2);
    for (const f of sealedInRepo) {
      const rel = relative(repo, f);
      expect(existsSync(join(dest, `${rel}.age`)), rel).toBe(false);
      expect(readFileSync(join(dest, rel)).equals(readFileSync(f)), rel).toBe(true);
    }
    const copied = filesUnder(dest).map((f) => relative(dest, f)).filter((rel) => rel !== 'dbdrill-copy.json');
    expect(copied.filter((rel) => !rel.endsWith('.age')).sort()).toEqual(sealedInRepo.map((f) => relative(repo, f)).filter((rel) => copied.includes(rel)).sort());
    const r = await restoreTo(['--from', 'nas', '--to', betweenAt, '--identity', identity()]);
    expect(r.code, r.stderr).toBe(0);
    expect((await rowsOf({ port: r.port, user: r.report!.mysql.user, password: r.password })).notes).toEqual([`${MARKER}-in-backup`, `${MARKER}-before`]);
  });

  it('a drill of the encrypted repository refuses without the identity and passes with it', async () => {
    const none = await cli(['drill', 'enc', '--to', betweenAt]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/is encrypted with age; give --identity FILE/);
    const d = await cli(['drill', 'enc', '--to', betweenAt, '--identity', identity(), '--json']);
    expect(d.code, d.stderr).toBe(0);
    expect((JSON.parse(d.stdout) as { status: string }).status).toBe('passed');
  });

  it('an encrypted diff and incr chain: no plaintext, and the incr restores exact rows', async () => {
    await sql(`INSERT INTO marks VALUES (4, '${MARKER}-diff')`);
    const diff = await cli(['backup', 'enc', '--kind', 'physical', '--type', 'diff', '--json']);
    expect(diff.code, diff.stderr).toBe(0);
    await sql(`INSERT INTO marks VALUES (5, '${MARKER}-incr')`);
    const incr = await cli(['backup', 'enc', '--kind', 'physical', '--type', 'incr', '--json']);
    expect(incr.code, incr.stderr).toBe(0);
    const ids = [diff, incr].map((r) => (JSON.parse(r.stdout) as { backup: { id: string } }).backup.id);
    for (const id of ids) {
      const stream = join(repo, 'backups', id, 'base', 'backup.xbstream');
      expect(readFileSync(stream).subarray(0, AGE_HEADER.length).toString()).toBe(AGE_HEADER);
      expect(filesUnder(join(repo, 'backups', id)).filter((f) => readFileSync(f).includes(Buffer.from(MARKER)))).toEqual([]);
    }
    const source = await rowsOf();
    const r = await restoreTo(['--backup', ids[1]!, '--identity', identity()]);
    expect(r.code, r.stderr).toBe(0);
    // The members were unpacked into the restore's own work directory, which is gone afterwards.
    expect(existsSync(join(r.into, 'chain-restore'))).toBe(false);
    expect(await rowsOf({ port: r.port, user: r.report!.mysql.user, password: r.password })).toEqual(source);
  });

  it('binlog-sync faults: a fetch the server refuses leaves nothing behind; a lost archived binlog is archived again', async () => {
    // mariadb-binlog fails before it opens the FIFO: the reader is released, no file is left.
    const target = new TargetStore(cfg.dir).get('enc');
    // In this process, as the CLI's environment has it: the target reads its password from ENC_MY_PW.
    process.env.ENC_MY_PW = server.password;
    const incoming = join(repo, 'binlog', `.incoming-test-${process.pid}`);
    mkdirSync(incoming, { mode: 0o700 });
    const ctx = { signal: new AbortController().signal, emit() {}, step: <T>(_n: string, fn: () => Promise<T>) => fn() } as unknown as EngineContext;
    await expect(fetchSealedBinlog(ctx, target, await findBinlogTool('mariadb'), 'mysql-bin.999999', incoming, [recipient])).rejects.toThrow(/purged a binlog while it was being copied/);
    expect(readdirSync(incoming)).toEqual([]);
    rmSync(incoming, { recursive: true, force: true });

    // An archived binlog lost from the archive (its index entry kept) is fetched through age again.
    const idx = JSON.parse(readFileSync(join(repo, 'binlog', 'index.json'), 'utf8')) as BinlogIndex;
    const lost = idx.files[0]!;
    rmSync(join(repo, 'binlog', lost.file));
    const again = await cli(['binlog-sync', 'enc', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { copied: { file: string }[] }).copied.map((c) => c.file)).toEqual([lost.file]);
    const back = (JSON.parse(readFileSync(join(repo, 'binlog', 'index.json'), 'utf8')) as BinlogIndex).files.find((f) => f.file === lost.file)!;
    expect(back.plain).toEqual(lost.plain);
    expect(readFileSync(join(repo, 'binlog', lost.file)).subarray(0, AGE_HEADER.length).toString()).toBe(AGE_HEADER);
  });

  it('verify without the key passes, then names a flipped byte in a backup and in a binlog', async () => {
    const clean = await cli(['verify', 'enc']);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    const withKey = await cli(['verify', 'enc', '--identity', identity()]);
    expect(withKey.code, withKey.stdout + withKey.stderr).toBe(0);
    expect(withKey.stdout).toMatch(/dump structure: \d+ table\(s\) with structure and data/);

    const dump = join(repo, 'backups', logicalId, 'dump.sql');
    const undo = flipByte(dump, 400);
    const bad = await cli(['verify', 'enc']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(new RegExp(`${logicalId}[^\\n]*dump\\.sql`));
    undo();
    expect((await cli(['verify', 'enc', '--backup', logicalId])).code).toBe(0);

    // With the identity, a restore of a damaged stream stops naming the backup and the file.
    const stream = join(repo, 'backups', physicalId, 'base', 'backup.xbstream');
    const undoStream = flipByte(stream, 70_000);
    const broken = await restoreTo(['--backup', physicalId, '--identity', identity()]);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(new RegExp(`Backup ${physicalId} is corrupt: base/backup\\.xbstream does not match the sha256 recorded at backup time`));
    expect(sentences(broken.stderr)).toHaveLength(1);
    undoStream();
    expect((await cli(['verify', 'enc', '--backup', physicalId])).code).toBe(0);

    const binlog = filesUnder(join(repo, 'binlog')).find((f) => /mysql-bin\.\d{6}$/.test(f))!;
    const undoBinlog = flipByte(binlog, 300);
    const badBinlog = await cli(['verify', 'enc']);
    expect(badBinlog.code).not.toBe(0);
    expect(badBinlog.stdout + badBinlog.stderr).toContain(binlog.split('/').pop()!);
    undoBinlog();
  });
});
