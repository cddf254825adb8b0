/**
 * What whole-repository verify (src/ops/verify-repository.ts) asks of the engines, in one place
 * until the engine contract carries it: a MariaDB chain member's own structure and its links, and
 * the time of the newest commit in archived PostgreSQL WAL and the records that fail their CRC (pg_waldump).
 */
import { parseSegment, segmentName, segmentOfLsn } from '../pitr/wal-names.js';
import { NoKeyForWal, withPlainSegments } from '../wal/readable.js';
import { firstBadRecord } from './postgres/wal-records.js';
import { lastCommitInSegment } from './postgres/waldump.js';

export { verifyChainLinks, verifyChainMember } from './mysql/chain-verify.js';
export { archiveSegmentBytes } from './postgres/pitr.js';

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

/** Consecutive segments pg_waldump reads in one run (each run re-reads the last segment of the one before). */
const RECORD_CHUNK = 16;

/**
 * Segments of one timeline (a consecutive run of intact archived copies, by number) holding a
 * WAL record whose CRC fails: damage from before the push, which the archive's checksums cannot
 * see. Runs of RECORD_CHUNK segments overlap by one, so a record that crosses from one run into
 * the next is read whole; after a damaged record the check goes on with the next segment.
 */
export async function walRecordFaults(
  repo: string,
  timeline: number,
  segNos: number[],
  segmentBytes: number,
  serverMajor: number,
  onRun?: (done: number) => void,
  signal?: AbortSignal,
): Promise<{ segNo: number; reason: string }[]> {
  const faults: { segNo: number; reason: string }[] = [];
  let i = 0;
  while (i < segNos.length) {
    const chunk = segNos.slice(i, i + RECORD_CHUNK);
    const names = chunk.map((segNo) => segmentName({ timeline, segNo }, segmentBytes));
    const legacy = names.map((n) => parseSegment(n)!);
    // withPlainSegments numbers segments as 16 MiB ones do: a run it cannot name is not read.
    if (legacy.some((s, k) => segmentName(s) !== names[k])) break;
    let lsn: string | undefined;
    try {
      lsn = await withPlainSegments(repo, timeline, legacy.map((s) => s.segNo), (dir) => firstBadRecord(dir, names[0]!, names.at(-1)!, serverMajor, signal));
    } catch (e) {
      // Encrypted, no key: the stored sha256 (checked without one) covers damage at rest.
      if (e instanceof NoKeyForWal) break;
      throw e;
    }
    if (lsn) {
      const bad = segmentOfLsn(timeline, lsn, segmentBytes).segNo;
      faults.push({ segNo: bad, reason: `its WAL record at ${lsn} fails its CRC check (pg_waldump): the segment was damaged before it was archived, and recovery would stop there as if the WAL ended` });
      const k = segNos.indexOf(bad);
      i = k >= i ? k + 1 : i + 1;
    } else {
      i += chunk.length > 1 && i + chunk.length < segNos.length ? chunk.length - 1 : chunk.length;
    }
    onRun?.(Math.min(i, segNos.length));
  }
  return faults;
}
