import { TargetStore } from '../config/store.js';
import type { CommitMoments, CommitRange } from '../engines/contract.js';
import { engineFor } from '../engines/registry.js';

export type { CommitMoments, CommitRange } from '../engines/contract.js';

/** Answers kept, newest last: a window is asked about again each time the picker shows it. */
const CACHE_SIZE = 16;

/**
 * The commit moments of a target's archive inside a range (the restore picker's window), read by
 * the engine (pg_waldump, the binlog walker) and kept per target and range: an archive does not
 * change what it holds for a range that ended, and a window that grew is another range. Reading
 * runs once per range however often it is asked, also while an earlier ask still runs.
 */
export class CommitMomentsCache {
  readonly #answers = new Map<string, Promise<CommitMoments>>();

  constructor(private readonly configDir: string) {}

  read(name: string, range: CommitRange): Promise<CommitMoments> {
    const key = `${name}\n${range.from}\n${range.to}`;
    const known = this.#answers.get(key);
    if (known) return known;
    const answer = (async () => {
      const target = new TargetStore(this.configDir).get(name);
      return (await engineFor(target)).commitMoments(target, range);
    })();
    this.#answers.set(key, answer);
    // A refusal or a failed read is not kept: the next ask tries again.
    answer.catch(() => this.#answers.delete(key));
    while (this.#answers.size > CACHE_SIZE) this.#answers.delete(this.#answers.keys().next().value!);
    return answer;
  }
}
