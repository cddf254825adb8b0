import { mkdirSync, readFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';

/**
 * Issue 17 on MariaDB: a copy holds the backups and the binlog archive, and a point-in-time
 * restore from the copy alone (primary repository gone) gives exactly the rows of the marked time.
 */
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
let server: SandboxInstance;
let env: Record<string, string>;
const restored: { pid: number; dir: string }[] = [];
const nas = join(sandboxRunDir(), `copies-mysql-nas-${process.pid}`);
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });

async function sql<T = mysql.RowDataPacket[]>(text: string, opts: { port?: number; password?: string } = {}): Promise<T> {
  const conn = await mysql.createConnection({ host: '127.0.0.1', port: opts.port ?? server.port, user: server.user, password: opts.password ?? server.password, database: 'shop', dateStrings: true });
  try {
    return (await conn.query(text))[0] as T;
  } finally {
    await conn.end();
  }
}

beforeAll(async () => {
  server = await startMariadbSandbox({ binlog: true, sampleData: true });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, MYCOPY_PW: server.password };
  const add = await cli(['target', 'add', 'mycopy', '--engine', 'mysql', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', 'shop', '--repo', repo, '--password-env', 'MYCOPY_PW']);
  expect(add.code, add.stderr).toBe(0);
  mkdirSync(nas, { recursive: true, mode: 0o700 });
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
  rmSync(nas, { recursive: true, force: true });
  cfg.cleanup();
});

describe('copies of a MariaDB target', { timeout: 400_000 }, () => {
  it('copies the dump and the binlog archive; restores to a time from the copy with the primary gone', async () => {
    const backup = await cli(['backup', 'mycopy', '--kind', 'logical', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    await sql('CREATE TABLE marks (n int PRIMARY KEY)');
    await sql('INSERT INTO marks VALUES (1)');
    await new Promise((r) => setTimeout(r, 1100));
    const markedAt = (await sql<{ t: string }[]>("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ') AS t"))[0]!.t;
    await new Promise((r) => setTimeout(r, 1100));
    await sql('INSERT INTO marks VALUES (2)');
    const sync = await cli(['binlog-sync', 'mycopy', '--rotate', '--json']);
    expect(sync.code, sync.stderr).toBe(0);

    expect((await cli(['target', 'copy-add', 'mycopy', 'nas', '--dest', nas])).code).toBe(0);
    const c = await cli(['copy', 'mycopy', '--json']);
    expect(c.code, c.stderr).toBe(0);
    const held = JSON.parse(readFileSync(join(nas, 'dbdrill-copy.json'), 'utf8')) as { files: Record<string, unknown> };
    expect(Object.keys(held.files).some((f) => /^binlog\/mysql-bin\.\d{6}$/.test(f))).toBe(true);

    renameSync(repo, `${repo}.gone`);
    try {
      const into = join(sandboxRunDir(), `copies-mysql-restored-${process.pid}`);
      const port = await freePort();
      const r = await cli(['restore', 'mycopy', '--from', 'nas', '--to', markedAt, '--into', into, '--port', String(port), '--json']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { pid: number; mysql: { optionFile: string }; from: { copy: string } };
      restored.push({ pid: report.pid, dir: into });
      expect(report.from.copy).toBe('nas');
      const password = /^password="(.*)"$/m.exec(readFileSync(report.mysql.optionFile, 'utf8'))![1]!.replace(/\\(.)/g, '$1');
      expect((await sql<{ n: number }[]>('SELECT n FROM marks ORDER BY n', { port, password })).map((x) => x.n)).toEqual([1]);
      expect(existsSync(repo)).toBe(false);
    } finally {
      renameSync(`${repo}.gone`, repo);
    }
  });
});
