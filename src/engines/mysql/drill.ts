import type mysql from 'mysql2/promise';
import type { Target } from '../../config/target.js';
import { evaluateExpectation, type DrillCheck } from '../../config/drill-checks.js';
import { describePoint, promisedPoint } from '../../binlog/reached.js';
import { baseMoment, type MysqlRestorePlan, type SecondChoice } from '../../binlog/window.js';
import { APPLY_STEP, type DrillCheckResult } from '../../drill/report.js';
import { markCorrupt } from '../../repo/backup-files.js';
import { describeMismatch, verifyFiles } from '../../repo/checksum.js';
import { DbdrillError, invalid } from '../../errors.js';
import type { RestoreTarget } from '../../pitr/time.js';
import type { Manifest, TableStat } from '../../repo/manifest.js';
import { Repository } from '../../repo/repository.js';
import { startMariadbSandbox, type SandboxInstance } from '../../sandbox/index.js';
import { sandboxTarget } from '../../sandbox/target.js';
import { compareStats, describeMismatches, whatWasCompared } from '../compare-stats.js';
import type { EngineContext } from '../context.js';
import type { DrillEngine, DrillRun } from '../contract.js';
import type { ReplayOutcome } from './binlog-replay.js';
import { connectMysql } from './client.js';
import { myLogicalRestore } from './logical-restore.js';
import { checkDumpFlavor, replayMissed, replayPlan, startOnPhysicalBackup } from './pitr.js';
import { checkRepositoryKey } from '../../repo/sealed-read.js';
import { planMysqlPitr, readMysqlArchive, shortfallSentence } from './plan.js';
import { checkTables } from './verify.js';

/**
 * MySQL/MariaDB's drill steps, in the same report as PostgreSQL's: pick a backup (the one a
 * point-in-time restore to the target would use), start a scratch MariaDB (binary log off) on a
 * free port — on a copy of a physical backup's files (the copy is the restore base, inside
 * provisioning), or empty with the logical backup's dump loaded into it — and replay the archived
 * binlogs up to the target. RTO's transfer is the copy or the load, its replay the binlogs.
 */
export const mysqlDrill: DrillEngine = {
  replayStep: 'replay binlogs',
  async pick(ctx, target, requested, opts) {
    const plan = await pickMysqlForDrill(ctx, target, requested, opts.backup, opts.second);
    return drillOf(ctx, target, plan);
  },
};

function drillOf(ctx: EngineContext, target: Target, plan: MysqlRestorePlan): DrillRun {
  const m = plan.backup;
  const backupDir = new Repository(target.repo).backupDir(m.id);
  // What each step read from the repository: the backup, then the archived binlogs from its position on.
  const binlogBytes = Math.max(0, plan.files.reduce((n, f) => n + f.size, 0) - plan.startPosition);
  let into: Target | undefined;
  // The drill's own instance directory: encrypted binlogs are decrypted there for the replay.
  let scratch: string | undefined;
  // What the backup alone holds (its own moment, which the manifest's counts describe). A
  // physical backup records no counts, so there is nothing to compare before replay.
  let loaded: TableStat[] = [];
  let replay: ReplayOutcome | undefined;
  // A diff or incr reads its chain: the full and every member up to it, copied, then applied.
  const chain = plan.chain ?? [{ id: m.id, type: m.type, bytes: m.sizeBytes }];
  const copyBytes = chain.reduce((n, c) => n + c.bytes, 0);
  const applied = chain.slice(1);
  const chainWords = chain.length > 1 ? ` (chain ${chain.map((c) => `${c.type} ${c.id}`).join(' → ')})` : '';
  return {
    backup: m,
    detail: `${m.kind} ${m.type === 'full' ? '' : `${m.type} `}backup ${m.id}${chainWords}; ${plan.files.length ? `binlogs ${plan.files[0]!.file}…${plan.files.at(-1)!.file} from position ${plan.startPosition}${plan.stopAt ? `, stopping before ${plan.stopAt.toISOString()}` : ''}` : 'no binlog to replay after its position'}`,
    async checkFiles() {
      if (m.kind === 'logical') await checkDumpFlavor(m, backupDir, ctx.signal);
      // The chain's other members are read too: each is checked here, a damaged one named and marked corrupt.
      if (applied.length > 0) await checkChainMembers(target, chain.slice(0, -1).map((c) => c.id));
    },
    async provision(hooks, keep) {
      // A physical backup's files are copied in before its server starts: the copy (the transfer
      // of the RTO) runs inside provisioning, as its own step.
      const sb: SandboxInstance = m.kind === 'physical'
        ? await startOnPhysicalBackup(ctx, target, m, {
            keep,
            copy: (fn) => hooks.restoreBase(fn, () => `copied ${copyBytes} bytes of data files${chain.length > 1 ? ` from ${chain.length} backups` : ''}`, () => copyBytes),
            apply: (fn) => hooks.applyIncrementals(fn, () => `applied ${applied.map((c) => `${c.type} ${c.id}`).join(', ')} onto full ${chain[0]!.id}`, () => applied.reduce((n, c) => n + c.bytes, 0)),
            skipApply: (why) => hooks.skip(APPLY_STEP, why),
          })
        : await startMariadbSandbox({ signal: ctx.signal, binlog: false, keep });
      if (m.kind !== 'physical') hooks.skip(APPLY_STEP, `backup ${m.id} is a logical dump: nothing to apply`);
      into = sandboxTarget(sb, `${target.name}-drill`, '');
      scratch = sb.dir;
      return { dir: sb.dir, dataDir: sb.dataDir, port: sb.port, detail: `MariaDB ${sb.version} on 127.0.0.1:${sb.port}, binary log off`, stop: () => sb.stop() };
    },
    async restoreBase(hooks) {
      if (m.kind === 'physical') return;
      loaded = await hooks.restoreBase(() => myLogicalRestore(ctx, into!, m, backupDir, { dbname: plan.schema }), (t) => `${t.length} table(s) loaded into ${plan.schema}`, () => m.sizeBytes);
    },
    async replay(hooks) {
      replay = await replayPlan(ctx, target, into!, plan, (fn) => hooks.replay(fn, (r) => replayDetail(r as ReplayOutcome), () => binlogBytes), scratch);
      if (!replay) hooks.skip('replay binlogs', plan.files.length === 0 && plan.startFile === '' ? 'the backup records no binlog position; it restores to its own moment' : 'no archived binlog follows the backup\'s position; the drill restores the backup\'s own moment');
    },
    async verifyInstance(checks, targetTime) {
      const point = reachedCheck(target, plan, replay);
      const out = await verifyMysqlInstance({ ...into!, dbname: plan.schema }, m, loaded, replay, checks, targetTime);
      // Right after "accepts connections": the point reached decides what every later check sees.
      if (point) out.splice(Math.min(1, out.length), 0, point);
      return out;
    },
    rpo(requested) {
      const dumpAt = new Date(baseMoment(m));
      const own = m.kind === 'physical' ? "the physical backup's consistent point" : 'the start of the logical backup';
      const lastChange = replay?.lastChangeAt ?? dumpAt;
      if (requested.kind === 'time') {
        return {
          seconds: Math.max(0, (requested.at.getTime() - lastChange.getTime()) / 1000),
          reference: replay?.lastChangeAt ? `target ${requested.at.toISOString()} minus the last replayed change` : `target ${requested.at.toISOString()} minus ${own}`,
          lastCommitAt: lastChange.toISOString(),
        };
      }
      const newest = plan.files.at(-1)?.lastEventAt;
      return newest
        ? { seconds: (Date.now() - Date.parse(newest)) / 1000, reference: 'now minus the newest archived binlog event', lastCommitAt: lastChange.toISOString() }
        : { seconds: (Date.now() - dumpAt.getTime()) / 1000, reference: `now minus ${own}`, lastCommitAt: lastChange.toISOString() };
    },
  };
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

/** Each earlier member of a chain against the sha256 its manifest recorded; a damaged one is marked corrupt and named. */
async function checkChainMembers(target: Target, ids: string[]): Promise<void> {
  const repo = new Repository(target.repo);
  for (const id of ids) {
    const mm = repo.readManifest(id);
    const bad = await verifyFiles(repo.backupDir(id), mm.files);
    if (bad.length > 0) {
      markCorrupt(repo, id, `${bad.map(describeMismatch).join('; ')} (found by a drill)`);
      throw new DbdrillError('failed', `backup ${id}, which this chain reads, is damaged: ${bad.map(describeMismatch).join('; ')}; it is now marked corrupt`, { member: id });
    }
  }
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
  // An encrypted repository: the identity must open it before the drill plans (it reads binlogs) or starts anything.
  await checkRepositoryKey(target.repo, view.all);
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
