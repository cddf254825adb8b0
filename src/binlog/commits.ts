import { isGtidEvent, isMetaEvent, type BinlogEvent } from './events.js';

/**
 * Collects the commit moments of a binlog as its events are walked (BinlogWalker's onEvent): each
 * transaction opens with a GTID event, and its commit moment is the header time of its last event
 * (the Xid of a transactional change, the Query of DDL). Header times are whole seconds, all the
 * binlog stores, so several transactions of one second are one moment.
 */
export class CommitCollector {
  readonly #seconds = new Set<number>();
  #open = false;
  #last: number | undefined;

  readonly onEvent = (e: BinlogEvent): void => {
    if (isGtidEvent(e.type)) {
      this.#close();
      this.#open = true;
    } else if (this.#open && !isMetaEvent(e.type)) {
      this.#last = e.ts;
    }
  };

  #close(): void {
    if (this.#open && this.#last !== undefined) this.#seconds.add(this.#last);
    this.#open = false;
    this.#last = undefined;
  }

  /** The moments seen so far (a transaction cut off by the file's end counts, as a replay would apply it whole or not at all from the next file). */
  seconds(): number[] {
    this.#close();
    return [...this.#seconds].sort((a, b) => a - b);
  }
}

/** "2026-11-25T18:25:31Z": a second as the restore target takes it. */
export function isoSecond(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}
