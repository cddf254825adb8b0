import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../src/ops/catalog.js';
import type { Manifest } from '../src/repo/manifest.js';
import { listProcesses } from '../src/runner/process.js';
import { freePort } from '../src/sandbox/ports.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir, sharedMariadb, withMysql } from './helpers/sandbox.js';

// The suite's MariaDB, with a schema of this file's own; its backups are damaged on purpose.
const my = sharedMariadb();
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
const env = { DBDRILL_CONFIG_DIR: cfg.dir, MYC_PW: my.password };
const schema = `cr_${randomBytes(3).toString('hex')}`;
const into = join(sandboxRunDir(), `mycorrupt-${process.pid}`);
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
const NOTE = (n: number) => `mysql-corrupt-marker-row-${n}-${'y'.repeat(40)}`;

async function q<T extends mysql.RowDataPacket[]>(sql: string, database: string | undefined = schema): Promise<T> {
  return withMysql(my, async (c) => (await c.query<T>(sql))[0], { database });
}

async function catalog(): Promise<CatalogEntry[]> {
  const r = await cli(['catalog', 'myc', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { backups: CatalogEntry[] }).backups;
}

async function backup(kind: 'physical' | 'logical'): Promise<Manifest> {
  const r = await cli(['backup', 'myc', '--kind', kind, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { backup: Manifest }).backup;
}

/** Flips one byte inside the first occurrence of `needle`; returns the original bytes. */
function flipInside(file: string, needle: string): Buffer {
  const original = readFileSync(file);
  const at = original.indexOf(Buffer.from(needle));
  expect(at, `${needle} in ${file}`).toBeGreaterThan(0);
  const bad = Buffer.from(original);
  bad[at + 10] = bad[at + 10]! ^ 0x01;
  writeFileSync(file, bad);
  return original;
}

beforeAll(async () => {
  await withMysql(my, (c) => c.query(`CREATE DATABASE ${schema}`), { database: undefined });
  await q('CREATE TABLE marks (n int PRIMARY KEY, note varchar(200)) ENGINE=InnoDB');
  await q(`INSERT INTO marks VALUES (1, '${NOTE(1)}'), (2, '${NOTE(2)}')`);
  const add = await cli(['target', 'add', 'myc', '--engine', 'mysql', '--host', '127.0.0.1', '--port', String(my.port), '--user', my.user, '--dbname', schema, '--repo', repo, '--password-env', 'MYC_PW']);
  expect(add.code, add.stderr).toBe(0);
});

afterAll(async () => {
  for (const s of [schema, `${schema}_bad`]) await withMysql(my, (c) => c.query(`DROP DATABASE IF EXISTS ${s}`), { database: undefined });
  rmSync(into, { recursive: true, force: true });
  cfg.cleanup();
});

describe('a mariadb-backup backup with a flipped byte in a data file', () => {
  it('restore checks every file before copy-back: it fails naming the file, starts no server and marks the backup corrupt; fixed, verify makes it complete again', async () => {
    // --prepare applies the redo log to the backup's copy of marks.ibd, so the page holds the rows.
    const m = await backup('physical');
    const rel = `base/${schema}/marks.ibd`;
    expect(m.files.map((f) => f.path)).toContain(rel);
    const file = join(repo, 'backups', m.id, rel);
    const original = flipInside(file, NOTE(2));

    const port = await freePort();
    const r = await cli(['restore', 'myc', '--backup', m.id, '--into', into, '--port', String(port)]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`dbdrill: Backup ${m.id} is corrupt: ${rel} does not match the sha256 recorded at backup time; the restore stopped before copying anything into \\S+, and the backup is now marked corrupt \\(restore another one: dbdrill catalog myc\\)\\.\\n`),
    );
    expect(existsSync(join(into, 'data', 'ibdata1'))).toBe(false);
    expect(listProcesses().filter((p) => p.name === 'mariadbd' && p.commandLine.includes(into))).toEqual([]);
    const entry = (await catalog()).find((b) => b.id === m.id)!;
    expect(entry.status).toBe('corrupt');
    expect(entry.verified).toMatchObject({ ok: false, method: 'sha256' });

    // Named again, it is refused up front with why.
    const again = await cli(['restore', 'myc', '--backup', m.id, '--into', into, '--port', String(port)]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`dbdrill: Backup ${m.id} is corrupt (verify at `);
    expect(again.stderr).toContain(`: ${rel}: checksum differs (found by a restore)); restore another backup`);

    writeFileSync(file, original);
    const v = await cli(['verify', 'myc', '--backup', m.id, '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, statusBefore: 'corrupt', status: 'complete' });
    expect((await catalog()).find((b) => b.id === m.id)!.status).toBe('complete');
  });
});

describe('a logical dump with a flipped byte', () => {
  it('the restore proves the dump while it reads it, before the schema is created, and marks the backup corrupt', async () => {
    const m = await backup('logical');
    const original = flipInside(join(repo, 'backups', m.id, 'dump.sql'), NOTE(2));
    const r = await cli(['restore', 'myc', '--backup', m.id, '--dbname', `${schema}_bad`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `dbdrill: Backup ${m.id} is corrupt: dump.sql does not match the sha256 recorded at backup time; the restore stopped before creating the schema "${schema}_bad", and the backup is now marked corrupt (restore another one: dbdrill catalog myc).\n`,
    );
    expect(await q(`SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${schema}_bad'`, undefined)).toEqual([]);
    expect((await catalog()).find((b) => b.id === m.id)!.status).toBe('corrupt');

    const v = await cli(['verify', 'myc', '--backup', m.id]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('FAIL sha256: dump.sql: checksum differs');
    expect(v.stdout).toContain('It is marked corrupt');
    writeFileSync(join(repo, 'backups', m.id, 'dump.sql'), original);
    const fixed = await cli(['verify', 'myc', '--backup', m.id]);
    expect(fixed.code, fixed.stdout).toBe(0);
    expect((await catalog()).find((b) => b.id === m.id)!.status).toBe('complete');
  });
});
