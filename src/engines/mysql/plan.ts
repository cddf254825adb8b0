import type { Target } from '../../config/target.js';
import { readBinlogInventory, binlogRoot, type BinlogInventory } from '../../binlog/archive.js';
import { stopSecond } from '../../binlog/decoded.js';
import { expectReplay } from '../../binlog/expect.js';
import { checkPosition, locateGtid, type ResolvedStop } from '../../binlog/locate.js';
import { describePoint, promisedPoint } from '../../binlog/reached.js';
import { checkSecondFor, subSecondMicros, targetFraction } from '../../binlog/second.js';
import type { StopRule } from '../../binlog/simulate.js';
import { computeMysqlWindow, describeMysqlWindow, mysqlBases, planMysqlRestore, type AmbiguousSecond, type MysqlRestorePlan, type SecondChoice } from '../../binlog/window.js';
import { invalid } from '../../errors.js';
import type { RestoreTarget } from '../../pitr/time.js';
import type { RecoverableWindow } from '../../pitr/window.js';
import type { Manifest } from '../../repo/manifest.js';
import { Repository } from '../../repo/repository.js';
import type { PitrRequest } from '../restore-types.js';
import { chainForRestore, isChainable, restorableManifests } from './chain.js';

/**
 * Planning a MySQL/MariaDB restore: what the repository holds, and the plan with the point its
 * replay must reach, made from the binlogs themselves before anything is written. The restore and
 * the drill (src/ops/pitr-mysql.ts, drill-mysql.ts) then hold the replay to that point.
 */

/** Everything a MySQL/MariaDB window or plan needs, read from the repository. */
export interface MysqlArchiveView {
  /** Backups a restore can start from (a diff or incr only when its whole chain can be read). */
  manifests: Manifest[];
  /** Every backup of the repository, for naming the member that breaks a chain asked for. */
  all: Manifest[];
  inventory: BinlogInventory;
  window: RecoverableWindow;
}

export async function readMysqlArchive(target: Target, signal?: AbortSignal): Promise<MysqlArchiveView> {
  const all = new Repository(target.repo).catalog().manifests;
  const manifests = restorableManifests(all);
  const inventory = await readBinlogInventory(target.repo, signal);
  return { manifests, all, inventory, window: computeMysqlWindow(manifests, inventory) };
}

/** The stop a plan gives mariadb-binlog, as the simulator follows it. */
function ruleOf(plan: MysqlRestorePlan): StopRule {
  if (plan.stopAt) return { kind: 'time', at: plan.stopAt };
  if (plan.stopPosition !== undefined) return { kind: 'position', position: plan.stopPosition };
  return { kind: 'end' };
}

/** The inventory with the files found damaged on reading marked so (the planner then stops before them). */
function withDamage(inv: BinlogInventory, damaged: Map<string, string>): BinlogInventory {
  if (damaged.size === 0) return inv;
  return { ...inv, files: inv.files.map((f) => (damaged.has(f.file) ? { ...f, problem: damaged.get(f.file)! } : f)) };
}

const fmt = (iso: string | Date) => new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/**
 * The restore plan, with the point its replay must reach. A GTID or a position is first found in
 * the archive's event headers (the planner itself reads nothing). Then every binlog the replay
 * will read is read once: checked against the size and SHA-256 recorded when it was archived and
 * its events followed as mariadb-binlog will follow them (src/binlog/expect.ts). A damaged file is
 * marked and the plan made again without it, so a replay never reads one. A time with a fraction
 * inside a second that holds transactions the replay would apply is refused, listing them, unless
 * `second` says what to do with them: binlog events carry whole seconds, so rounding would guess.
 */
export async function planMysqlPitr(
  view: MysqlArchiveView,
  target: Target,
  req: Pick<PitrRequest, 'target' | 'backup' | 'timeline' | 'second'>,
  signal?: AbortSignal,
): Promise<MysqlRestorePlan> {
  if (req.timeline !== undefined) throw invalid('MySQL/MariaDB binlogs have no timelines; leave out --timeline.');
  const t = req.target;
  checkSecondFor(req.second, t);
  // A diff or incr asked for by id whose chain is broken: one sentence naming the member at fault.
  const asked = req.backup === undefined ? undefined : view.all.find((m) => m.id === req.backup);
  if (asked && asked.status === 'complete' && isChainable(asked) && asked.type !== 'full') chainForRestore(view.all, asked.id, target.name);
  let stop: ResolvedStop | undefined;
  if (t.kind === 'gtid' || t.kind === 'position') {
    const bases = mysqlBases(view.manifests).filter((m) => req.backup === undefined || m.id === req.backup);
    const win = describeMysqlWindow(view.window);
    stop = t.kind === 'gtid'
      ? await locateGtid(target.repo, view.inventory.files, bases, t.gtid, win, signal)
      : await checkPosition(target.repo, view.inventory.files, t.file, t.position, win, signal);
  }
  const fraction = t.kind === 'time' && subSecondMicros(t) > 0;
  const damaged = new Map<string, string>();
  for (;;) {
    const inventory = withDamage(view.inventory, damaged);
    const window = damaged.size > 0 ? computeMysqlWindow(view.manifests, inventory) : view.window;
    const planFor = (second?: SecondChoice) =>
      planMysqlRestore(t, view.manifests, inventory, window, { ...(req.backup ? { backup: req.backup } : {}), ...(stop ? { stop } : {}), ...(second ? { second } : {}) });
    const plan = planFor(req.second);
    if (!plan.schema) plan.schema = target.dbname;
    // Read to the end of the target's second (when it is in the archive) to see what that second holds.
    let wide = plan;
    if (t.kind === 'time' && (fraction || req.second !== undefined) && req.second !== 'inclusive') {
      try {
        wide = planFor('inclusive');
      } catch {
        wide = plan;
      }
    }
    if (wide.files.length === 0) return withChain(plan, view.all, target);
    const second = t.kind === 'time' ? stopSecond(t.at) : undefined;
    const look = await expectReplay(target.repo, wide.files, wide.startPosition, {
      rule: ruleOf(plan),
      ...(plan.backup.kind === 'logical' ? { schema: plan.schema } : {}),
      ...(second ? { second } : {}),
      ...(signal ? { signal } : {}),
    });
    if (look.damaged) {
      damaged.set(look.damaged.file, look.damaged.problem);
      continue;
    }
    plan.expected = look.end!;
    if (look.second && second) {
      const listed: AmbiguousSecond = {
        second: second.toISOString(),
        transactions: look.second.transactions.map((x) => ({ gtid: x.gtid, at: x.at, statement: x.statement ?? '' })),
        ...(look.second.more > 0 ? { more: look.second.more } : {}),
      };
      if (req.second !== undefined) plan.ambiguousSecond = listed;
      else if (fraction && listed.transactions.length > 0) throw invalid(ambiguitySentence(t as Extract<RestoreTarget, { kind: 'time' }>, listed), { ambiguousSecond: listed });
      else if (fraction) {
        const i = plan.notes.findIndex((n) => n.startsWith('binlog events carry whole seconds'));
        if (i >= 0) plan.notes[i] = `no transaction the replay applies is stamped ${fmt(second)}, so stopping before that second is exact`;
      }
    }
    if (!plan.shortfall) plan.notes.push(`replay must end at ${describePoint(promisedPoint(plan.expected))}; the restore checks that it does`);
    return withChain(plan, view.all, target);
  }
}

/**
 * A plan from a diff or incr reads its whole chain: the members, full first, each with its size,
 * go into the plan and its bytes (the planner counted the chosen backup alone).
 */
function withChain(plan: MysqlRestorePlan, all: readonly Manifest[], target: Target): MysqlRestorePlan {
  if (!isChainable(plan.backup) || plan.backup.type === 'full') return plan;
  const chain = chainForRestore(all, plan.backup.id, target.name);
  plan.chain = chain.map((m) => ({ id: m.id, type: m.type, bytes: m.sizeBytes }));
  plan.estimatedBytes += chain.slice(0, -1).reduce((n, m) => n + m.sizeBytes, 0);
  plan.notes.push(`restores the chain ${chain.map((m) => `${m.type} ${m.id}`).join(' → ')}: the full copied, then ${chain.length - 1} change set(s) applied in order`);
  return plan;
}

/** One sentence listing the transactions of the target's second and the ways to choose. */
function ambiguitySentence(t: Extract<RestoreTarget, { kind: 'time' }>, a: AmbiguousSecond): string {
  const shown = a.transactions.slice(0, 10);
  const more = a.transactions.length - shown.length + (a.more ?? 0);
  const list = shown.map((x) => `${x.gtid} at ${x.at.slice(11, 19)}${x.statement ? ` (${x.statement})` : ''}`).join(', ');
  return `${fmt(t.at).replace(/Z$/, '')}${targetFraction(t)}Z falls inside ${fmt(a.second)}, a second that holds ${a.transactions.length + (a.more ?? 0)} transaction(s) in the binlog, and binlog events carry whole seconds, so which of them came before the target cannot be told: ${list}${more > 0 ? ` and ${more} more` : ''}; give --gtid or --position to stop after one of them, or --second inclusive (replay all of them) or --second exclusive (none of them).`;
}

/** --to latest that the archive cannot deliver: what breaks it, where replay would stop, how to fix it. */
export function shortfallSentence(plan: MysqlRestorePlan, target: Target): string | undefined {
  const s = plan.shortfall;
  if (!s) return undefined;
  const stopAt = plan.expected ? describePoint(promisedPoint(plan.expected)) : `the backup's own position ${plan.startFile}:${plan.startPosition}`;
  return `--to latest cannot be reached: ${s.reason}, so replay would stop at ${stopAt}, short of the newest archived binlog ${s.promised.file}${s.promised.lastEventAt ? ` (its last event at ${fmt(s.promised.lastEventAt)})` : ''}; put intact copies back into ${binlogRoot(target.repo)} (dbdrill binlog-sync ${target.name} copies missing binlogs again while the server still has them; move a damaged copy away first), or restore to a point before the damage with --to, --gtid or --position.`;
}
