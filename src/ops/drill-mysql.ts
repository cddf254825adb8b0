import type mysql from 'mysql2/promise';
import type { Target } from '../config/target.js';
import { evaluateExpectation, type DrillCheck } from '../config/drill-checks.js';
import { describePoint, promisedPoint } from '../binlog/reached.js';
import { baseMoment, type MysqlRestorePlan, type SecondChoice } from '../binlog/window.js';
import type { DrillCheckResult, DrillReport } from '../drill/report.js';
import { compareStats, describeMismatches, whatWasCompared } from '../engines/compare-stats.js';
import type { EngineContext } from '../engines/context.js';
import type { ReplayOutcome } from '../engines/mysql/binlog-replay.js';
import { connectMysql } from '../engines/mysql/client.js';
import { checkTables } from '../engines/mysql/verify.js';
import { DbdrillError, invalid } from '../errors.js';
import type { RestoreTarget } from '../pitr/time.js';
import { markCorrupt } from '../repo/backup-files.js';
import { describeMismatch, verifyFiles } from '../repo/checksum.js';
import type { Manifest, TableStat } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { startMariadbSandbox, type SandboxInstance } from '../sandbox/index.js';
import { closeDrill, drillObjectives, failDrill, judgeDrill, openDrillReport, verifyStep, type DrillOptions } from './drill.js';
import { checkDumpFlavor, replayMissed, replayPlan, restoreAndReplay, startOnPhysicalBackup } from './pitr-mysql.js';
import { planMysqlPitr, readMysqlArchive, shortfallSentence } from './plan-mysql.js';
import { sandboxTarget } from './sandbox-target.js';

const STEPS = ['pick backup', 'verify backup files', 'provision scratch instance', 'restore base', 'replay binlogs', 'verify', 'measure', 'tear down'];

/**
 * A restore drill of a MySQL/MariaDB target, in the same report format as PostgreSQL's: pick a
 * backup (the one a point-in-time restore to the target would use), check its files, start a
 * scratch MariaDB (binary log off) on a free port — on a copy of a physical backup's files, or
 * empty with the logical backup's dump loaded into it — replay the archived
 * binlogs up to the target, verify, measure RTO (transfer = loading the dump, replay = binlogs)
 * and RPO, and tear down — also after a failure or Ctrl-C.
 */
export async function runMysqlDrill(ctx: EngineContext, target: Target, opts: DrillOptions): Promise<DrillReport> {
  const requested: RestoreTarget = opts.to ?? { kind: 'latest' };
  const objectives = drillObjectives(target, opts);
  const t0 = performance.now();
  const rec = openDrillReport(ctx, target, requested, STEPS);
  const { report, step, skip } = rec;
  let scratch: { target: Target; dataDir: string; port: number; stop(): Promise<void> } | undefined;
  let transferSeconds = 0;
  let replaySeconds = 0;
  try {
    const plan = await step('pick backup', () => pickMysqlForDrill(ctx, target, requested, opts.backup, opts.second), (p) =>
      `${p.backup.kind} backup ${p.backup.id}; ${p.files.length ? `binlogs ${p.files[0]!.file}…${p.files.at(-1)!.file} from position ${p.startPosition}${p.stopAt ? `, stopping before ${p.stopAt.toISOString()}` : ''}` : 'no binlog to replay after its position'}`);
    const m = plan.backup;
    report.backup = m.id;
    report.kind = m.kind;
    const backupDir = new Repository(target.repo).backupDir(m.id);
    await step('verify backup files', async () => {
      const bad = await verifyFiles(backupDir, m.files);
      if (bad.length > 0) {
        markCorrupt(new Repository(target.repo), m.id, `${bad.map(describeMismatch).join('; ')} (found by a drill)`);
        throw new DbdrillError('failed', `backup ${m.id} is damaged: ${bad.map((b) => `${b.path} ${b.problem === 'checksum' ? 'does not match its checksum' : `is ${b.problem}`}`).join('; ')}`);
      }
      if (m.kind === 'logical') await checkDumpFlavor(m, backupDir);
      return m.files.length;
    }, (n) => `${n} file(s) match their checksums`);

    const timed = (name: string, add: (s: number) => void, detail: (v: unknown) => string | undefined, bytes: number) =>
      async <T>(fn: () => Promise<T>): Promise<T> => {
        const st = performance.now();
        try {
          return await step(name, fn, detail as (v: T) => string | undefined, () => bytes);
        } finally {
          add((performance.now() - st) / 1000);
        }
      };
    // What each step read from the repository: the backup, then the archived binlogs from its position on.
    const binlogBytes = Math.max(0, plan.files.reduce((n, f) => n + f.size, 0) - plan.startPosition);
    let sandbox: SandboxInstance | undefined;
    // A physical backup's files are copied in before its server starts: the copy (the transfer
    // of the RTO) runs inside provisioning, as its own step.
    await step('provision scratch instance', async () => {
      sandbox = m.kind === 'physical'
        ? await startOnPhysicalBackup(ctx, target, m, { keep: opts.keep === true, copy: timed('restore base', (s) => (transferSeconds = s), () => `copied ${m.sizeBytes} bytes of data files`, m.sizeBytes) })
        : await startMariadbSandbox({ signal: ctx.signal, binlog: false, keep: opts.keep === true });
      return sandbox;
    }, (s) => `MariaDB ${s.version} on 127.0.0.1:${s.port}, binary log off`);
    const sb = sandbox!;
    scratch = { target: sandboxTarget(sb, `${target.name}-drill`, ''), dataDir: sb.dataDir, port: sb.port, stop: () => sb.stop() };
    report.scratch = { dir: sb.dir, dataDir: sb.dataDir, port: sb.port };
    const into = scratch.target;

    const replayHook = timed('replay binlogs', (s) => (replaySeconds = s), (r) => replayDetail(r as ReplayOutcome), binlogBytes);
    // What the backup alone holds (its own moment, which the manifest's counts describe). A
    // physical backup records no counts, so there is nothing to compare before replay.
    let loaded: TableStat[] = [];
    let replay: ReplayOutcome | undefined;
    if (m.kind === 'physical') {
      replay = await replayPlan(ctx, target, into, plan, replayHook);
    } else {
      ({ loaded, replay } = await restoreAndReplay(ctx, target, into, plan, {
        load: timed('restore base', (s) => (transferSeconds = s), (t) => `${(t as TableStat[]).length} table(s) loaded into ${plan.schema}`, m.sizeBytes),
        replay: replayHook,
      }));
    }
    if (!replay) skip('replay binlogs', plan.files.length === 0 && plan.startFile === '' ? 'the backup records no binlog position; it restores to its own moment' : 'no archived binlog follows the backup\'s position; the drill restores the backup\'s own moment');

    const targetTime = requested.kind === 'time' ? requested.at : new Date();
    const drillTarget: Target = { ...into, dbname: plan.schema };
    const point = reachedCheck(target, plan, replay);
    await verifyStep(rec, ctx, m, async () => {
      const checks = await verifyMysqlInstance(drillTarget, m, loaded, replay, target.checks ?? [], targetTime);
      // Right after "accepts connections": the point reached decides what every later check sees.
      if (point) checks.splice(Math.min(1, checks.length), 0, point);
      return checks;
    });
    const rtoSeconds = (performance.now() - t0) / 1000;

    await step('measure', async () => {
      report.rto = { seconds: rtoSeconds, transferSeconds, replaySeconds };
      if (objectives.rtoLimit !== undefined) Object.assign(report.rto, { objectiveSeconds: objectives.rtoLimit, ok: rtoSeconds <= objectives.rtoLimit });
      const dumpAt = new Date(baseMoment(m));
      const own = m.kind === 'physical' ? "the physical backup's consistent point" : 'the start of the logical backup';
      const lastChange = replay?.lastChangeAt ?? dumpAt;
      if (requested.kind === 'time') {
        report.rpo = {
          seconds: Math.max(0, (requested.at.getTime() - lastChange.getTime()) / 1000),
          reference: replay?.lastChangeAt ? `target ${requested.at.toISOString()} minus the last replayed change` : `target ${requested.at.toISOString()} minus ${own}`,
          lastCommitAt: lastChange.toISOString(),
        };
      } else {
        const newest = plan.files.at(-1)?.lastEventAt;
        report.rpo = newest
          ? { seconds: (Date.now() - Date.parse(newest)) / 1000, reference: 'now minus the newest archived binlog event', lastCommitAt: lastChange.toISOString() }
          : { seconds: (Date.now() - dumpAt.getTime()) / 1000, reference: `now minus ${own}`, lastCommitAt: lastChange.toISOString() };
      }
      if (objectives.rpoLimit !== undefined) Object.assign(report.rpo, { objectiveSeconds: objectives.rpoLimit, ok: report.rpo.seconds <= objectives.rpoLimit });
    }, () => `RTO ${report.rto!.seconds.toFixed(1)} s, RPO ${report.rpo!.seconds.toFixed(1)} s`);
    judgeDrill(report, objectives);
  } catch (e) {
    failDrill(rec, ctx, e);
  } finally {
    await closeDrill(rec, scratch, opts.keep === true);
  }
  return report;
}

/**
 * The replay against the plan's promise: the whole archive for latest, the last transaction at or
 * before the target otherwise. None when the plan replays nothing.
 */
function reachedCheck(target: Target, plan: MysqlRestorePlan, replay: ReplayOutcome | undefined): DrillCheckResult | undefined {
  const short = shortfallSentence(plan, target);
  if (short) return { name: 'replay reached the target', ok: false, detail: short };
  if (!plan.expected) return undefined;
  const missed = replayMissed(plan, replay);
  if (missed) return { name: 'replay reached the target', ok: false, detail: missed };
  return { name: 'replay reached the target', ok: true, detail: `${describePoint(promisedPoint(plan.expected))}, as planned` };
}

function replayDetail(r: ReplayOutcome): string {
  return `${r.transactions} transaction(s) replayed${r.lastChangeAt ? `, last change ${r.lastChangeAt.toISOString()}` : ''}`;
}

/**
 * The plan a point-in-time restore to the requested moment would follow. A target whose backups
 * record no binlog position (a server without binary logs) can still drill its newest logical
 * backup to that backup's own moment.
 */
async function pickMysqlForDrill(ctx: EngineContext, target: Target, requested: RestoreTarget, backup?: string, second?: SecondChoice): Promise<MysqlRestorePlan> {
  const view = await readMysqlArchive(target, ctx.signal);
  const complete = view.manifests.filter((m) => m.status === 'complete' && (backup === undefined || m.id === backup));
  if (backup !== undefined && complete.length === 0) {
    throw invalid(`Backup ${backup} is not a complete backup of "${target.name}"; list them with dbdrill catalog ${target.name}.`);
  }
  if (complete.length === 0) throw invalid(`Target "${target.name}" has no complete backup to drill; take one with dbdrill backup ${target.name} --kind logical.`);
  const withPosition = complete.some((m) => m.mysql?.binlogFile !== undefined && m.mysql.binlogPosition !== undefined);
  if (withPosition) return planMysqlPitr(view, target, { target: requested, ...(backup ? { backup } : {}), ...(second ? { second } : {}) }, ctx.signal);
  if (requested.kind !== 'latest') {
    throw invalid(`The backups of "${target.name}" record no binlog position (the server writes no binary log), so they restore to their own moment only; drill with --to latest.`);
  }
  const m: Manifest = complete.sort((a, b) => b.id.localeCompare(a.id))[0]!;
  return { backup: m, schema: m.database ?? target.dbname, target: requested, startFile: '', startPosition: 0, files: [], estimatedBytes: m.sizeBytes, notes: [] };
}

/**
 * The scratch instance must accept connections, hold what the backup recorded (row counts and
 * digests of the tables as the dump loaded them, before any binlog replay changed them), read
 * back every table (CHECK TABLE), and satisfy the target's own SQL checks.
 */
async function verifyMysqlInstance(
  t: Target,
  m: Manifest,
  loaded: TableStat[],
  replay: ReplayOutcome | undefined,
  checks: DrillCheck[],
  targetTime: Date,
): Promise<DrillCheckResult[]> {
  const out: DrillCheckResult[] = [];
  let conn: mysql.Connection;
  try {
    conn = await connectMysql(t);
    out.push({ name: 'accepts connections', ok: true, detail: `connected to 127.0.0.1:${t.port} as ${t.user}` });
  } catch (e) {
    out.push({ name: 'accepts connections', ok: false, detail: (e as Error).message });
    return out;
  }
  try {
    const replayed = replay?.transactions ?? 0;
    if (m.tables?.length) {
      const mismatches = compareStats(m.tables, loaded);
      const when = replayed > 0 ? `, as loaded from the dump before ${replayed} binlog transaction(s) were replayed` : '';
      out.push({
        name: 'tables match the backup',
        ok: mismatches.length === 0,
        detail: mismatches.length === 0 ? `${m.tables.length} table(s): ${whatWasCompared(m.tables)} as recorded${when}` : `${describeMismatches(mismatches)}${when}`,
      });
    }
    // Times in check results are read in UTC, as the backup's digests are.
    await conn.query("SET SESSION time_zone = '+00:00'");
    for (const c of checks) {
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>({ sql: c.sql, rowsAsArray: true });
        const raw = (rows[0] as unknown as unknown[] | undefined)?.[0] ?? null;
        const value = typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(raw) ? new Date(`${raw.replace(' ', 'T')}Z`) : raw;
        out.push({ name: c.name, ...evaluateExpectation(value, c.expect, targetTime) });
      } catch (e) {
        out.push({ name: c.name, ok: false, expected: c.expect, detail: `query failed: ${(e as Error).message}` });
      }
    }
  } finally {
    await conn.end().catch(() => {});
  }
  const ct = await checkTables(t, t.dbname);
  out.push({ name: 'CHECK TABLE', ok: ct.ok, detail: ct.detail });
  return out;
}
