import type { ArchivedBinlog } from './archive.js';
import { checkArchivedBinlog } from './integrity.js';
import { ReplaySimulator, type ExpectedEnd, type StopRule, type Transaction } from './simulate.js';

/** The transactions kept for a list on screen; more are only counted. */
const LISTED = 100;

export interface ReplayLook {
  /** The first file that is not intact (then nothing else is known). */
  damaged?: { file: string; problem: string };
  /** Where a replay by `rule` ends. */
  end?: ExpectedEnd;
  /**
   * With `second`: where a replay ends that stops before that second (exclusive) and before the
   * next one (inclusive), and the transactions in between — those only the inclusive one applies —
   * of the replayed schema.
   */
  second?: { exclusive: ExpectedEnd; inclusive: ExpectedEnd; transactions: Transaction[]; more: number };
}

/**
 * Reads the binlogs a replay will read, once, before it runs: each is checked against the record
 * of it archiving made (src/binlog/integrity.ts), and its events are followed the way
 * mariadb-binlog will follow them (src/binlog/simulate.ts), which gives the point the replay must
 * reach. `schema` limits the list of transactions to those the replay applies (a logical backup's
 * replay keeps to its schema); `second` asks which transactions a stop inside that second decides.
 */
export async function expectReplay(
  repo: string,
  files: ArchivedBinlog[],
  startPosition: number,
  opts: { rule: StopRule; schema?: string; second?: Date; signal?: AbortSignal },
): Promise<ReplayLook> {
  const names = files.map((f) => f.file);
  const main = new ReplaySimulator(names, startPosition, opts.rule);
  const sims = [main];
  const listed: Transaction[] = [];
  let more = 0;
  let pair: { exclusive: ReplaySimulator; inclusive: ReplaySimulator } | undefined;
  if (opts.second) {
    const exclusive = new ReplaySimulator(names, startPosition, { kind: 'time', at: opts.second });
    // Fed after `exclusive`: a transaction it completes beyond those `exclusive` completes lies in the second.
    const inclusive: ReplaySimulator = new ReplaySimulator(names, startPosition, { kind: 'time', at: new Date(opts.second.getTime() + 1000) }, (t) => {
      if (inclusive.transactions <= exclusive.transactions) return;
      if (opts.schema !== undefined && !t.schemas.includes(opts.schema)) return;
      if (listed.length < LISTED) listed.push(t);
      else more++;
    });
    pair = { exclusive, inclusive };
    sims.push(exclusive, inclusive);
  }
  for (const [i, f] of files.entries()) {
    for (const s of sims) s.beginFile(i);
    const check = await checkArchivedBinlog(repo, f, (e) => sims.forEach((s) => s.event(e)), { bodies: pair !== undefined, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (check.problem !== undefined) return { damaged: { file: f.file, problem: check.problem } };
    for (const s of sims) s.endFile(check.scan.validBytes);
  }
  return {
    end: main.result(),
    ...(pair ? { second: { exclusive: pair.exclusive.result(), inclusive: pair.inclusive.result(), transactions: listed, more } } : {}),
  };
}
