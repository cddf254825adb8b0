import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSandboxState } from '../src/ops/sandbox.js';
import type { PitrReport } from '../src/ops/pitr.js';
import { readTrainingSession, recordTrainingRestore } from '../src/ops/training.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { stopSandbox } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { suggestedTime } from '../src/training/session.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir, withPg } from './helpers/sandbox.js';

/**
 * The training sandbox on pgBackRest, through the built CLI: `sandbox start --method pgbackrest`
 * sets the sandbox target up for pgBackRest (conf, stanza, archive_command = archive-push), the
 * disaster's base backup is a pgBackRest full, and the trainee's restore to just before the
 * disaster is a pgBackRest restore that brings every row back and scores full marks.
 */
const cfg = tempConfigDir();
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 240_000 });
const cleanup: string[] = [];
let restoredPid: number | undefined;

afterAll(async () => {
  if (restoredPid !== undefined && isPidAlive(restoredPid)) {
    signalProcess(restoredPid, 'SIGINT');
    await waitForPidExit(restoredPid, 20_000);
  }
  const left = readSandboxState(cfg.dir, 'postgres');
  if (left) await stopSandbox(left).catch(() => {});
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  cfg.cleanup();
}, 120_000);

describe('training sandbox on pgBackRest (real PostgreSQL 15, pgBackRest 2.45)', () => {
  it('refuses an unknown method and --method outside start in one sentence', async () => {
    const bad = await cli(['sandbox', 'start', '--method', 'barman']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('dbdrill: --method "barman" is not a postgres backup method; use --method native or --method pgbackrest.');
    const stray = await cli(['sandbox', 'status', '--method', 'pgbackrest']);
    expect(stray.code).toBe(2);
    expect(stray.stderr.trim()).toBe('dbdrill: --method goes with sandbox start only; it chooses how the new sandbox is backed up.');
  });

  it('sandbox start --method pgbackrest archives with pgBackRest; a drop-table training is recovered with a pgBackRest restore', async () => {
    const start = await cli(['sandbox', 'start', '--method', 'pgbackrest', '--json']);
    expect(start.code, start.stderr).toBe(0);
    const started = JSON.parse(start.stdout) as { target: { name: string; repo: string; method?: string } };
    cleanup.push(started.target.repo);
    expect(started.target).toMatchObject({ name: 'sandbox', method: 'pgbackrest' });
    const state = readSandboxState(cfg.dir, 'postgres')!;
    const command = (await withPg(state, (c) => c.query<{ c: string }>(`SELECT current_setting('archive_command') AS c`))).rows[0]!.c;
    expect(command).toMatch(/pgbackrest --config=\S+ --config-include-path=\S+ --stanza=sandbox archive-push %p$/);

    // Starting it again with another method is refused while it runs.
    const other = await cli(['sandbox', 'start']);
    expect(other.code).toBe(2);
    expect(other.stderr.trim().split('\n').at(-1)).toBe('dbdrill: The postgres sandbox already runs with method pgbackrest; stop it (dbdrill sandbox stop) before starting one with method native.');

    const t = await cli(['train', 'sandbox', 'start', '--disaster', 'drop-table', '--json']);
    expect(t.code, t.stderr).toBe(0);
    const session = readTrainingSession(cfg.dir, 'sandbox')!;
    // The base backup is a pgBackRest set, listed by the catalog.
    expect(session.baseBackup).toMatch(/^\d{8}-\d{6}F$/);
    const cat = JSON.parse((await cli(['catalog', 'sandbox', '--json'])).stdout) as { backups: { id: string; type: string }[] };
    expect(cat.backups.map((b) => [b.id, b.type])).toEqual([[session.baseBackup, 'full']]);

    const into = join(sandboxRunDir(), `pgbr-train-restore-${process.pid}`);
    cleanup.push(into);
    const to = suggestedTime(session);
    const r = await cli(['restore', 'sandbox', '--to', to, '--into', into, '--port', String(await freePort()), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as PitrReport;
    restoredPid = report.pid;
    expect(report.plan.backup).toBe(session.baseBackup);
    // As the console records a restore it ran for the session.
    recordTrainingRestore(cfg.dir, 'sandbox', report, to);
    const score = await cli(['train', 'sandbox', 'score', '--json']);
    expect(score.code, score.stderr).toBe(0);
    expect(JSON.parse(score.stdout)).toMatchObject({ dataOk: true, points: 100 });

    const end = await cli(['train', 'sandbox', 'end']);
    expect(end.code, end.stderr).toBe(0);
    expect(isPidAlive(report.pid!)).toBe(false);
    // The pgBackRest restore claimed its directory as native restores do, so stop --remove takes it.
    const stop = await cli(['sandbox', 'stop', '--remove', '--json']);
    expect(stop.code, stop.stderr).toBe(0);
    expect((JSON.parse(stop.stdout) as { removed: { path: string }[] }).removed.map((l) => l.path)).toContain(into);
    expect(existsSync(into)).toBe(false);
  }, 480_000);
});
