import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetStore } from '../src/config/store.js';
import { compareBinlogNames } from '../src/binlog/names.js';
import type { RepoVerifyReport } from '../src/ops/verify-repository.js';
import type { Manifest } from '../src/repo/manifest.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { takePhysicalBackup } from './helpers/chain-backup.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { withMysql } from './helpers/sandbox.js';

// A MariaDB of this file's own: one of its archived binlogs is cut short, and a chain's full
// backup gets a flipped bit; each is put back after.
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
let server: SandboxInstance;
let env: Record<string, string>;
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 300_000 });

let l1: Manifest;
let l2: Manifest;
let full: Manifest;
let incr: Manifest;

async function logical(): Promise<Manifest> {
  const r = await cli(['backup', 'vmy', '--kind', 'logical', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { backup: Manifest }).backup;
}

async function work(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await withMysql(server, (c) => c.query(`INSERT INTO shop.vmarks (note) VALUES ('verify ${i}'), ('verify ${i}b')`));
    const s = await cli(['binlog-sync', 'vmy', '--rotate']);
    expect(s.code, s.stderr).toBe(0);
  }
}

async function verify(): Promise<{ code: number; report: RepoVerifyReport; stderr: string; text: string }> {
  const r = await cli(['verify', 'vmy', '--json']);
  const t = await cli(['verify', 'vmy']);
  expect(t.code).toBe(r.code);
  return { code: r.code, report: JSON.parse(r.stdout) as RepoVerifyReport, stderr: r.stderr, text: t.stdout };
}

beforeAll(async () => {
  try {
    server = await startMariadbSandbox({ binlog: true, sampleData: true });
  } catch (e) {
    // Overlapping mariadb-install-db runs collide now and then (see health-mysql.test.ts).
    if (!/mariadb-install-db/.test((e as Error).message)) throw e;
    server = await startMariadbSandbox({ binlog: true, sampleData: true });
  }
  env = { DBDRILL_CONFIG_DIR: cfg.dir, VMY_PW: server.password };
  const add = await cli(['target', 'add', 'vmy', '--engine', 'mysql', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', 'shop', '--repo', repo, '--password-env', 'VMY_PW']);
  expect(add.code, add.stderr).toBe(0);
  process.env.VMY_PW = server.password;
  await withMysql(server, (c) => c.query('CREATE TABLE shop.vmarks (n int AUTO_INCREMENT PRIMARY KEY, note varchar(40))'));
  l1 = await logical();
  await work(3);
  l2 = await logical();
  await work(2);
  const target = new TargetStore(cfg.dir).get('vmy');
  full = (await takePhysicalBackup(target, 'full')).manifest;
  await work(1);
  incr = (await takePhysicalBackup(target, 'incr')).manifest;
}, 600_000);

afterAll(async () => {
  await server?.stop();
  cfg.cleanup();
});

describe('verify NAME: the whole repository (MariaDB)', () => {
  it('a clean repository verifies OK with exit 0: backups, the chain link and the binlog archive', async () => {
    const { code, report, stderr } = await verify();
    expect(code, stderr + report.problems.join('\n')).toBe(0);
    expect(report.backups.map((b) => [b.backup, b.status])).toEqual([[l1.id, 'ok'], [l2.id, 'ok'], [full.id, 'ok'], [incr.id, 'ok']]);
    expect(report.backups.at(-1)!.checks.map((c) => [c.method, c.ok])).toEqual([['sha256', true], ['mariadb-backup files', true], ['chain links', true]]);
    expect(report.archive).toMatchObject({ kind: 'binlog' });
    expect(report.archive!.ranges).toEqual([expect.objectContaining({ status: 'ok', ok: true, line: 'binlog mysql-bin' })]);
    expect(report.backups.flatMap((b) => b.replay ?? []).every((r) => r.ok)).toBe(true);
    expect(stderr).toContain('OK binlog archive');
  }, 300_000);

  it('a truncated binlog between two backups is named, with the backup it stops and the window it loses', async () => {
    const middle = l1.mysql!.binlogFile!.replace(/\d+$/, (d) => String(Number(d) + 1).padStart(d.length, '0'));
    expect(compareBinlogNames(middle, l2.mysql!.binlogFile!)).toBeLessThan(0);
    const path = join(repo, 'binlog', middle);
    const original = readFileSync(path);
    truncateSync(path, original.length - 7);
    try {
      const { code, report, text } = await verify();
      expect(code).toBe(1);
      const bad = report.archive!.ranges.filter((r) => !r.ok);
      expect(bad).toEqual([expect.objectContaining({ first: middle, status: 'damaged', breaks: [l1.id], lost: expect.objectContaining({ untilBackup: l2.id }) })]);
      expect(bad[0]!.reason).toMatch(new RegExp(`^binlog ${middle.replace('.', '\\.')} is damaged: it holds ${original.length - 7} bytes where ${original.length} were archived; it stops the replay of backup ${l1.id}; no restore reaches from .* to .*, where backup ${l2.id} starts$`));
      expect(report.backups.find((b) => b.backup === l1.id)!.replay).toEqual([expect.objectContaining({ ok: false, stopsAt: middle })]);
      expect(text).toContain(`FAIL binlog mysql-bin ${middle}: binlog ${middle} is damaged`);
    } finally {
      writeFileSync(path, original);
    }
  }, 300_000);

  it('a bit flipped in the chain\'s full backup marks it corrupt and names it as the broken link of the incremental', async () => {
    const file = full.files.find((f) => f.path.endsWith('ibdata1')) ?? full.files.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const path = join(repo, 'backups', full.id, file.path);
    const original = readFileSync(path);
    const bad = Buffer.from(original);
    bad[original.length >> 1] = bad[original.length >> 1]! ^ 0x08;
    writeFileSync(path, bad);
    try {
      const { code, report } = await verify();
      expect(code).toBe(1);
      expect(report.backups.find((b) => b.backup === full.id)).toMatchObject({ status: 'failed', statusAfter: 'corrupt', reason: expect.stringContaining(`${file.path}: checksum differs`) });
      const i = report.backups.find((b) => b.backup === incr.id)!;
      expect(i.status).toBe('failed');
      expect(i.reason).toContain(`chain links: backup ${full.id}, which`);
      expect(i.reason).toContain('corrupt');
      expect(report.backups.filter((b) => b.status === 'failed').map((b) => b.backup)).toEqual([full.id, incr.id]);
    } finally {
      writeFileSync(path, original);
    }
    const again = await verify();
    expect(again.code, again.report.problems.join('\n')).toBe(0);
  }, 300_000);
});
