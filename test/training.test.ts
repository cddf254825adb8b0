import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetStore } from '../src/config/store.js';
import { sampleHealth } from '../src/ops/health.js';
import { startPitrRestore, type PitrReport } from '../src/ops/pitr.js';
import { readTrainingSession, recordTrainingRestore, startDisaster, startEndTraining, startRepair, startScore } from '../src/ops/training.js';
import { parseRestoreTarget } from '../src/pitr/time.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { freePort } from '../src/sandbox/ports.js';
import { suggestedTime } from '../src/training/session.js';
import { ArchivedPostgres } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';

/**
 * Training against a real PostgreSQL whose WAL is archived by dbdrill wal-push: the disaster is
 * real (DROP TABLE, archive_command exits 200), the trainee's restore is a real point-in-time
 * restore, and the score checks the restored server's table against the state before.
 */
describe('training on a real sandbox', () => {
  let pg: ArchivedPostgres;
  const config = tempConfigDir();
  const restored: PitrReport[] = [];
  const intos: string[] = [];

  beforeAll(async () => {
    pg = await ArchivedPostgres.start('training');
    const pwFile = join(config.dir, 'sandbox.pw');
    writeFileSync(pwFile, `${pg.server.password}\n`, { mode: 0o600 });
    new TargetStore(config.dir).add({
      name: 'sandbox', engine: 'postgres', host: '127.0.0.1', port: pg.server.port, user: pg.server.user, dbname: 'shop', repo: pg.repo,
      passwordFile: pwFile, sandbox: true, health: { archiveWarn: '5s', archiveCrit: '10s' },
    });
    new TargetStore(config.dir).add({ name: 'prod', engine: 'postgres', host: '127.0.0.1', port: pg.server.port, user: pg.server.user, dbname: 'shop', repo: pg.repo, passwordFile: pwFile });
  }, 120_000);

  afterAll(async () => {
    for (const r of restored) if (r.pid && isPidAlive(r.pid)) {
      signalProcess(r.pid, 'SIGINT');
      await waitForPidExit(r.pid, 15_000);
    }
    for (const dir of intos) rmSync(dir, { recursive: true, force: true });
    await pg?.stop();
    config.cleanup();
  }, 60_000);

  const restore = async (to: string): Promise<PitrReport> => {
    const into = join(sandboxRunDir(), `training-restore-${restored.length}-${process.pid}`);
    intos.push(into);
    const r = await startPitrRestore(config.dir, 'sandbox', { target: parseRestoreTarget({ to }), into, port: await freePort(), dryRun: false }).result;
    restored.push(r);
    return r;
  };

  it('dbdrill train: one sentence and exit 2 for a non-sandbox target or an unknown disaster; status without a session', async () => {
    const notSandbox = await runCli(['train', 'prod', 'start', '--disaster', 'drop-table', '--config', config.dir]);
    expect(notSandbox.code).toBe(2);
    expect(notSandbox.stderr.trim()).toBe('dbdrill: Target "prod" is not a training sandbox; disasters are only caused on the sandbox (start it with dbdrill sandbox start).');
    const flood = await runCli(['train', 'sandbox', 'start', '--disaster', 'flood', '--config', config.dir]);
    expect(flood.code).toBe(2);
    expect(flood.stderr).toContain('--disaster flood is not a training disaster; use one of drop-table, delete-rows, break-archiving.');
    const status = await runCli(['train', 'sandbox', 'status', '--config', config.dir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('No training session on sandbox');
    const score = await runCli(['train', 'sandbox', 'score', '--config', config.dir]);
    expect(score.code).toBe(2);
    expect(score.stderr.trim()).toBe('dbdrill: No training session on "sandbox"; start one first (screen 6, or dbdrill train sandbox start).');
  });

  it('refuses to damage a target that is not the training sandbox', () => {
    expect(() => startDisaster(config.dir, 'prod', 'drop-table')).toThrow('Target "prod" is not a training sandbox; disasters are only caused on the sandbox (start it with dbdrill sandbox start).');
  });

  it('drops the table for real, after a base backup, with the disaster archived so that "latest" would bring it back', async () => {
    const session = await startDisaster(config.dir, 'sandbox', 'drop-table').result;
    expect(session.baseBackup).toMatch(/^\d{8}T\d{6}Z-F$/);
    expect(session.before).toMatchObject({ table: 'public.order_items', rows: 4000 });
    expect(Date.parse(session.disasterAt) - Date.parse(session.lastGoodAt)).toBeGreaterThan(1000);
    const tables = await pg.sql<{ n: string }>("SELECT count(*)::text AS n FROM pg_tables WHERE tablename = 'order_items'");
    expect(tables[0]!.n).toBe('0');
    expect(readTrainingSession(config.dir, 'sandbox')?.kind).toBe('drop-table');
    // A second disaster while one is under way is refused.
    expect(() => startDisaster(config.dir, 'sandbox', 'delete-rows')).toThrow(/A training session on "sandbox" is under way/);
  }, 120_000);

  it('a restore past the disaster scores 0: the table is missing there', async () => {
    const r = await restore('latest');
    recordTrainingRestore(config.dir, 'sandbox', r, 'latest');
    const score = await startScore(config.dir, 'sandbox').result;
    expect(score).toMatchObject({ dataOk: false, points: 0 });
    expect(score.dataDetail).toMatch(/^order_items is missing in the restored server: the restore went past the disaster at/);
  }, 120_000);

  it('a restore to just before the disaster brings all 4000 rows back and scores full marks', async () => {
    // The score of the wrong restore is kept; a new attempt starts from the session without it.
    const s = readTrainingSession(config.dir, 'sandbox')!;
    writeFileSync(join(config.dir, 'training', 'sandbox.json'), JSON.stringify({ ...s, score: undefined, restore: undefined }), { mode: 0o600 });
    const to = suggestedTime(s);
    const r = await restore(to);
    expect(r.reached?.lastCommitAt).toBeDefined();
    recordTrainingRestore(config.dir, 'sandbox', r, to);
    const score = await startScore(config.dir, 'sandbox').result;
    expect(score).toMatchObject({ dataOk: true, points: 100, rtoOk: true, rpoOk: true });
    expect(score.dataDetail).toBe('order_items is back with all 4000 rows, contents as before the disaster');
    expect(score.rpoSeconds).toBeLessThan(1);
    const rows = await pg.sql<{ n: string }>('SELECT count(*)::text AS n FROM order_items', r.port);
    expect(rows[0]!.n).toBe('4000');
  }, 120_000);

  it('ending the session stops the restored server and puts the sandbox table back', async () => {
    const pid = readTrainingSession(config.dir, 'sandbox')!.restore!.pid!;
    const status = await runCli(['train', 'sandbox', 'status', '--config', config.dir]);
    expect(status.stdout).toMatch(/^\[x\] DROP TABLE order_items/m);
    expect(status.stdout).toMatch(/^\[x\] Come back here/m);
    const end = await runCli(['train', 'sandbox', 'end', '--config', config.dir]);
    expect(end.code, end.stderr).toBe(0);
    expect(end.stdout).toContain('The training on sandbox is over');
    expect(isPidAlive(pid)).toBe(false);
    expect(readTrainingSession(config.dir, 'sandbox')).toBeUndefined();
    const rows = await pg.sql<{ n: string }>('SELECT count(*)::text AS n FROM order_items');
    expect(rows[0]!.n).toBe('4000');
  }, 60_000);

  it('breaks archiving with exit 200: health goes CRIT while failed_count stays; a repair drains the backlog and scores', async () => {
    const session = await startDisaster(config.dir, 'sandbox', 'break-archiving').result;
    expect((await pg.sql<{ c: string }>("SELECT current_setting('archive_command') AS c"))[0]!.c).toBe('exit 200');
    let status = 'OK';
    let reason = '';
    for (let i = 0; i < 40 && status !== 'CRIT'; i++) {
      await new Promise((res) => setTimeout(res, 1000));
      const h = await sampleHealth(config.dir, 'sandbox', { window: null });
      status = h.status;
      reason = h.checks.find((c) => c.name === 'archiving')?.reason ?? '';
      expect(h.archive?.failedCount).toBe(0);
    }
    expect(status).toBe('CRIT');
    expect(reason).toMatch(/wait to be archived/);
    const repaired = await startRepair(config.dir, 'sandbox').result;
    expect(repaired.repairedAt).toBeDefined();
    expect((await pg.sql<{ c: string }>("SELECT current_setting('archive_command') AS c"))[0]!.c).toBe(session.archiveCommand);
    const score = await startScore(config.dir, 'sandbox').result;
    expect(score.dataOk).toBe(true);
    expect(score.dataDetail).toMatch(/^archiving works again: the backlog drained/);
    const ready = await pg.sql<{ n: string }>("SELECT count(*)::text AS n FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'");
    expect(ready[0]!.n).toBe('0');
    await startEndTraining(config.dir, 'sandbox').result;
  }, 180_000);
});
