import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { once } from 'node:events';

/**
 * A mariadb-dump / mysqldump file is a sequence of sections, each opened by a comment block:
 *
 *   --
 *   -- Table structure for table `customers`
 *   --
 *
 * Data lines never look like these (rows are INSERT statements or "(…)," continuation lines with
 * every newline inside a value escaped), so a line-by-line state machine can tell which table a
 * line belongs to while streaming, without holding the dump in memory. Lines are handled as bytes:
 * a dump is not guaranteed to be valid UTF-8, and restores must be byte-exact.
 */
export type Marker =
  | { kind: 'table-structure' | 'table-data' | 'view-temp' | 'view-final'; name: string }
  | { kind: 'events' | 'routines'; schema: string };

const NAMED_RE =
  /^-- (Table structure for table|Dumping data for table|Temporary table structure for view|Temporary view structure for view|Final view structure for view) `((?:[^`]|``)+)`\s*$/;
const SCHEMA_RE = /^-- Dumping (events|routines) for database '(.*)'\s*$/;
// Written by the dump around triggers, events and routines whose stored collation differs from
// the schema's: it names the *source* schema, which a restore under another name must not touch.
const ALTER_DB_RE = /^ALTER DATABASE `((?:[^`]|``)+)`( CHARACTER SET .*)$/;

export function parseMarker(line: string): Marker | undefined {
  const m = NAMED_RE.exec(line);
  if (m) {
    const name = m[2]!.replace(/``/g, '`');
    const kind =
      m[1] === 'Table structure for table' ? 'table-structure'
        : m[1] === 'Dumping data for table' ? 'table-data'
          : m[1] === 'Final view structure for view' ? 'view-final'
            : 'view-temp';
    return { kind, name };
  }
  const s = SCHEMA_RE.exec(line);
  if (s) return { kind: s[1] === 'events' ? 'events' : 'routines', schema: s[2]! };
  return undefined;
}

/** The section a line belongs to: the head (before any marker), a table's, or something else. */
export type Section = { kind: 'head' } | { kind: 'table'; name: string } | { kind: 'events' } | { kind: 'other' };

function sectionOf(m: Marker): Section {
  if (m.kind === 'table-structure' || m.kind === 'table-data') return { kind: 'table', name: m.name };
  return m.kind === 'events' ? { kind: 'events' } : { kind: 'other' };
}

// An event's definition as SHOW CREATE EVENT prints it (the dump's line), up to its status clause:
// "/*!50106 CREATE*/ /*!50117 DEFINER=…*/ /*!50106 EVENT `e` ON SCHEDULE … ON COMPLETION NOT PRESERVE ENABLE DO …"
// The status always follows "PRESERVE", before DO and the body, so its first match is the clause.
const EVENT_ENABLED_RE = /^(\/\*!50106 CREATE\*\/ .*? ON COMPLETION (?:NOT )?PRESERVE) ENABLE\b/;

/** Lines longer than this are data (markers and ALTER DATABASE lines are short): never buffered whole. */
const MAX_LINE_HEAD = 8192;

export interface LineSink {
  /** A whole line (with its newline, if any) of at most MAX_LINE_HEAD bytes, or the start of a longer one. */
  line(bytes: Buffer, complete: boolean): void;
  /** The rest of a long line, passed through in pieces. */
  rest(bytes: Buffer): void;
}

/** Splits a byte stream into lines for a LineSink, holding at most MAX_LINE_HEAD bytes. */
export class LineSplitter {
  #held: Buffer[] = [];
  #heldLen = 0;
  #inLong = false;

  constructor(private readonly sink: LineSink) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl + 1;
      const piece = chunk.subarray(start, end);
      start = end;
      if (this.#inLong) {
        this.sink.rest(piece);
        if (nl >= 0) this.#inLong = false;
        continue;
      }
      this.#held.push(piece);
      this.#heldLen += piece.length;
      if (nl >= 0) {
        this.sink.line(this.#take(), true);
      } else if (this.#heldLen > MAX_LINE_HEAD) {
        this.sink.line(this.#take(), false);
        this.#inLong = true;
      }
    }
  }

  end(): void {
    if (this.#heldLen > 0) this.sink.line(this.#take(), true);
  }

  #take(): Buffer {
    const b = this.#held.length === 1 ? Buffer.from(this.#held[0]!) : Buffer.concat(this.#held);
    this.#held = [];
    this.#heldLen = 0;
    return b;
  }
}

function text(line: Buffer): string {
  return line.toString('utf8').replace(/\r?\n$/, '');
}

export interface DumpFilterOptions {
  /** Keep only this table's sections (structure, data, triggers) and the head. */
  table?: string;
  /** Rewrite the dump's ALTER DATABASE lines from the source schema to the restore's. */
  renameSchema?: { from: string; to: string };
  /**
   * Create events DISABLED: a restored copy must not start acting on its own (an event may write
   * into other schemas, the source's included) the moment it is created.
   */
  disableEvents?: boolean;
}

/**
 * Passes a dump through, keeping what a restore needs: everything, or only the head and one
 * table's sections; ALTER DATABASE lines naming the source schema are rewritten to the new one.
 */
export class DumpFilter implements LineSink {
  #section: Section = { kind: 'head' };
  #keepLong = false;
  /** Tables whose sections were seen (and, with a table filter, written). */
  readonly tablesSeen = new Set<string>();
  renamed = 0;
  eventsDisabled = 0;

  constructor(private readonly opts: DumpFilterOptions, private readonly write: (b: Buffer) => void) {}

  #keeps(s: Section): boolean {
    if (this.opts.table === undefined) return true;
    return s.kind === 'head' || (s.kind === 'table' && s.name === this.opts.table);
  }

  line(bytes: Buffer, complete: boolean): void {
    if (complete && bytes[0] === 0x2d /* - */) {
      const m = parseMarker(text(bytes));
      if (m) {
        this.#section = sectionOf(m);
        if (this.#section.kind === 'table') this.tablesSeen.add(this.#section.name);
      }
    }
    const keep = this.#keeps(this.#section);
    this.#keepLong = keep && !complete;
    if (!keep) return;
    if (this.opts.disableEvents && this.#section.kind === 'events' && bytes[0] === 0x2f /* / */) {
      const head = bytes.subarray(0, Math.min(bytes.length, MAX_LINE_HEAD)).toString('latin1');
      const e = EVENT_ENABLED_RE.exec(head);
      if (e) {
        // latin1 maps bytes 1:1, so the prefix's length in characters is its length in bytes.
        this.eventsDisabled++;
        this.write(Buffer.concat([bytes.subarray(0, e[1]!.length), Buffer.from(' DISABLE'), bytes.subarray(e[0].length)]));
        if (!complete) this.#keepLong = true;
        return;
      }
    }
    if (complete && this.opts.renameSchema && bytes[0] === 0x41 /* A */) {
      const a = ALTER_DB_RE.exec(text(bytes));
      if (a && a[1]!.replace(/``/g, '`') === this.opts.renameSchema.from) {
        this.renamed++;
        const nl = bytes.subarray(bytes.length - (bytes[bytes.length - 1] === 10 ? 1 : 0));
        this.write(Buffer.concat([Buffer.from(`ALTER DATABASE \`${this.opts.renameSchema.to.replace(/`/g, '``')}\`${a[2]}`), nl]));
        return;
      }
    }
    this.write(bytes);
  }

  rest(bytes: Buffer): void {
    if (this.#keepLong) this.write(bytes);
  }
}

export interface DumpScan {
  /** Tables in the order the dump holds them, with which of their sections are present. */
  tables: { name: string; structure: boolean; data: boolean }[];
  views: string[];
  /** ALTER DATABASE lines naming `schema` (a restore under another name must rewrite them). */
  alterSchemaLines: number;
  /** Events the dump creates ENABLED. */
  enabledEvents: number;
  completed: boolean;
  bytes: number;
}

/** What a dump holds, from one streaming pass. */
export class DumpScanner implements LineSink {
  #tables = new Map<string, { name: string; structure: boolean; data: boolean }>();
  #views = new Set<string>();
  #alter = 0;
  #events = 0;
  #inEvents = false;
  #last = '';
  #bytes = 0;

  constructor(private readonly schema?: string) {}

  line(bytes: Buffer, complete: boolean): void {
    this.#bytes += bytes.length;
    if (this.#inEvents && bytes[0] === 0x2f && EVENT_ENABLED_RE.test(bytes.toString('latin1'))) this.#events++;
    if (!complete) {
      this.#last = '';
      return;
    }
    const t = text(bytes);
    if (t !== '') this.#last = t;
    if (bytes[0] === 0x2d) {
      const m = parseMarker(t);
      if (m) this.#inEvents = m.kind === 'events';
      if (m && (m.kind === 'table-structure' || m.kind === 'table-data')) {
        const e = this.#tables.get(m.name) ?? { name: m.name, structure: false, data: false };
        if (m.kind === 'table-structure') e.structure = true;
        else e.data = true;
        this.#tables.set(m.name, e);
      } else if (m && (m.kind === 'view-temp' || m.kind === 'view-final')) this.#views.add(m.name);
    } else if (bytes[0] === 0x41 && this.schema !== undefined) {
      const a = ALTER_DB_RE.exec(t);
      if (a && a[1]!.replace(/``/g, '`') === this.schema) this.#alter++;
    }
  }

  rest(bytes: Buffer): void {
    this.#bytes += bytes.length;
  }

  result(): DumpScan {
    return {
      tables: [...this.#tables.values()],
      views: [...this.#views],
      alterSchemaLines: this.#alter,
      enabledEvents: this.#events,
      completed: /^-- Dump completed\b/.test(this.#last),
      bytes: this.#bytes,
    };
  }
}

async function pump(path: string, sink: LineSink, signal?: AbortSignal): Promise<void> {
  const splitter = new LineSplitter(sink);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) splitter.push(chunk as Buffer);
  splitter.end();
}

/** Reads a dump once and reports its sections (for verify and to plan a restore). */
export async function scanDump(path: string, schema?: string, signal?: AbortSignal): Promise<DumpScan> {
  const scanner = new DumpScanner(schema);
  await pump(path, scanner, signal);
  return scanner.result();
}

/** Writes a filtered copy of a dump (mode 0600); see DumpFilter. */
export async function filterDump(src: string, dest: string, opts: DumpFilterOptions, signal?: AbortSignal): Promise<{ tablesSeen: string[]; renamed: number; eventsDisabled: number }> {
  const out = createWriteStream(dest, { mode: 0o600, flags: 'wx' });
  const failed = once(out, 'error').then(([e]) => { throw e as Error; });
  failed.catch(() => {});
  let pending: Buffer[] = [];
  let pendingLen = 0;
  const flush = async () => {
    if (pendingLen === 0) return;
    const buf = Buffer.concat(pending);
    pending = [];
    pendingLen = 0;
    if (!out.write(buf)) await Promise.race([once(out, 'drain'), failed]);
  };
  const filter = new DumpFilter(opts, (b) => {
    pending.push(b);
    pendingLen += b.length;
  });
  const splitter = new LineSplitter(filter);
  try {
    for await (const chunk of createReadStream(src, { highWaterMark: 1 << 20, signal })) {
      splitter.push(chunk as Buffer);
      if (pendingLen >= 1 << 20) await flush();
    }
    splitter.end();
    await flush();
    out.end();
    await Promise.race([once(out, 'close'), failed]);
  } catch (e) {
    out.destroy();
    throw e;
  }
  return { tablesSeen: [...filter.tablesSeen], renamed: filter.renamed, eventsDisabled: filter.eventsDisabled };
}

/**
 * filterDump on a stream, for a dump that may only exist decrypted in memory (an encrypted
 * repository): the kept lines flow on into the client, and nothing is written to disk.
 */
export function filterDumpStream(input: AsyncIterable<Buffer>, opts: DumpFilterOptions): { output: Readable; filter: DumpFilter } {
  const pending: Buffer[] = [];
  const filter = new DumpFilter(opts, (b) => pending.push(b));
  const splitter = new LineSplitter(filter);
  async function* lines(): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      splitter.push(chunk);
      if (pending.length) yield Buffer.concat(pending.splice(0));
    }
    splitter.end();
    if (pending.length) yield Buffer.concat(pending.splice(0));
  }
  return { output: Readable.from(lines()), filter };
}
