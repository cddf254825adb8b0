import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';
import { dateOf, parsePgTimestamp, type Micros } from '../../pitr/micros.js';

// "… lsn: 0/01CE9410, prev 0/01CE93D0, desc: COMMIT 2026-11-25 18:03:38.217919 UTC; …"
const COMMIT = /lsn: ([0-9A-F]+\/[0-9A-F]+),.*desc: COMMIT(?:_PREPARED \d+:)? (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) UTC/;

export interface CommitRecord {
  lsn: string;
  at: Date;
  /** The commit time to the microsecond, as recorded. */
  micros: Micros;
}

/** The last commit in `pg_waldump --rmgr Transaction` output (run with TZ=UTC). */
export function lastCommitInDump(text: string): CommitRecord | undefined {
  let last: CommitRecord | undefined;
  for (const line of text.split('\n')) {
    const m = COMMIT.exec(line);
    if (m) {
      const micros = parsePgTimestamp(`${m[2]!} UTC`)!;
      last = { lsn: m[1]!, at: dateOf(micros), micros };
    }
  }
  return last;
}

/**
 * The newest commit recorded from segment `first` through `last` (by name), read with pg_waldump
 * from `dir` (which holds them as plain files; pg_waldump reads the segment size from the first
 * one's header). A run ending in a torn record or a missing file makes pg_waldump exit 1 after
 * printing what it could read, which is still valid.
 */
export async function lastCommitInSegment(dir: string, first: string, last = first, serverMajor = 15): Promise<CommitRecord | undefined> {
  const tool = await findTool('pg_waldump', { serverMajor });
  const r = await runTool({
    tool,
    args: ['--path', dir, '--rmgr', 'Transaction', first, last],
    env: { TZ: 'UTC' },
    capture: true,
    okExitCodes: [0, 1],
  });
  return lastCommitInDump(r.stdout);
}

/** Every commit in `pg_waldump --rmgr Transaction` output (run with TZ=UTC), in log order. */
export function commitsInDump(text: string): CommitRecord[] {
  const out: CommitRecord[] = [];
  for (const line of text.split('\n')) {
    const m = COMMIT.exec(line);
    if (m) {
      const micros = parsePgTimestamp(`${m[2]!} UTC`)!;
      out.push({ lsn: m[1]!, at: dateOf(micros), micros });
    }
  }
  return out;
}

/** Every commit recorded in segments `first` … `last` of `dir`, read as lastCommitInSegment reads them. */
export async function commitsInSegments(dir: string, first: string, last: string, serverMajor = 15, signal?: AbortSignal): Promise<CommitRecord[]> {
  const tool = await findTool('pg_waldump', { serverMajor });
  const r = await runTool({
    tool,
    args: ['--path', dir, '--rmgr', 'Transaction', first, last],
    env: { TZ: 'UTC' },
    capture: true,
    okExitCodes: [0, 1],
    ...(signal ? { signal } : {}),
  });
  return commitsInDump(r.stdout);
}
