/**
 * Whole-repository verify, the pure part: given what the archive holds (WAL segments per timeline,
 * or binlogs per base name), which of those files failed their check, and which backups replay
 * which files, say which archive ranges are intact, which are missing or damaged, which backups
 * each broken range stops, and which part of the recoverable window it takes away.
 *
 * An archive is a set of lines (a PostgreSQL timeline, a binlog base name): numbered files that a
 * replay reads in order. A replay (one backup along one timeline path) needs every file from its
 * start to the end of the archive; the first one missing or damaged is where it stops.
 */

/** One numbered file of a line as the check found it. */
export interface ArchiveItem {
  /** The file's name (a WAL segment name, a binlog file name). */
  key: string;
  n: number;
  /** Absent: intact. */
  problem?: 'missing' | 'damaged';
  /** Why it is damaged (missing files need no reason). */
  reason?: string;
}

export interface ArchiveLine {
  /** "timeline 1", "binlog mysql-bin". */
  label: string;
  /** PostgreSQL timeline; 0 for binlogs. */
  timeline: number;
  /** Every number from the first to the last, gaps filled in as missing. */
  items: ArchiveItem[];
}

/** What a line holds: the files present (n → key), the damaged ones (n → reason). */
export interface LineInput {
  label: string;
  timeline: number;
  present: Map<number, string>;
  damaged: Map<number, string>;
  /** Numbers known to belong to the line although no file is there (an index's record, a backup's start). */
  expected?: number[];
  /** The name a missing number would have. */
  nameOf: (n: number) => string;
}

/** The line from its lowest to its highest number (present, damaged or expected), gaps marked missing. */
export function buildLine(input: LineInput): ArchiveLine {
  const ns = [...input.present.keys(), ...input.damaged.keys(), ...(input.expected ?? [])];
  if (ns.length === 0) return { label: input.label, timeline: input.timeline, items: [] };
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  const items: ArchiveItem[] = [];
  for (let n = lo; n <= hi; n++) {
    const key = input.present.get(n) ?? input.nameOf(n);
    const reason = input.damaged.get(n);
    if (reason !== undefined) items.push({ key, n, problem: 'damaged', reason });
    else if (input.present.has(n)) items.push({ key, n });
    else items.push({ key, n, problem: 'missing' });
  }
  return { label: input.label, timeline: input.timeline, items };
}

/** One backup replaying the archive along one path (PostgreSQL: one timeline it can follow). */
export interface Replay {
  backup: string;
  /** The timeline it follows (0 for binlogs). */
  timeline: number;
  /** Its earliest restorable moment (ISO 8601). */
  from: string;
  /** The files it reads, in order, from its start to the end of the archive along its path. */
  needs: string[];
}

/** A stretch of one line with one state. */
export interface ArchiveRange {
  line: string;
  timeline: number;
  first: string;
  last: string;
  count: number;
  status: 'ok' | 'missing' | 'damaged';
  /** False for a missing or damaged range; a missing range no backup needs is still reported, and ok. */
  ok: boolean;
  reason: string;
  /** The backups whose replay needs a file of this range (a broken range stops each of them here). */
  breaks: string[];
  /** The part of the recoverable window no backup reaches because of this range. */
  lost?: LostWindow;
}

export interface LostWindow {
  /** The last commit replay reaches before the range (ISO), when known. */
  from?: string;
  /** Where restores are possible again: the next backup that does not need the range (ISO), or the archive's end. */
  to?: string;
  /** That backup, when there is one; absent: nothing after the range is recoverable. */
  untilBackup?: string;
  /** The file replay last reads before the range. */
  afterFile?: string;
  words: string;
}

export interface ReplayOutcome {
  backup: string;
  timeline: number;
  ok: boolean;
  /** The file replay starts with, the last it reaches, and the archive's last on its path. */
  start?: string;
  reaches?: string;
  end?: string;
  /** The first file it cannot read. */
  stopsAt?: string;
  reason: string;
}

export interface ArchivePlan {
  ranges: ArchiveRange[];
  replays: ReplayOutcome[];
}

/** The files whose newest commit time the window words need: the one before each broken range, and each line's last. */
export function timeQuestions(lines: ArchiveLine[]): string[] {
  const keys = new Set<string>();
  for (const line of lines) {
    const items = line.items;
    for (let i = 0; i < items.length; i++) {
      if (items[i]!.problem && (i === 0 || !items[i - 1]!.problem)) {
        const before = lastIntactBefore(items, i);
        if (before) keys.add(before.key);
      }
    }
    const last = [...items].reverse().find((x) => !x.problem);
    if (last) keys.add(last.key);
  }
  return [...keys];
}

function lastIntactBefore(items: ArchiveItem[], i: number): ArchiveItem | undefined {
  for (let k = i - 1; k >= 0; k--) if (!items[k]!.problem) return items[k];
  return undefined;
}

/**
 * Runs of one state: intact files grouped, missing files grouped, each damaged file on its own
 * (its reason is its own). A missing run is split where a replay starts, so the part before every
 * backup's start (needed by none) is told from the part a backup needs.
 */
function runsOf(line: ArchiveLine, starts: Set<string>): ArchiveItem[][] {
  const runs: ArchiveItem[][] = [];
  for (const item of line.items) {
    const cur = runs.at(-1);
    const same = cur && cur[0]!.problem === item.problem && item.problem !== 'damaged' && !(item.problem && starts.has(item.key));
    if (same) cur.push(item);
    else runs.push([item]);
  }
  return runs;
}

const fmt = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The verdict on the archive. `commitAt(key)` answers the newest commit time at or before the end
 * of an intact file (from pg_waldump or the binlog index), or undefined when none is known;
 * `fileWord` names a file in sentences ("segment", "binlog").
 */
export function planArchive(lines: ArchiveLine[], replays: Replay[], commitAt: (key: string) => string | undefined, fileWord: string): ArchivePlan {
  const state = new Map<string, ArchiveItem>();
  for (const line of lines) for (const item of line.items) state.set(item.key, item);

  const outcomes: ReplayOutcome[] = replays.map((r) => {
    const idx = r.needs.findIndex((k) => state.get(k)?.problem !== undefined || !state.has(k));
    const start = r.needs[0];
    const end = r.needs.at(-1);
    const on = r.timeline ? ` on timeline ${r.timeline}` : '';
    if (r.needs.length === 0) return { backup: r.backup, timeline: r.timeline, ok: true, reason: `needs no archived ${fileWord} yet${on} (the archive ends before its start)` };
    if (idx < 0) {
      return { backup: r.backup, timeline: r.timeline, ok: true, start, reaches: end, end, reason: `replays ${plural(r.needs.length, fileWord)} from ${start} to the end of the archive, ${end}${on}` };
    }
    const bad = r.needs[idx]!;
    const item = state.get(bad);
    const what = item?.problem === 'damaged' ? `damaged (${item.reason})` : 'missing';
    const reaches = idx > 0 ? r.needs[idx - 1] : undefined;
    const at = reaches ? commitAt(reaches) : undefined;
    return {
      backup: r.backup,
      timeline: r.timeline,
      ok: false,
      start,
      ...(reaches ? { reaches } : {}),
      end,
      stopsAt: bad,
      reason:
        `replay stops at ${fileWord} ${bad}, which is ${what}` +
        (reaches ? `: it reaches ${reaches}${at ? ` (last commit ${fmt(at)})` : ''}` : ': it cannot replay any archived change') +
        `, not the archive's end ${end}${on}`,
    };
  });

  const starts = new Set(replays.flatMap((r) => r.needs.slice(0, 1)));
  const ranges: ArchiveRange[] = [];
  for (const line of lines) {
    const lastIntact = [...line.items].reverse().find((x) => !x.problem);
    const archiveEndAt = lastIntact ? commitAt(lastIntact.key) : undefined;
    for (const run of runsOf(line, starts)) {
      const first = run[0]!;
      const last = run.at(-1)!;
      const keys = new Set(run.map((x) => x.key));
      const needing = replays.filter((r) => r.needs.some((k) => keys.has(k)));
      const breaks = [...new Set(needing.map((r) => r.backup))];
      const base = { line: line.label, timeline: line.timeline, first: first.key, last: last.key, count: run.length };
      if (!first.problem) {
        ranges.push({ ...base, status: 'ok', ok: true, reason: `${plural(run.length, `${fileWord}`)} present and intact`, breaks: [] });
        continue;
      }
      const what = first.problem === 'damaged' ? `${fileWord} ${first.key} is damaged: ${first.reason}` : run.length === 1 ? `${fileWord} ${first.key} is missing` : `${plural(run.length, fileWord)} ${first.key} … ${last.key} are missing`;
      if (breaks.length === 0) {
        // Nothing replays through it: WAL older than every backup's start (damage is still damage).
        const ok = first.problem === 'missing';
        ranges.push({ ...base, status: first.problem, ok, reason: `${what}; no backup needs it (it lies before every backup's start)`, breaks });
        continue;
      }
      const lost = lostWindow(line, first, replays, keys, commitAt, archiveEndAt, fileWord);
      const stopped = breaks.length === 1 ? `backup ${breaks[0]}` : `backups ${breaks.join(', ')}`;
      ranges.push({ ...base, status: first.problem, ok: false, reason: `${what}; it stops the replay of ${stopped}; ${lost.words}`, breaks, lost });
    }
  }
  return { ranges, replays: outcomes };
}

function lostWindow(
  line: ArchiveLine,
  first: ArchiveItem,
  replays: Replay[],
  keys: Set<string>,
  commitAt: (key: string) => string | undefined,
  archiveEndAt: string | undefined,
  fileWord: string,
): LostWindow {
  const before = lastIntactBefore(line.items, line.items.indexOf(first));
  const from = before ? commitAt(before.key) : undefined;
  const lastKey = line.items.at(-1)!.key;
  // The next backup that does not replay through the range and starts after it.
  const startN = (r: Replay) => line.items.find((x) => x.key === r.needs[0])?.n;
  const after = replays
    .filter((r) => !r.needs.some((k) => keys.has(k)))
    .filter((r) => (from ? Date.parse(r.from) > Date.parse(from) : (startN(r) ?? -Infinity) > first.n))
    .sort((a, b) => Date.parse(a.from) - Date.parse(b.from))[0];
  const fromWords = from ? `from ${fmt(from)} (the last commit in ${before!.key})` : before ? `from the end of ${fileWord} ${before.key}` : `from the start of ${line.label}`;
  if (after) {
    return {
      ...(from ? { from } : {}),
      to: after.from,
      untilBackup: after.backup,
      ...(before ? { afterFile: before.key } : {}),
      words: `no restore reaches ${fromWords} to ${fmt(after.from)}, where backup ${after.backup} starts`,
    };
  }
  return {
    ...(from ? { from } : {}),
    ...(archiveEndAt ? { to: archiveEndAt } : {}),
    ...(before ? { afterFile: before.key } : {}),
    words: `no restore reaches past it: everything ${fromWords} to the archive's end (${lastKey}${archiveEndAt ? `, last commit ${fmt(archiveEndAt)}` : ''}) is lost unless the file is put back`,
  };
}
