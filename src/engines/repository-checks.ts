/**
 * What whole-repository verify (src/ops/verify-repository.ts) asks of the engines, in one place
 * until the engine contract carries it: a MariaDB chain member's own structure and its links, and
 * the time of the newest commit in archived PostgreSQL WAL (pg_waldump).
 */
import { parseSegment, segmentName } from '../pitr/wal-names.js';
import { withPlainSegments } from '../wal/readable.js';
import { lastCommitInSegment } from './postgres/waldump.js';

export { verifyChainLinks, verifyChainMember } from './mysql/chain-verify.js';

/** How far back the newest commit is looked for when the segments just before hold none (an idle server). */
const LOOKBACK = 8;

/**
 * The newest commit at or before the end of each named segment (ISO 8601), walking back through
 * commit-less segments; segments whose copy cannot be read are skipped, never guessed.
 */
export async function lastCommitTimes(repo: string, segments: string[], segmentBytes: number, serverMajor: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of segments) {
    const s = parseSegment(name, segmentBytes);
    if (!s) continue;
    for (let segNo = s.segNo; segNo >= Math.max(0, s.segNo - LOOKBACK); segNo--) {
      const here = segmentName({ timeline: s.timeline, segNo }, segmentBytes);
      // withPlainSegments numbers segments as 16 MiB ones do: only names that numbering gives can be read.
      const legacy = parseSegment(here)!;
      if (segmentName(legacy) !== here) break;
      let at: Date | undefined;
      try {
        at = (await withPlainSegments(repo, s.timeline, [legacy.segNo], (dir) => lastCommitInSegment(dir, here, here, serverMajor)))?.at;
      } catch {
        break;
      }
      if (at) {
        out.set(name, at.toISOString());
        break;
      }
    }
  }
  return out;
}
