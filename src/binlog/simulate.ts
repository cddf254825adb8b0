import { isGtidEvent, isMetaEvent, type BinlogEvent } from './events.js';
import { isTransactionMarker, shortStatement, statementFacts } from './statements.js';

/**
 * What a replay of archived binlogs will apply, worked out from the files' own events before the
 * replay runs, by following the rules mariadb-binlog follows:
 *
 *   - it reads the first file from --start-position on, and every later file whole;
 *   - --stop-datetime T stops it at the first event whose header time is T or later (in any file);
 *   - --stop-position P stops it at the first event of the last file that starts at P or later;
 *   - otherwise it reads to the end of the last file.
 *
 * A transaction runs from its GTID event to the next boundary (the next GTID event, an event of
 * the file itself, or the file's end): a stop that cuts one leaves it out (the tool ends with a
 * ROLLBACK). The result is the promise a replay is held to afterwards (src/binlog/reached.ts).
 */
export type StopRule =
  | { kind: 'end' }
  /** Stop at the first event stamped at or after this moment (whole seconds). */
  | { kind: 'time'; at: Date }
  /** Stop at the first event of the last file starting at or after this offset. */
  | { kind: 'position'; position: number };

export interface ReplayPoint {
  file: string;
  position: number;
}

export interface Transaction {
  gtid: string;
  /** Header time of its GTID event (whole seconds; MariaDB stamps it at commit). */
  at: string;
  file: string;
  start: number;
  end: number;
  /** Schemas its events are applied in (what mariadb-binlog --database filters by). */
  schemas: string[];
  /** Its first statement, shortened (src/binlog/statements.ts), when the events carried one. */
  statement?: string;
}

export interface ExpectedEnd {
  /** The last transaction the replay applies whole; absent when none follows the start. */
  last?: { gtid: string; at: string; file: string; end: number };
  /** The last GTID event the tool prints: that of `last`, unless the stop cuts a transaction. */
  lastGtid?: string;
  /** Where the tool stops: before the event here, or at the end of the last file (toEnd). */
  stop: ReplayPoint;
  toEnd: boolean;
  /** Transactions applied whole. */
  transactions: number;
}

interface Open {
  gtid: string;
  ts: number;
  file: string;
  start: number;
  schemas: Set<string>;
  statement?: string;
}

export class ReplaySimulator {
  #file = -1;
  #open: Open | undefined;
  #stop: ReplayPoint | undefined;
  #last: ExpectedEnd['last'];
  #lastGtid: string | undefined;
  #count = 0;
  #end: ReplayPoint | undefined;

  /** onComplete sees each transaction the replay applies whole, in order. */
  constructor(
    private readonly files: string[],
    private readonly startPosition: number,
    private readonly rule: StopRule,
    private readonly onComplete?: (t: Transaction) => void,
  ) {}

  get stopped(): boolean {
    return this.#stop !== undefined;
  }

  get transactions(): number {
    return this.#count;
  }

  beginFile(index: number): void {
    this.#file = index;
  }

  event(e: BinlogEvent): void {
    if (this.#stop || this.#file < 0) return;
    if (this.#file === 0 && e.start < this.startPosition) return;
    const boundary = isGtidEvent(e.type) || isMetaEvent(e.type);
    const file = this.files[this.#file]!;
    if (this.#stops(e)) {
      if (boundary) this.#close(e.start);
      this.#open = undefined;
      this.#stop = { file, position: e.start };
      return;
    }
    if (boundary) this.#close(e.start);
    if (isGtidEvent(e.type) && e.gtid !== undefined) {
      this.#open = { gtid: e.gtid, ts: e.ts, file, start: e.start, schemas: new Set() };
      this.#lastGtid = e.gtid;
    } else if (!boundary && this.#open && e.body) {
      const f = statementFacts(e.type, e.body);
      const marker = f.sql !== undefined && isTransactionMarker(f.sql);
      if (f.schema && !marker) this.#open.schemas.add(f.schema);
      if (f.sql !== undefined && !marker && this.#open.statement === undefined) this.#open.statement = shortStatement(f.sql);
    }
  }

  /** Call with the offset past the file's last event once all of its events were given. */
  endFile(validBytes: number): void {
    if (this.#stop) return;
    this.#close(validBytes);
    this.#end = { file: this.files[this.#file]!, position: validBytes };
  }

  result(): ExpectedEnd {
    const stop = this.#stop ?? this.#end ?? { file: this.files[0] ?? '', position: this.startPosition };
    return {
      ...(this.#last ? { last: this.#last } : {}),
      ...(this.#lastGtid ? { lastGtid: this.#lastGtid } : {}),
      stop,
      toEnd: this.#stop === undefined,
      transactions: this.#count,
    };
  }

  #stops(e: BinlogEvent): boolean {
    const r = this.rule;
    if (r.kind === 'time') return e.ts * 1000 >= r.at.getTime();
    if (r.kind === 'position') return this.#file === this.files.length - 1 && e.start >= r.position;
    return false;
  }

  #close(at: number): void {
    const t = this.#open;
    if (!t) return;
    this.#open = undefined;
    const done: Transaction = {
      gtid: t.gtid, at: new Date(t.ts * 1000).toISOString(), file: t.file, start: t.start, end: at, schemas: [...t.schemas],
      ...(t.statement !== undefined ? { statement: t.statement } : {}),
    };
    this.#count++;
    this.#last = { gtid: done.gtid, at: done.at, file: done.file, end: at };
    this.onComplete?.(done);
  }
}
