import type { Target } from '../../../config/target.js';
import { DbdrillError, invalid } from '../../../errors.js';
import { planRestore } from '../../../pitr/plan.js';
import { replayCheckOf } from '../../../pitr/reached.js';
import type { RestoreTarget } from '../../../pitr/time.js';
import { DEFAULT_SEGMENT_BYTES } from '../../../pitr/wal-names.js';
import { formatBytes } from '../../../util/bytes.js';
import type { EngineContext } from '../../context.js';
import type { DrillRun } from '../../contract.js';
import { physicalDrillRun, type Chosen } from '../drill.js';
import { appendRestoredServerConfig, restoredServerSettings } from '../pitr-restore.js';
import { chainOf } from './catalog.js';
import { pgbackrestOf } from './method.js';
import { pgbackrestRestoreFiles } from './restore.js';
import { damagedFilesOf, describeProblem } from './verify.js';
import { readPgbackrestArchive } from './window.js';

/**
 * `dbdrill drill NAME` on a pgBackRest target: dbdrill's planner picks the set a point-in-time
 * restore would use (the newest consistent before the target, from pgBackRest's catalog and
 * archive); 'verify backup files' runs pgbackrest verify on every set of its chain; 'restore base'
 * is pgBackRest restoring that set (the full and every diff/incr it references) into the scratch
 * directory with the recovery target; replay is PostgreSQL fetching WAL with archive-get. The
 * rest (the point reached, the checks, RTO/RPO) is the native physical drill's.
 */
export async function pgbackrestDrillPick(ctx: EngineContext, target: Target, requested: RestoreTarget, opts: { backup?: string }): Promise<DrillRun> {
  const pb = await pgbackrestOf(target);
  const view = await readPgbackrestArchive(pb, target.name, { signal: ctx.signal });
  if (!view.manifests.some((m) => m.status === 'complete')) {
    throw invalid(`Target "${target.name}" has no pgBackRest backup set to drill; take one with dbdrill backup ${target.name} --kind physical.`);
  }
  const plan = planRestore(requested, view.manifests, view.inventory, view.window, view.lastCommit, { ...(opts.backup !== undefined ? { backup: opts.backup } : {}) });
  const set = view.manifests.find((m) => m.id === plan.backup.id)!;
  const chain = chainOf(view.manifests, set.id);
  const chosen: Chosen = {
    m: set,
    replay: { segments: plan.segments, startLsn: plan.startLsn, endLsn: plan.endLsn, check: replayCheckOf(plan) },
    ...(view.window.newestArchivedAt ? { newestArchivedAt: view.window.newestArchivedAt } : {}),
    detail: `pgBackRest ${set.type} set${chain.length > 1 ? ` (restores ${chain.map((r) => r.id).join(' + ')})` : ''}; WAL ${plan.walFrom}…${plan.walTo}`,
  };
  const serverMajor = Number(set.serverVersion.split('.')[0]);
  const segmentBytes = chosen.replay?.check?.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  return physicalDrillRun(ctx, target, chosen, {
    async checkFiles() {
      // pgBackRest keeps each file's checksum in its own manifest: its verify reads every file of
      // every set the restore will read, so a damaged one is named before anything is restored.
      const problems = (await Promise.all(chain.map((r) => damagedFilesOf(pb, r.id, ctx.signal)))).flat();
      if (problems.length > 0) throw new DbdrillError('failed', `pgBackRest set ${set.id} cannot be restored: ${problems.map(describeProblem).join('; ')}`, { damaged: problems });
      return `pgbackrest verify: every file of ${chain.map((r) => r.id).join(', ')} matches its checksum`;
    },
    async restoreBase(ps) {
      const bytes = await pgbackrestRestoreFiles(ctx, pb, { set: set.id, target: requested, timeline: plan.timeline, dataDir: ps.dataDir, port: ps.port, ...(view.streamTail ? { streamTail: view.streamTail } : {}) });
      appendRestoredServerConfig(ps.dataDir, `drill of ${target.name} from pgBackRest set ${set.id}`, restoredServerSettings(ps.dataDir, ps.port, serverMajor));
      return bytes;
    },
    baseDetail: (b) => `pgBackRest restored ${formatBytes(b)} from ${chain.length} set(s)`,
    // Segments come through archive-get (compressed in the repository): their plain size is what replay read.
    restoredBytes: (segments) => segments.length * segmentBytes,
  });
}
