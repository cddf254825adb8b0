import { checkRepositoryKey } from '../../repo/sealed-read.js';
import type pg from 'pg';
import type { DrillCheck } from '../../config/drill-checks.js';
import { evaluateExpectation } from '../../config/drill-checks.js';
import type { Target } from '../../config/target.js';
import type { DrillCheckResult } from '../../drill/report.js';
import { invalid } from '../../errors.js';
import { replayCheckOf } from '../../pitr/reached.js';
import type { RestoreTarget } from '../../pitr/time.js';
import type { Manifest } from '../../repo/manifest.js';
import { Repository } from '../../repo/repository.js';
import { startPostgresSandbox, type SandboxInstance } from '../../sandbox/index.js';
import { sandboxTarget } from '../../sandbox/target.js';
import { formatBytes } from '../../util/bytes.js';
import { archivedBytes } from '../../wal/layout.js';
import { compareStats, describeMismatches, whatWasCompared } from '../compare-stats.js';
import type { EngineContext } from '../context.js';
import type { DrillEngine, DrillHooks, DrillRpo, DrillRun, DrillScratch } from '../contract.js';
import { runAmcheck } from './amcheck.js';
import { checkValue } from './check-value.js';
import { connectPostgres } from './client.js';
import { pgLogicalRestore } from './logical-restore.js';
import { PhysicalScratch } from './physical-scratch.js';
import type { ReplayExpectation } from './pitr-restore.js';
import { planPitr, readArchive } from './pitr.js';
import { tableStats } from './table-stats.js';

/** The drill's first check for a physical restore: replay got as far as the plan said. */
export const REACHED_CHECK = 'replay reached the planned point';

/** The backup a drill restores, and what replay after it must reach. */
export interface Chosen {
  m: Manifest;
  settings?: Record<string, string>;
  replay?: ReplayExpectation;
  newestArchivedAt?: string;
  detail?: string;
}

/**
 * PostgreSQL's drill steps: a physical backup is unpacked into a scratch directory on its own
 * port (archive_mode off) and WAL replayed to the plan's point; a logical one is loaded into a
 * fresh sandbox server and restores to its own moment (no WAL to replay).
 */
export const pgDrill: DrillEngine = {
  replayStep: 'replay WAL',
  async pick(ctx, target, requested, opts) {
    const repo = new Repository(target.repo);
    const c = await pickForDrill(target, repo, requested, opts.backup);
    return c.m.kind === 'physical' ? physicalDrill(ctx, target, repo, c) : logicalDrill(ctx, target, repo, c);
  },
};

const pickDetail = (c: Chosen) => `${c.m.kind} backup ${c.m.id}${c.detail ? `; ${c.detail}` : ''}`;

function physicalDrill(ctx: EngineContext, target: Target, repo: Repository, chosen: Chosen): DrillRun {
  return physicalDrillRun(ctx, target, chosen, {
    restoreBase: (ps) => ps.restoreBase(ctx, chosen.m, repo.backupDir(chosen.m.id), chosen.settings!),
    baseDetail: (b) => `unpacked ${formatBytes(b)} of base backup`,
    restoredBytes: (segments) => archivedBytes(target.repo, segments),
  });
}

/** How a physical drill puts its base into the scratch directory, whichever tool keeps the backup. */
export interface PhysicalDrillSource {
  /** Writes the base and its recovery settings into the scratch data directory; returns the bytes restored. */
  restoreBase(ps: PhysicalScratch): Promise<number>;
  /** The restore base step's detail for the bytes restored. */
  baseDetail(bytes: number): string;
  /** The bytes of the archived segments replay read (undefined when the archive cannot tell). */
  restoredBytes(segments: string[]): number | undefined;
  /** Engine checks of the backup's files beyond dbdrill's checksums; returns the step's detail. */
  checkFiles?(): Promise<string>;
}

/**
 * A physical backup drilled in a scratch directory on its own port (archive_mode off): the base
 * restored by `source`, WAL replayed to the plan's point, the point reached held against the plan.
 * pg_basebackup's tar and pgBackRest's sets share everything after the base is in place.
 */
export function physicalDrillRun(ctx: EngineContext, target: Target, chosen: Chosen, source: PhysicalDrillSource): DrillRun {
  const m = chosen.m;
  let ps: PhysicalScratch | undefined;
  let lastCommitAt: Date | undefined;
  let reached: DrillCheckResult | undefined;
  return {
    backup: m,
    detail: pickDetail(chosen),
    ...(source.checkFiles ? { checkFiles: () => source.checkFiles!() } : {}),
    async provision(_hooks, keep) {
      const p = await PhysicalScratch.provision(target, 'drill', keep);
      ps = p;
      return scratchOf(p, `${p.dataDir} on 127.0.0.1:${p.port}, archive_mode off`, () => p.stop());
    },
    async restoreBase(hooks) {
      await hooks.restoreBase(() => source.restoreBase(ps!), (b) => source.baseDetail(b), (b) => b);
    },
    async replay(hooks) {
      // A short replay is not a failed replay to PostgreSQL: the drill fails it at verify.
      const outcome = await hooks.replay(() => ps!.replay(ctx, m, chosen.replay ?? { segments: 1 }, { deferShort: true }),
        (o) => `${o.state.restored.length} archived segment(s) replayed${o.state.lastCommitAt ? `, last commit ${o.state.lastCommitAt.toISOString()}` : ''}`,
        (o) => source.restoredBytes(o.state.restored));
      lastCommitAt = outcome.state.lastCommitAt;
      const v = outcome.verdict;
      reached = { name: REACHED_CHECK, ok: v.ok, detail: v.ok ? `reached ${v.reached}` : v.sentence };
    },
    async verifyInstance(checks, targetTime) {
      const t: Target = { ...ps!.target, dbname: m.database ?? target.dbname };
      return [...(reached ? [reached] : []), ...(await verifyInstance(ctx, t, m, checks, targetTime))];
    },
    rpo(requested) {
      if (requested.kind === 'time') return rpoAtTime(requested.at, lastCommitAt);
      const newest = chosen.newestArchivedAt ? new Date(chosen.newestArchivedAt) : lastCommitAt;
      return { seconds: newest ? (Date.now() - newest.getTime()) / 1000 : NaN, reference: 'now minus the newest archived segment', ...(lastCommitAt ? { lastCommitAt: lastCommitAt.toISOString() } : {}) };
    },
  };
}

function logicalDrill(ctx: EngineContext, target: Target, repo: Repository, chosen: Chosen): DrillRun {
  const m = chosen.m;
  let into: Target | undefined;
  // A dump holds what its snapshot saw, at the start of the backup.
  const lastCommitAt = new Date(m.startedAt);
  return {
    backup: m,
    detail: pickDetail(chosen),
    async provision(_hooks, keep) {
      const sb: SandboxInstance = await startPostgresSandbox({ signal: ctx.signal, keep });
      into = sandboxTarget(sb, `${target.name}-drill`, '');
      return scratchOf(sb, `PostgreSQL ${sb.version} on 127.0.0.1:${sb.port}`, () => sb.stop());
    },
    async restoreBase(hooks) {
      await hooks.restoreBase(() => pgLogicalRestore(ctx, into!, m, repo.backupDir(m.id), { dbname: m.database ?? target.dbname }), (t) => `${t.length} table(s) restored`, () => m.sizeBytes);
    },
    async replay(hooks: DrillHooks) {
      hooks.skip('replay WAL', 'a logical backup is restored as of its dump; there is no WAL to replay');
    },
    verifyInstance(checks, targetTime) {
      return verifyInstance(ctx, { ...into!, dbname: m.database ?? target.dbname }, m, checks, targetTime);
    },
    rpo(requested) {
      if (requested.kind === 'time') return rpoAtTime(requested.at, lastCommitAt);
      return { seconds: (Date.now() - lastCommitAt.getTime()) / 1000, reference: 'now minus the start of the logical backup', lastCommitAt: lastCommitAt.toISOString() };
    },
  };
}

function scratchOf(s: { dir: string; dataDir: string; port: number }, detail: string, stop: () => Promise<void>): DrillScratch {
  return { dir: s.dir, dataDir: s.dataDir, port: s.port, detail, stop };
}

function rpoAtTime(at: Date, lastCommitAt: Date | undefined): DrillRpo {
  const lost = lastCommitAt ? Math.max(0, (at.getTime() - lastCommitAt.getTime()) / 1000) : NaN;
  return { seconds: lost, reference: `target ${at.toISOString()} minus the last replayed commit`, ...(lastCommitAt ? { lastCommitAt: lastCommitAt.toISOString() } : {}) };
}

async function pickForDrill(target: Target, repo: Repository, requested: RestoreTarget, backup?: string): Promise<Chosen> {
  const all = repo.catalog().manifests;
  const bases = all.filter((m) => m.status === 'complete' && m.kind === 'physical');
  // The key is tried on the kind of backup the drill restores (a base backup when there is one).
  await checkRepositoryKey(target.repo, bases.length ? bases : all);
  const view = await readArchive(target);
  const hasBase = view.manifests.some((m) => m.status === 'complete' && m.kind === 'physical');
  if (hasBase) {
    const plan = planPitr(view, { target: requested, into: '', port: 0, backup });
    return {
      m: plan.backup,
      settings: plan.settings,
      replay: { segments: plan.segments, startLsn: plan.startLsn, endLsn: plan.endLsn, check: replayCheckOf(plan) },
      ...(view.window.newestArchivedAt ? { newestArchivedAt: view.window.newestArchivedAt } : {}),
      detail: `WAL ${plan.walFrom}…${plan.walTo}`,
    };
  }
  if (requested.kind !== 'latest') {
    throw invalid(`Target "${target.name}" has only logical backups, which restore to their own moment; drill with --to latest or take a physical backup.`);
  }
  const logical = backup ? repo.readManifest(backup) : view.manifests.find((m) => m.status === 'complete' && m.kind === 'logical');
  if (!logical || logical.status !== 'complete') throw invalid(`Target "${target.name}" has no complete backup to drill; take one with dbdrill backup ${target.name}.`);
  return { m: logical };
}

/**
 * The restored instance must accept connections, hold what the backup recorded (logical backups
 * carry row counts and digests of their own moment), pass pg_amcheck, and satisfy the target's
 * own SQL checks.
 */
async function verifyInstance(ctx: EngineContext, t: Target, m: Manifest, checks: DrillCheck[], targetTime: Date): Promise<DrillCheckResult[]> {
  const out: DrillCheckResult[] = [];
  let client: pg.Client;
  try {
    client = await connectPostgres(t);
    out.push({ name: 'accepts connections', ok: true, detail: `connected to 127.0.0.1:${t.port} as ${t.user}` });
  } catch (e) {
    out.push({ name: 'accepts connections', ok: false, detail: (e as Error).message });
    return out;
  }
  try {
    if (m.kind === 'logical' && m.tables?.length) {
      const mismatches = compareStats(m.tables, await tableStats(client));
      out.push({
        name: 'tables match the backup',
        ok: mismatches.length === 0,
        detail: mismatches.length === 0 ? `${m.tables.length} table(s): ${whatWasCompared(m.tables)} as recorded` : describeMismatches(mismatches),
      });
    }
    for (const c of checks) {
      try {
        out.push({ name: c.name, ...evaluateExpectation(await checkValue(client, c.sql), c.expect, targetTime) });
      } catch (e) {
        out.push({ name: c.name, ok: false, expected: c.expect, detail: `query failed: ${(e as Error).message}` });
      }
    }
  } finally {
    await client.end().catch(() => {});
  }
  const am = await runAmcheck(ctx, t, t.dbname, m.serverVersion);
  out.push({ name: 'pg_amcheck', ok: am.ok, detail: am.detail });
  return out;
}
