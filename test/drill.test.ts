import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDuration } from '../src/config/duration.js';
import { TargetStore } from '../src/config/store.js';
import type { DrillReport } from '../src/drill/report.js';
import type { Manifest } from '../src/repo/manifest.js';
import { listProcesses } from '../src/runner/process.js';
import { formatBytes } from '../src/util/bytes.js';
import { ArchivedPostgres } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { expectAbortedAndTornDown, interruptDrill, scratchProcesses } from './helpers/drill-interrupt.js';
import { sandboxRunDir } from './helpers/sandbox.js';

const cfg = tempConfigDir();
let db: ArchivedPostgres;
let env: Record<string, string>;
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });

function drillServersAlive(): string[] {
  return listProcesses()
    .filter((p) => p.commandLine.includes('dbdrill-drill-') || (p.cwd ?? '').includes('dbdrill-drill-'))
    .map((p) => `${p.pid} ${p.commandLine}`);
}

beforeAll(async () => {
  db = await ArchivedPostgres.start('drill');
  env = { DBDRILL_CONFIG_DIR: cfg.dir, DRILL_PW: db.server.password };
  new TargetStore(cfg.dir).add({
    name: 'prod', engine: 'postgres', host: '127.0.0.1', port: db.server.port, user: db.server.user, dbname: 'shop',
    repo: db.repo, passwordEnv: 'DRILL_PW', rto: '1h', rpo: '1h',
    checks: [
      { name: 'orders are there', sql: 'SELECT count(*) FROM orders', expect: '>= 2000' },
      { name: 'latest order is recent enough', sql: 'SELECT max(created_at) FROM orders', expect: 'within 3650d of target' },
    ],
  });
  const b = await cli(['backup', 'prod', '--kind', 'physical']);
  expect(b.code, b.stderr).toBe(0);
  await db.sql('CREATE TABLE drill_marks (n int)');
  await db.sql('INSERT INTO drill_marks VALUES (1)');
  await db.switchAndArchive();
});

afterAll(async () => {
  await db?.stop();
  cfg.cleanup();
});

describe('restore drills', () => {
  it('passes: restores into a scratch instance, verifies, measures, tears down and keeps a report', async () => {
    const r = await cli(['drill', 'prod', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.status).toBe('passed');
    expect(report.kind).toBe('physical');
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ['pick backup', 'done'], ['verify backup files', 'done'], ['provision scratch instance', 'done'], ['restore base', 'done'],
      ['replay WAL', 'done'], ['verify', 'done'], ['measure', 'done'], ['tear down', 'done'],
    ]);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['accepts connections', true], ['orders are there', true], ['latest order is recent enough', true], ['pg_amcheck', true],
    ]);
    // A base backup carries no table counts: the report says what was verified instead.
    const note = 'table row counts not compared: a physical backup records none; verified instead: accepts connections, orders are there, latest order is recent enough, pg_amcheck';
    expect(report.notes).toEqual([note]);
    expect(report.steps.find((s) => s.name === 'verify')!.detail).toBe(`4/4 check(s) passed; ${note}`);
    expect(report.rto!.seconds).toBeGreaterThan(0);
    expect(report.rto!.transferSeconds + report.rto!.replaySeconds).toBeLessThanOrEqual(report.rto!.seconds);
    expect(report.rto).toMatchObject({ objectiveSeconds: 3600, ok: true });
    expect(report.rpo).toMatchObject({ reference: 'now minus the newest archived segment', objectiveSeconds: 3600, ok: true });
    // The steps that move data say how much: the base backup's tars, then the archived WAL replayed.
    const base = join(db.repo, 'backups', report.backup!, 'base');
    const tars = statSync(join(base, 'base.tar')).size + statSync(join(base, 'pg_wal.tar')).size;
    expect(report.steps.find((s) => s.name === 'restore base')).toMatchObject({ bytes: tars, detail: `unpacked ${formatBytes(tars)} of base backup` });
    const replayed = Number(/^(\d+) archived segment/.exec(report.steps.find((s) => s.name === 'replay WAL')!.detail!)![1]);
    expect(replayed).toBeGreaterThan(0);
    expect(report.steps.find((s) => s.name === 'replay WAL')!.bytes).toBe(replayed * 16 * 1024 * 1024);
    expect(report.steps.filter((s) => s.bytes !== undefined).map((s) => s.name)).toEqual(['restore base', 'replay WAL']);
    // The live stream a console renders: the same named steps, in order, on stderr.
    expect(r.stderr.indexOf('… replay WAL')).toBeGreaterThan(r.stderr.indexOf('… restore base'));
    // Stored, listed, printable.
    const stored = JSON.parse(readFileSync(join(db.repo, 'drills', `${report.id}.json`), 'utf8')) as DrillReport;
    expect(stored).toEqual(report);
    const md = await cli(['drill-report', 'prod', report.id]);
    expect(md.stdout).toContain(`# Restore drill ${report.id} — prod: PASSED`);
    expect(md.stdout).toContain(`- note: ${note}`);
    expect(md.stdout).toMatch(new RegExp(`^\\| restore base \\| done \\| [\\d.]+ s \\| ${formatBytes(tars)} \\| `, 'm'));
    expect(md.stdout).toMatch(/\| RTO \| .* \| 1 min 0 s|\| RTO \| .* \| 60 min 0 s \| PASS \|/);
    const hist = await cli(['drills', 'prod']);
    expect(hist.stdout).toMatch(new RegExp(`${report.id}\\s+passed\\s+\\S+-F\\s+latest`));
    // Nothing left behind.
    expect(drillServersAlive()).toEqual([]);
    expect(readdirSync(sandboxRunDir()).filter((d) => d.startsWith('dbdrill-drill-'))).toEqual([]);
  });

  it('reports fail when the measured RTO misses an impossible objective', async () => {
    const r = await cli(['drill', 'prod', '--rto', '0s', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.status).toBe('failed');
    expect(report.rto).toMatchObject({ objectiveSeconds: 0, ok: false });
    expect(report.error).toMatch(/^RTO \d+\.\d s exceeds the objective 0s$/);
    expect(report.steps.find((s) => s.name === 'tear down')!.status).toBe('done');
  });

  it('fails at the file check of a corrupted backup, naming the file, and starts nothing', async () => {
    const id = readdirSync(join(db.repo, 'backups')).find((d) => d.endsWith('-F'))!;
    const file = join(db.repo, 'backups', id, 'base', 'pg_wal.tar');
    const manifestFile = join(db.repo, 'backups', id, 'manifest.json');
    const original = readFileSync(file);
    const recorded = readFileSync(manifestFile);
    const bad = Buffer.from(original);
    bad[bad.length >> 1] = bad[bad.length >> 1]! ^ 0x55;
    writeFileSync(file, bad);
    try {
      const r = await cli(['drill', 'prod', '--json']);
      expect(r.code).toBe(1);
      const report = JSON.parse(r.stdout) as DrillReport;
      expect(report.status).toBe('failed');
      expect(report.failedStep).toBe('verify backup files');
      expect(report.error).toBe(`backup ${id} is damaged: base/pg_wal.tar does not match its checksum`);
      expect(report.steps.find((s) => s.name === 'provision scratch instance')!.status).toBe('skipped');
      const md = await cli(['drill-report', 'prod']);
      expect(md.stdout).toContain('- failed at **verify backup files**: backup');
      // What the drill found marks the backup corrupt, so no later plan starts from it.
      expect((JSON.parse(readFileSync(manifestFile, 'utf8')) as { status: string }).status).toBe('corrupt');
    } finally {
      // The later drills need the backup as it was: its bytes and its manifest (status complete).
      writeFileSync(file, original);
      writeFileSync(manifestFile, recorded);
    }
  });

  it('Ctrl-C during WAL replay stops the recovering server, tears down and writes an aborted report', async () => {
    const r = await interruptDrill({ name: 'prod', repo: db.repo, env, whileRunning: (s) => s === 'replay WAL' });
    const report = expectAbortedAndTornDown(r, db.repo);
    expect(report.kind).toBe('physical');
    expect(drillServersAlive()).toEqual([]);
  });

  it('fails at verify when a check of the target fails, naming it with what it expected and got, and tears down', async () => {
    // The same target and repository, configured with one impossible check.
    const cfg2 = tempConfigDir();
    try {
      const target = new TargetStore(cfg.dir).get('prod');
      new TargetStore(cfg2.dir).add({ ...target, checks: [...target.checks!, { name: 'impossible order count', sql: 'SELECT count(*) FROM orders', expect: '= 999999' }] });
      const orders = (await db.sql<{ n: string }>('SELECT count(*) AS n FROM orders'))[0]!.n;
      const r = await runCli(['drill', 'prod', '--json'], { env: { ...env, DBDRILL_CONFIG_DIR: cfg2.dir }, timeoutMs: 180_000 });
      expect(r.code, r.stderr).toBe(1);
      const report = JSON.parse(r.stdout) as DrillReport;
      expect(report.status).toBe('failed');
      expect(report.failedStep).toBe('verify');
      expect(report.error).toBe(`verification failed: impossible order count: expected = 999999, got ${orders}`);
      expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
        ['accepts connections', true], ['orders are there', true], ['latest order is recent enough', true], ['impossible order count', false], ['pg_amcheck', true],
      ]);
      expect(report.checks.find((c) => c.name === 'impossible order count')).toEqual({
        name: 'impossible order count', ok: false, expected: '= 999999', actual: orders, detail: `expected = 999999, got ${orders}`,
      });
      // No verified instance, so no RTO; the scratch instance still goes.
      expect(report.steps.find((s) => s.name === 'measure')!.status).toBe('skipped');
      expect(report.rto).toBeUndefined();
      expect(report.steps.find((s) => s.name === 'tear down')!.status).toBe('done');
      expect(scratchProcesses(report.scratch!)).toEqual([]);
      expect(existsSync(report.scratch!.dir)).toBe(false);
      const md = await runCli(['drill-report', 'prod', report.id], { env: { ...env, DBDRILL_CONFIG_DIR: cfg2.dir } });
      expect(md.stdout).toContain(`- failed at **verify**: verification failed: impossible order count: expected = 999999, got ${orders}`);
      expect(md.stdout).toContain(`- FAIL impossible order count: expected = 999999, got ${orders}`);
      expect(md.stdout).toContain('| verify | failed |');
      const asJson = await runCli(['drill-report', 'prod', report.id, '--json'], { env: { ...env, DBDRILL_CONFIG_DIR: cfg2.dir } });
      expect(JSON.parse(asJson.stdout)).toEqual(report);
    } finally {
      cfg2.cleanup();
    }
  });

  describe('logical backups', () => {
    const cfg2 = tempConfigDir();
    const repo2 = join(cfg2.dir, 'repo');
    let env2: Record<string, string>;
    beforeAll(async () => {
      env2 = { DBDRILL_CONFIG_DIR: cfg2.dir, DRILL_PW: db.server.password };
      const add = await runCli(['target', 'add', 'logi', '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', repo2, '--password-env', 'DRILL_PW'], { env: env2 });
      expect(add.code, add.stderr).toBe(0);
      const b = await runCli(['backup', 'logi', '--kind', 'logical'], { env: env2 });
      expect(b.code, b.stderr).toBe(0);
    });
    afterAll(() => cfg2.cleanup());

    it('drills a logical backup: the restored tables match the counts recorded in the dump', async () => {
      const r = await runCli(['drill', 'logi', '--json'], { env: env2, timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as DrillReport;
      expect(report.kind).toBe('logical');
      expect(report.steps.find((s) => s.name === 'replay WAL')!.status).toBe('skipped');
      expect(report.checks.find((c) => c.name === 'tables match the backup')).toMatchObject({ ok: true });
      expect(report.checks.find((c) => c.name === 'tables match the backup')!.detail).toMatch(/^\d+ table\(s\): row counts as recorded$/);
      expect(report.notes).toBeUndefined();
      const m = JSON.parse(readFileSync(join(repo2, 'backups', report.backup!, 'manifest.json'), 'utf8')) as Manifest;
      expect(m.sizeBytes).toBeGreaterThan(0);
      expect(report.steps.find((s) => s.name === 'restore base')!.bytes).toBe(m.sizeBytes);
      expect(existsSync(join(repo2, 'drills', `${report.id}.json`))).toBe(true);
    });

    it('history: dbdrill drills lists every drill newest first with its measured RTO and RPO', async () => {
      const a = await runCli(['drill', 'logi', '--rpo', '1d', '--json'], { env: env2, timeoutMs: 120_000 });
      expect(a.code, a.stderr).toBe(0);
      const b = await runCli(['drill', 'logi', '--rto', '0s', '--json'], { env: env2, timeoutMs: 120_000 });
      expect(b.code, b.stderr).toBe(1);
      const first = JSON.parse(a.stdout) as DrillReport;
      const second = JSON.parse(b.stdout) as DrillReport;
      expect(first.rto!.seconds).toBeGreaterThan(0);
      expect(second.rto).toMatchObject({ objectiveSeconds: 0, ok: false });

      const asJson = await runCli(['drills', 'logi', '--json'], { env: env2 });
      expect(asJson.code, asJson.stderr).toBe(0);
      const hist = JSON.parse(asJson.stdout) as { target: string; drills: DrillReport[] };
      expect(hist.target).toBe('logi');
      expect(hist.drills.slice(0, 2)).toEqual([second, first]);
      const ids = hist.drills.map((d) => d.id);
      expect(ids).toEqual([...ids].sort().reverse());

      const text = await runCli(['drills', 'logi'], { env: env2 });
      expect(text.code, text.stderr).toBe(0);
      const lines = text.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^ID +STATUS +BACKUP +TARGET +RTO +RPO +FAILED STEP$/);
      expect(lines).toHaveLength(hist.drills.length + 1);
      const cells = (line: string) => line.trim().split(/ {2,}/);
      const dur = (s?: number) => (s === undefined ? '—' : formatDuration(s));
      expect(cells(lines[1]!)).toEqual([second.id, 'failed', second.backup, 'latest', `${dur(second.rto!.seconds)} FAIL`, dur(second.rpo!.seconds)]);
      expect(cells(lines[2]!)).toEqual([first.id, 'passed', first.backup, 'latest', dur(first.rto!.seconds), dur(first.rpo!.seconds)]);
      // Every stored drill has its row, with a dash where nothing was measured.
      hist.drills.forEach((d, i) => {
        expect(cells(lines[i + 1]!).slice(0, 6), d.id).toEqual([
          d.id, d.status, d.backup ?? '—', d.requested, `${dur(d.rto?.seconds)}${d.rto?.ok === false ? ' FAIL' : ''}`, `${dur(d.rpo?.seconds)}${d.rpo?.ok === false ? ' FAIL' : ''}`,
        ]);
      });
    });

    it('fails at verify, naming the table, when the restored rows differ from the count the manifest records', async () => {
      const id = readdirSync(join(repo2, 'backups')).find((d) => d.endsWith('-L'))!;
      const file = join(repo2, 'backups', id, 'manifest.json');
      const original = readFileSync(file, 'utf8');
      const m = JSON.parse(original) as Manifest;
      const t = m.tables!.find((x) => x.table.endsWith('.orders'))!;
      const rows = t.rows;
      t.rows = rows + 1;
      writeFileSync(file, JSON.stringify(m, null, 2));
      try {
        const r = await runCli(['drill', 'logi', '--json'], { env: env2, timeoutMs: 120_000 });
        expect(r.code, r.stderr).toBe(1);
        const report = JSON.parse(r.stdout) as DrillReport;
        expect(report.status).toBe('failed');
        expect(report.failedStep).toBe('verify');
        expect(report.error).toBe(`verification failed: tables match the backup: ${t.table} has ${rows} rows, expected ${rows + 1}`);
        expect(report.checks.find((c) => c.name === 'tables match the backup')).toMatchObject({ ok: false, detail: `${t.table} has ${rows} rows, expected ${rows + 1}` });
        // The other checks still ran and are reported.
        expect(report.checks.find((c) => c.name === 'pg_amcheck')).toMatchObject({ ok: true });
        expect(report.steps.find((s) => s.name === 'tear down')!.status).toBe('done');
        expect(scratchProcesses(report.scratch!)).toEqual([]);
        expect(existsSync(report.scratch!.dir)).toBe(false);
      } finally {
        writeFileSync(file, original);
      }
    });
  });
});
