import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/repo/manifest.js';
import { runCli, tempConfigDir, type CliResult } from './helpers/cli.js';
import { sharedMariadb, withMysql } from './helpers/sandbox.js';

const my = sharedMariadb();
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
const env = { DBDRILL_CONFIG_DIR: cfg.dir, TEST_MY_PW: my.password };
const schema = `bk_${randomBytes(3).toString('hex')}`;
const created: string[] = [schema];
/** Every CLI run of this file, to check afterwards that the password never got out. */
const runs: CliResult[] = [];

async function cli(args: string[]): Promise<CliResult> {
  const r = await runCli(args, { env, timeoutMs: 120_000 });
  runs.push(r);
  return r;
}

async function q<T extends mysql.RowDataPacket[]>(sql: string, params: unknown[] = [], database: string | undefined = schema): Promise<T> {
  return withMysql(my, async (c) => (await c.query<T>(sql, params))[0], { database });
}

/** Row count and a hash over every row in key order, computed here, not with dbdrill's digest. */
async function fingerprint(db: string, table: string): Promise<{ rows: number; sha: string }> {
  return withMysql(
    my,
    async (c) => {
      await c.query("SET time_zone = '+00:00'");
      const [rows] = await c.query<mysql.RowDataPacket[]>({ sql: `SELECT * FROM \`${table}\` ORDER BY id`, rowsAsArray: true });
      const h = createHash('sha256');
      for (const r of rows as unknown as unknown[][]) h.update(JSON.stringify(r.map((v) => (Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : v))));
      return { rows: rows.length, sha: h.digest('hex') };
    },
    { database: db },
  );
}

function flipByte(file: string, offset: number) {
  const buf = readFileSync(file);
  buf[offset] = buf[offset]! ^ 0xff;
  writeFileSync(file, buf);
}

/** The pid of a running tool whose argv holds `needle` as one argument. */
function findProcess(name: string, needle: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith(`/${name}`) && cmd.includes(needle)) return Number(entry);
    } catch {
      // gone
    }
  }
  return undefined;
}

beforeAll(async () => {
  // latin1 first, utf8mb4 later: the dump then writes ALTER DATABASE lines naming this schema
  // around the trigger and the event, which a restore under another name must not execute.
  await withMysql(my, (c) => c.query(`CREATE DATABASE ${schema} CHARACTER SET latin1`), { database: undefined });
  await withMysql(
    my,
    async (c) => {
      await c.query(`CREATE TABLE accounts (
        id int PRIMARY KEY, owner varchar(100) NOT NULL, balance decimal(12,2), opened datetime(6),
        seen timestamp NULL, avatar blob, note text
      ) DEFAULT CHARSET=utf8mb4`);
      await c.query(`INSERT INTO accounts
        SELECT seq, CONCAT('owner ', seq, IF(seq % 7 = 0, ' O''Brien \\\\ "q"', ''), IF(seq % 11 = 0, ' ünïcødé 🐘', '')),
               seq * 1.25, '2024-01-01' + INTERVAL seq MINUTE, IF(seq % 3 = 0, NULL, FROM_UNIXTIME(1700000000 + seq)),
               IF(seq % 5 = 0, UNHEX(CONCAT('00FF', HEX(seq), '0A0D5C27')), NULL),
               IF(seq % 13 = 0, CONCAT('line1\\nline2\\t', seq), NULL)
          FROM seq_1_to_3000`);
      await c.query(`CREATE TABLE events (
        id bigint AUTO_INCREMENT PRIMARY KEY, account int NOT NULL, at datetime NOT NULL, kind enum('in','out'), amount double
      ) DEFAULT CHARSET=utf8mb4`);
      await c.query(`INSERT INTO events (account, at, kind, amount)
        SELECT (seq % 3000) + 1, '2024-02-01' + INTERVAL seq SECOND, IF(seq % 2 = 0, 'in', 'out'), seq / 8 FROM seq_1_to_5000`);
      await c.query('CREATE VIEW big_accounts AS SELECT id, owner FROM accounts WHERE balance > 3000');
      await c.query("CREATE TRIGGER events_kind BEFORE INSERT ON events FOR EACH ROW SET NEW.kind = COALESCE(NEW.kind, 'in')");
      await c.query('CREATE EVENT purge_events ON SCHEDULE EVERY 1 DAY DO DELETE FROM events WHERE id < 0');
      await c.query(`ALTER DATABASE ${schema} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
    },
    { database: schema },
  );
  const add = await cli([
    'target', 'add', 'myt', '--engine', 'mysql', '--host', my.host, '--port', String(my.port), '--user', my.user,
    '--dbname', schema, '--repo', repo, '--password-env', 'TEST_MY_PW',
  ]);
  expect(add.code, add.stderr).toBe(0);
});

afterAll(async () => {
  await withMysql(
    my,
    async (c) => {
      for (const name of created) await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    },
    { database: undefined },
  );
  cfg.cleanup();
});

describe('logical backups of MariaDB', () => {
  let manifest: Manifest;

  it('dumps into the repository with a complete manifest, binlog coordinates, checksums and table counts', async () => {
    const r = await cli(['backup', 'myt', '--kind', 'logical', '--json']);
    expect(r.code, r.stderr).toBe(0);
    manifest = (JSON.parse(r.stdout) as { backup: Manifest }).backup;
    expect(manifest.id).toMatch(/^\d{8}T\d{6}Z-L$/);
    expect(manifest.status).toBe('complete');
    expect(manifest.engine).toBe('mysql');
    expect(manifest.tool.name).toBe('mariadb-dump');
    expect(manifest.tool.argv).toEqual(expect.arrayContaining(['--single-transaction', '--master-data=2', '--gtid', '--hex-blob', schema]));
    expect(manifest.tool.argv).not.toContain('--databases');
    expect(manifest.mysql?.binlogFile).toMatch(/^mysql-bin\.\d{6}$/);
    expect(manifest.mysql?.binlogPosition).toBeGreaterThan(4);
    expect(manifest.mysql?.gtid).toMatch(/^\d+-\d+-\d+(,\d+-\d+-\d+)*$/);
    // Counted at the dump's own binlog position (no schema in the name: a restore renames it).
    const tables = [...(manifest.tables ?? [])].sort((a, b) => a.table.localeCompare(b.table));
    expect(tables).toEqual([
      { table: 'accounts', rows: 3000, digest: expect.stringMatching(/^\d+$/) },
      { table: 'events', rows: 5000, digest: expect.stringMatching(/^\d+$/) },
    ]);
    const dir = join(repo, 'backups', manifest.id);
    const onDisk = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(onDisk).toEqual(manifest);
    expect(manifest.files.map((f) => f.path)).toEqual(['database.json', 'dump.sql']);
    expect(manifest.sizeBytes).toBe(manifest.files.reduce((n, f) => n + f.bytes, 0));
    expect(statSync(join(dir, 'dump.sql')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // One schema without --databases: nothing in the dump names a database to create or use.
    const dump = readFileSync(join(dir, 'dump.sql'), 'utf8');
    expect(dump).not.toMatch(/^(CREATE DATABASE|USE )/m);
    expect(dump).toContain(`-- CHANGE MASTER TO MASTER_LOG_FILE='${manifest.mysql!.binlogFile}', MASTER_LOG_POS=${manifest.mysql!.binlogPosition};`);
    expect(JSON.parse(readFileSync(join(dir, 'database.json'), 'utf8'))).toEqual({ name: schema, characterSet: 'utf8mb4', collation: 'utf8mb4_general_ci' });
  });

  it('restores into a new schema with identical contents, never naming the source schema', async () => {
    const copy = `${schema}_copy`;
    created.push(copy);
    const [before] = await q<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const r = await cli(['restore', 'myt', '--backup', manifest.id, '--dbname', copy, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ matches: true, dbname: copy });
    for (const t of ['accounts', 'events']) {
      const [a, b] = await Promise.all([fingerprint(schema, t), fingerprint(copy, t)]);
      expect(b).toEqual(a);
    }
    expect((await fingerprint(copy, 'accounts')).rows).toBe(3000);
    // The view, the trigger and the event came along; the event is created disabled.
    const objects = await q<mysql.RowDataPacket[]>(
      `SELECT 'view' AS k, TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
       UNION ALL SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
       UNION ALL SELECT CONCAT('event ', STATUS), EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
      [copy, copy, copy],
    );
    expect(objects.map((o) => `${o.k} ${o.n}`).sort()).toEqual(['event DISABLED purge_events', 'trigger events_kind', 'view big_accounts']);
    expect(r.stderr).toContain('1 event(s) restored DISABLED');
    // Everything the restore wrote is in the binlog: none of it may name the source schema.
    const binlog = await q<mysql.RowDataPacket[]>(`SHOW BINLOG EVENTS IN '${String(before!.File)}' FROM ${Number(before!.Position)}`);
    const touching = binlog.map((e) => String(e.Info)).filter((i) => i.includes(`\`${schema}\``) || i.includes(`use ${schema};`));
    expect(touching).toEqual([]);
    expect(binlog.some((e) => String(e.Info).includes(`ALTER DATABASE \`${copy}\``))).toBe(true);
  });

  it('refuses to restore into an existing schema and changes nothing there', async () => {
    const before = await fingerprint(`${schema}_copy`, 'events');
    const r = await cli(['restore', 'myt', '--backup', manifest.id, '--dbname', `${schema}_copy`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Schema ".*_copy" already exists on .*; a restore never writes into an existing schema, so choose a new --dbname\./);
    expect(await fingerprint(`${schema}_copy`, 'events')).toEqual(before);
    const own = await cli(['restore', 'myt', '--dbname', schema]);
    expect(own.code).toBe(2);
    expect(own.stderr).toContain("is the target's own database");
  });

  it('restores a single table', async () => {
    const one = `${schema}_one`;
    created.push(one);
    const r = await cli(['restore', 'myt', '--backup', manifest.id, '--dbname', one, '--table', 'events', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ matches: true, tables: [{ table: 'events', rows: 5000 }] });
    const tables = await q<mysql.RowDataPacket[]>('SELECT TABLE_NAME AS t, TABLE_TYPE AS k FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [one]);
    expect(tables.map((x) => `${x.t} ${x.k}`)).toEqual(['events BASE TABLE']);
    expect(await fingerprint(one, 'events')).toEqual(await fingerprint(schema, 'events'));
    const triggers = await q<mysql.RowDataPacket[]>('SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?', [one]);
    expect(triggers.map((t) => t.n)).toEqual(['events_kind']);
    const missing = await cli(['restore', 'myt', '--backup', manifest.id, '--dbname', `${schema}_none`, '--table', 'nope']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`Backup ${manifest.id} has no table nope; the tables it holds are: `);
  });

  it('verifies with --restore in a scratch server (CHECK TABLE included), and records it in the manifest', async () => {
    const r = await cli(['verify', 'myt', '--backup', manifest.id, '--restore', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { method: string; ok: boolean; detail: string }[] };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.method)).toEqual(['sha256', 'dump structure', 'restore', 'CHECK TABLE']);
    expect(report.checks.find((c) => c.method === 'dump structure')!.detail).toContain(`binlog ${manifest.mysql!.binlogFile}:${manifest.mysql!.binlogPosition}`);
    expect(report.checks.find((c) => c.method === 'restore')!.detail).toContain('rows and digests match the backup (8000 rows)');
    expect(report.checks.find((c) => c.method === 'CHECK TABLE')!.detail).toBe('2 table(s) OK');
    const m = JSON.parse(readFileSync(join(repo, 'backups', manifest.id, 'manifest.json'), 'utf8')) as Manifest;
    expect(m.verification?.map((v) => v.method)).toEqual(['sha256', 'dump structure', 'restore', 'CHECK TABLE']);
    expect(m.verification?.every((v) => v.ok)).toBe(true);
  });

  it('fails verify --restore when the restored tables differ from those recorded, naming each table (exit 1)', async () => {
    // A dump that no longer holds what was counted: one value changed in the accounts rows (its
    // checksum recorded again, so only the restore can tell), and an events count that is off.
    const dir = join(repo, 'backups', manifest.id);
    const dumpFile = join(dir, 'dump.sql');
    const manifestFile = join(dir, 'manifest.json');
    const [dump, recorded] = [readFileSync(dumpFile), readFileSync(manifestFile)];
    try {
      const text = dump.toString('latin1');
      const at = text.indexOf("'owner 1'");
      expect(at).toBeGreaterThan(0);
      writeFileSync(dumpFile, Buffer.from(`${text.slice(0, at)}'owner X'${text.slice(at + 9)}`, 'latin1'));
      const m = JSON.parse(recorded.toString('utf8')) as Manifest;
      m.files = m.files.map((f) => (f.path === 'dump.sql' ? { ...f, sha256: createHash('sha256').update(readFileSync(dumpFile)).digest('hex') } : f));
      m.tables = m.tables!.map((t) => (t.table === 'events' ? { ...t, rows: t.rows + 1 } : t));
      writeFileSync(manifestFile, JSON.stringify(m));

      const r = await cli(['verify', 'myt', '--backup', manifest.id, '--restore']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toContain('OK   sha256: 2 file(s) match their checksums');
      expect(r.stdout).toContain('FAIL restore: accounts has the expected row count but different contents; events has 5000 rows, expected 5001\n');
      expect(r.stdout).toContain('OK   CHECK TABLE: 2 table(s) OK');
      expect(r.stdout).toContain(`Backup ${manifest.id} FAILED verification.`);
      const after = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
      expect(after.verification?.filter((v) => v.method === 'restore').at(-1)).toMatchObject({ ok: false, detail: expect.stringContaining('accounts has the expected row count but different contents') });
    } finally {
      writeFileSync(dumpFile, dump);
      writeFileSync(manifestFile, recorded);
    }
  });

  it('detects and names a corrupted byte in the dump', async () => {
    const r0 = await cli(['backup', 'myt', '--kind', 'logical', '--json']);
    expect(r0.code, r0.stderr).toBe(0);
    const m = (JSON.parse(r0.stdout) as { backup: Manifest }).backup;
    const file = join(repo, 'backups', m.id, 'dump.sql');
    flipByte(file, Math.floor(statSync(file).size / 2));
    const r = await cli(['verify', 'myt', '--backup', m.id]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL sha256: dump.sql: checksum differs');
    expect(r.stdout).toContain(`Backup ${m.id} FAILED verification.`);
    const cat = await cli(['catalog', 'myt', '--json']);
    const entry = (JSON.parse(cat.stdout) as { backups: { id: string; verified?: { ok: boolean } }[] }).backups.find((b) => b.id === m.id);
    expect(entry?.verified?.ok).toBe(false);
  });
});

describe('physical backups of MariaDB', () => {
  let m: Manifest;

  it('takes a prepared mariadb-backup with the binlog position recorded', async () => {
    const r = await cli(['backup', 'myt', '--kind', 'physical', '--json']);
    expect(r.code, r.stderr).toBe(0);
    m = (JSON.parse(r.stdout) as { backup: Manifest }).backup;
    expect(m.id).toMatch(/-F$/);
    expect(m.format).toBe('mariadb-backup');
    expect(m.mysql?.binlogFile).toMatch(/^mysql-bin\.\d{6}$/);
    expect(m.mysql?.binlogPosition).toBeGreaterThan(4);
    const paths = m.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['base/xtrabackup_checkpoints', 'base/xtrabackup_binlog_info', 'base/ibdata1', `base/${schema}/accounts.ibd`]));
    expect(readFileSync(join(repo, 'backups', m.id, 'base', 'xtrabackup_checkpoints'), 'utf8')).toMatch(/^backup_type = (full-prepared|log-applied)$/m);
    for (const f of paths.slice(0, 20)) expect(statSync(join(repo, 'backups', m.id, f)).mode & 0o077).toBe(0);
  });

  it('passes verify, and a flipped byte in a data file is named', async () => {
    const ok = await cli(['verify', 'myt', '--backup', m.id]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/OK {3}mariadb-backup files: backup_type = (full-prepared|log-applied), binlog mysql-bin\.\d+:\d+/);
    // The shared server's whole data directory, other tests' schemas included, starts and reads back.
    const restore = await cli(['verify', 'myt', '--backup', m.id, '--restore', '--json']);
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    const checks = (JSON.parse(restore.stdout) as { checks: { method: string; ok: boolean; detail: string }[] }).checks;
    expect(checks.map((c) => [c.method, c.ok])).toEqual([['sha256', true], ['mariadb-backup files', true], ['restore', true], ['CHECK TABLE', true]]);
    expect(checks[2]!.detail).toMatch(/; counted \d+ table\(s\) in \d+ schema\(s\), \d+ rows; the backup recorded no table counts to compare with$/);
    const file = join(repo, 'backups', m.id, 'base', schema, 'events.ibd');
    flipByte(file, 16384 * 3 + 200);
    const bad = await cli(['verify', 'myt', '--backup', m.id]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`FAIL sha256: base/${schema}/events.ibd: checksum differs`);
  });
});

describe('failed and interrupted backups', () => {
  /** A write lock on a table makes the dump (and the counting) wait, so there is a run to interrupt. */
  async function withTableLocked<T>(table: string, fn: (lockerId: number) => Promise<T>): Promise<T> {
    return withMysql(
      my,
      async (c) => {
        await c.query(`LOCK TABLES ${table} WRITE`);
        try {
          return await fn(c.threadId);
        } finally {
          await c.query('UNLOCK TABLES');
        }
      },
      { database: schema },
    );
  }

  it('a backup killed mid-run leaves a failed manifest, no data and no session behind', async () => {
    await withTableLocked('accounts', async (lockerId) => {
      const run = cli(['backup', 'myt', '--kind', 'logical', '--json']);
      let pid: number | undefined;
      for (let i = 0; i < 200 && pid === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        pid = findProcess('mariadb-dump', schema);
      }
      expect(pid, 'mariadb-dump should be running').toBeDefined();
      process.kill(pid!, 'SIGKILL');
      const r = await run;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Backup \S+ failed: mariadb-dump was killed by SIGKILL/);
      // The lock made pausing commits wait and give up; the run said so and went on.
      expect(r.stderr).toMatch(/WARN could not pause commits/);
      const out = JSON.parse(r.stdout) as { error: { backup: string } };
      const dir = join(repo, 'backups', out.error.backup);
      expect(readdirSync(dir)).toEqual(['manifest.json']);
      const man = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      expect(man.status).toBe('failed');
      expect(man.error).toMatch(/killed by SIGKILL/);
      // The failed manifest still says what ran, recorded before the tool started.
      expect(man.tool.name).toBe('mariadb-dump');
      expect(man.tool.version).toMatch(/^10\.11\./);
      expect(man.tool.argv[0]).toMatch(/\/mariadb-dump$/);
      expect(man.tool.argv).toContain(schema);
      expect(man.tool.argv.join(' ')).not.toContain(my.password);
      // The counting session that waited on the lock was ended, not left holding a snapshot.
      const left = await q<mysql.RowDataPacket[]>(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> ? AND INFO LIKE 'SELECT COUNT(*)%'",
        [schema, lockerId],
      );
      expect(left).toEqual([]);
    });
  });

  it('Ctrl-C cancels the tool and marks the backup failed', async () => {
    await withTableLocked('events', async () => {
      const { spawn } = await import('node:child_process');
      const { CLI } = await import('./helpers/cli.js');
      const child = spawn(process.execPath, [CLI, 'backup', 'myt', '--kind', 'logical', '--json'], { env: { ...process.env, ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      for (let i = 0; i < 200 && findProcess('mariadb-dump', schema) === undefined; i++) await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGINT');
      const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? -1)));
      runs.push({ code, stdout, stderr, ms: 0 });
      expect(code).toBe(1);
      const id = (JSON.parse(stdout) as { error: { backup: string } }).error.backup;
      const man = JSON.parse(readFileSync(join(repo, 'backups', id, 'manifest.json'), 'utf8')) as Manifest;
      expect(man.status).toBe('failed');
      expect(man.error).toMatch(/^cancelled/);
      expect(findProcess('mariadb-dump', schema)).toBeUndefined();
    });
  });

  it('the catalog lists every backup newest first, failed ones included', async () => {
    const r = await cli(['catalog', 'myt', '--json']);
    const cat = JSON.parse(r.stdout) as { backups: { id: string; status: string; kind: string }[] };
    const ids = cat.backups.map((b) => b.id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(cat.backups.filter((b) => b.status === 'failed').length).toBe(2);
    // The dump and the physical backup whose bytes were flipped above failed verify: they are corrupt now.
    expect(cat.backups.filter((b) => b.status === 'complete').map((b) => b.kind).sort()).toEqual(['logical']);
    expect(cat.backups.filter((b) => b.status === 'corrupt').map((b) => b.kind).sort()).toEqual(['logical', 'physical']);
  });

  it('the password never appears in manifests, stdout or stderr', () => {
    expect(runs.length).toBeGreaterThan(10);
    for (const r of runs) {
      expect(r.stdout).not.toContain(my.password);
      expect(r.stderr).not.toContain(my.password);
    }
    for (const id of readdirSync(join(repo, 'backups'))) {
      expect(readFileSync(join(repo, 'backups', id, 'manifest.json'), 'utf8')).not.toContain(my.password);
    }
  });
});
