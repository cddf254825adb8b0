import type { Target } from '../config/target.js';
import type { EngineArchive } from '../engines/contract.js';
import { engineFor } from '../engines/registry.js';
import type { Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { planRetention, type RetentionItem, type RetentionPlan } from '../strategy/retention.js';
import { entryOf } from './catalog.js';
import { reapInterrupted } from './interrupted.js';

/** An archive file (WAL segment or binlog) as prune plans it. */
export interface ArchivePlanFile {
  name: string;
  bytes: number;
  archivedAt: string;
  keep: boolean;
  reason: string;
}

/** What the policy keeps of one target right now: backups with reasons, archive files below the new start. */
export interface RetentionView {
  repo: Repository;
  manifests: Manifest[];
  plan: RetentionPlan;
  /** Archive files below the new window start, oldest first (those keep-archive protects are marked keep). */
  archive: ArchivePlanFile[];
}

const DAY = 86_400_000;

/** The catalog as retention sees it: where each backup starts a point-in-time restore and what it reads. */
export function retentionItemOf(m: Manifest, archive: Pick<EngineArchive, 'pitrStart'>): RetentionItem {
  const e = entryOf(m);
  const item: RetentionItem = { id: m.id, kind: m.kind, type: m.type, status: e.status, startedAt: m.startedAt };
  const prior = (m as { prior?: unknown }).prior;
  if (typeof prior === 'string') item.prior = prior;
  if (e.verified?.ok) item.verified = true;
  const start = archive.pitrStart(m);
  if (start) Object.assign(item, start);
  return item;
}

/**
 * Reads the repository (finishing backups left running by a dead process first), plans retention
 * and lists the archive files the new window start leaves behind. Nothing is changed but the
 * interrupted backups' status.
 */
export async function readRetentionView(target: Target, now = new Date()): Promise<RetentionView> {
  const repo = new Repository(target.repo);
  const { manifests } = await reapInterrupted(repo, repo.catalog().manifests);
  const archive = await (await engineFor(target)).archive();
  const plan = planRetention(manifests.map((m) => retentionItemOf(m, archive)), target.policy?.retention, now, archive.compare);
  const below: ArchivePlanFile[] = [];
  if (plan.archiveFrom) {
    const keepArchive = target.policy?.retention?.keepArchive;
    const since = keepArchive ? now.getTime() - keepArchive * DAY : undefined;
    const files = archive.filesBelow(target.repo, plan.archiveFrom.position);
    // Only a prefix of the archive goes: after the first file keep-archive protects, every newer
    // one stays too, so the archive never gets a hole in the middle.
    let protectedFrom: string | undefined;
    for (const f of files) {
      const covered = since !== undefined && f.archivedAt >= since;
      if (covered && protectedFrom === undefined) protectedFrom = f.name;
      below.push({
        name: f.name,
        bytes: f.bytes,
        archivedAt: new Date(f.archivedAt).toISOString(),
        keep: protectedFrom !== undefined,
        reason: covered
          ? `keep-archive ${keepArchive}: archived within ${keepArchive} days`
          : protectedFrom !== undefined
            ? `after ${protectedFrom}, which keep-archive keeps (the archive keeps no holes)`
            : `before ${plan.archiveFrom.position}, where the oldest kept backup ${plan.archiveFrom.backup} starts reading`,
      });
    }
  }
  return { repo, manifests, plan, archive: below };
}
