import { readBinlogInventory } from '../../binlog/archive.js';
import { isSealed, scanArchived } from '../../binlog/sealed.js';
import { repositoryIdentity } from '../../crypto/identity.js';
import { CommitCollector, isoSecond } from '../../binlog/commits.js';
import type { Target } from '../../config/target.js';
import type { CommitMoments, CommitRange } from '../contract.js';

/** At most this many bytes of binlog are walked for one answer; a longer range gets its newest part. */
export const MAX_COMMIT_BYTES = 512 * 1024 * 1024;

/**
 * The commit moments inside `range`, from the archived binlogs whose events (index times: opened
 * … last event) overlap it, newest first until MAX_COMMIT_BYTES, each walked once for its
 * transactions (no tool, no row decoding).
 */
export async function mysqlCommitMoments(target: Target, range: CommitRange, signal?: AbortSignal): Promise<CommitMoments> {
  const inv = await readBinlogInventory(target.repo, signal);
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  const overlapping = inv.files.filter((f) => !f.problem && Date.parse(f.lastEventAt ?? f.firstEventAt ?? '') >= from - 1000 && Date.parse(f.firstEventAt ?? '') <= to);
  const read: typeof overlapping = [];
  let bytes = 0;
  for (const f of [...overlapping].reverse()) {
    if (read.length > 0 && bytes + f.size > MAX_COMMIT_BYTES) break;
    read.unshift(f);
    bytes += f.size;
  }
  // Encrypted binlogs without the identity: their commits cannot be read (the index has times only).
  if (read.some(isSealed) && !repositoryIdentity()) return { moments: [], from: range.to, partial: 'the archived binlogs are encrypted with age; give --identity FILE to read their commits' };
  const collector = new CommitCollector();
  for (const f of read) await scanArchived(target.repo, f, signal, collector.onEvent);
  const moments = collector.seconds().filter((s) => s * 1000 >= Math.floor(from / 1000) * 1000 && s * 1000 <= to).map(isoSecond);
  if (read.length === overlapping.length) return { moments, from: range.from };
  return { moments, from: read[0]?.firstEventAt ?? range.to, partial: `only the newest ${read.length} binlog file(s) were read` };
}
