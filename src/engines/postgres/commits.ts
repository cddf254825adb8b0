import { statSync } from 'node:fs';
import type { Target } from '../../config/target.js';
import { invalid } from '../../errors.js';
import { isoMicros } from '../../pitr/micros.js';
import { readInventory } from '../../pitr/inventory.js';
import { parseSegment, segmentName } from '../../pitr/wal-names.js';
import { baseBackups } from '../../pitr/window.js';
import { Repository } from '../../repo/repository.js';
import { findArchived, walRoot } from '../../wal/layout.js';
import { withPlainSegments } from '../../wal/readable.js';
import type { CommitMoments, CommitRange } from '../contract.js';
import { archiveSegmentBytes } from './pitr.js';
import { commitsInSegments } from './waldump.js';

/**
 * At most this many segments are read for one answer (16 MiB each by default: pg_waldump reads
 * them in a second or two); a longer range gets its newest part and says from when.
 */
export const MAX_COMMIT_SEGMENTS = 64;

/**
 * The commit moments inside `range`, from the commit records of the archived WAL of the newest
 * timeline. A segment reaches the archive after its last record was written, so segments archived
 * before the range starts hold no commit inside it; reading starts at the first one archived
 * after that and ends at the first one archived after the range's end (the one being written
 * then). Only the gap-free run of segments ending there is read, the newest MAX_COMMIT_SEGMENTS
 * of it at most.
 */
export async function pgCommitMoments(target: Target, range: CommitRange, signal?: AbortSignal): Promise<CommitMoments> {
  if ((target.method ?? 'native') !== 'native') {
    throw invalid(`Target "${target.name}" keeps its WAL in ${target.method}'s repository, which the list of commits does not read yet; step by minutes or to a backup's end instead.`);
  }
  const repo = new Repository(target.repo);
  const { manifests } = repo.catalog();
  const segmentBytes = archiveSegmentBytes(repo, manifests);
  const inventory = readInventory(walRoot(target.repo), segmentBytes);
  const timeline = Math.max(0, ...inventory.timelines.keys());
  const segs = inventory.timelines.get(timeline) ?? [];
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  const major = Number(baseBackups(manifests)[0]?.serverVersion.split('.')[0] ?? 15) || 15;

  const archivedAt = (segNo: number) => {
    const found = findArchived(target.repo, segmentName({ timeline, segNo }, segmentBytes));
    try {
      return found ? statSync(found.path).mtimeMs : undefined;
    } catch {
      return undefined;
    }
  };
  // Newest first: find the last segment to read, then walk back while the run has no gap.
  let end = segs.length - 1;
  while (end > 0 && (archivedAt(segs[end - 1]!) ?? Infinity) > to) end--;
  const run: number[] = [];
  for (let i = end; i >= 0 && run.length < MAX_COMMIT_SEGMENTS; i--) {
    if (run.length > 0 && segs[i]! !== run[0]! - 1) break;
    run.unshift(segs[i]!);
    if ((archivedAt(segs[i]!) ?? Infinity) < from) break;
  }
  if (run.length === 0) return { moments: [], from: range.from };

  // withPlainSegments numbers segments as 16 MiB ones do (see legacySegNo in pitr.ts).
  const names = run.map((segNo) => segmentName({ timeline, segNo }, segmentBytes));
  const legacy = names.map((n) => parseSegment(n)!.segNo);
  const records = await withPlainSegments(target.repo, timeline, legacy, (dir) => commitsInSegments(dir, names[0]!, names.at(-1)!, major, signal));
  const fromMicros = from * 1000;
  const toMicros = to * 1000 + 999;
  const moments = [...new Set(records.filter((r) => r.micros >= fromMicros && r.micros <= toMicros).map((r) => r.micros))].sort((a, b) => a - b).map(isoMicros);

  // The first segment read was archived after the range began: commits before it are not listed.
  const firstArchived = archivedAt(run[0]!);
  const whole = run[0] === segs[0] || (firstArchived !== undefined && firstArchived < from);
  if (whole) return { moments, from: range.from };
  const start = moments[0] ?? range.to;
  const why = run.length >= MAX_COMMIT_SEGMENTS ? `only the newest ${MAX_COMMIT_SEGMENTS} WAL segments were read` : `the WAL before ${names[0]} is missing or on another timeline`;
  return { moments, from: start, partial: why };
}
