import type { Verification } from '../../../repo/manifest.js';
import { findGaps, type WalInventory } from '../../../pitr/inventory.js';
import { parseSegment, segmentName } from '../../../pitr/wal-names.js';
import type { EngineContext } from '../../context.js';
import type { RunEvent } from '../../../runner/run.js';
import { forwardToolEvents } from '../../tool-events.js';
import { archiveIdDir, readPgbackrestInventory, storedSegment } from './archive.js';
import { catalogRows, type Damage, type PgbackrestBackupRow } from './catalog.js';
import { runPgbackrest, type Pgbackrest } from './command.js';
import { currentArchiveId } from './info.js';
import { readStanzaInfo } from './stanza.js';

export interface VerifyCounts {
  checked: number;
  valid: number;
  missing: number;
  checksumInvalid: number;
  sizeInvalid: number;
  other: number;
}

/** `pgbackrest verify --output=text --verbose` as data. */
export interface VerifyReport {
  status: string;
  archives: ({ archiveId: string } & VerifyCounts)[];
  backups: ({ label: string; status: string } & VerifyCounts)[];
}

/** A file pgBackRest verify named on stderr (log level info). */
export interface VerifyProblem {
  kind: 'missing' | 'checksum' | 'size' | 'other';
  /** As pgBackRest names it: <label>/pg_data/… or <archive id>/<dir>/<segment>-<sha1>.zst. */
  path: string;
  backup?: string;
  segment?: string;
  detail?: string;
}

const counts = (text: string): Partial<VerifyCounts> => {
  const out: Partial<VerifyCounts> = {};
  const pick = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const set = (k: keyof VerifyCounts, v: number | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('checked', pick(/total (?:WAL|files) checked: (\d+)/));
  set('valid', pick(/total valid (?:WAL|files): (\d+)/));
  set('missing', pick(/missing: (\d+)/));
  set('checksumInvalid', pick(/checksum invalid: (\d+)/));
  set('sizeInvalid', pick(/size invalid: (\d+)/));
  set('other', pick(/other: (\d+)/));
  return out;
};
const ZERO: VerifyCounts = { checked: 0, valid: 0, missing: 0, checksumInvalid: 0, sizeInvalid: 0, other: 0 };

/**
 * Reads the text report. pgBackRest 2.45 exits 0 even when it found damage, so this report (and
 * the problem lines) is the only verdict; see fixtures/pgbackrest/verify-*.
 */
export function parseVerifyReport(stdout: string): VerifyReport {
  const report: VerifyReport = { status: 'unknown', archives: [], backups: [] };
  let last: VerifyCounts | undefined;
  for (const line of stdout.split('\n')) {
    let m = /^status: (\S+)/.exec(line);
    if (m) {
      report.status = m[1]!;
      continue;
    }
    m = /^\s+archiveId: ([^,\s]+),(.*)$/.exec(line);
    if (m) {
      const a = { archiveId: m[1]!, ...ZERO, ...counts(m[2]!) };
      report.archives.push(a);
      last = a;
      continue;
    }
    m = /^\s+backup: ([^,\s]+), status: ([^,\s]+),(.*)$/.exec(line);
    if (m) {
      const b = { label: m[1]!, status: m[2]!, ...ZERO, ...counts(m[3]!) };
      report.backups.push(b);
      last = b;
      continue;
    }
    if (last && /^\s+(missing|checksum invalid|size invalid|other):/.test(line)) Object.assign(last, counts(line));
  }
  return report;
}

/** One problem line from verify's stderr, or undefined for any other line. */
export function parseVerifyProblem(line: string): VerifyProblem | undefined {
  const text = line.replace(/^(?:\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} P\d+\s+)?INFO: /, '');
  const m = /^(file missing|invalid checksum|invalid size|invalid result) '?([^':]+?)'?(?:: (.*))?$/.exec(text);
  if (!m) return undefined;
  const kind = m[1] === 'file missing' ? 'missing' : m[1] === 'invalid checksum' ? 'checksum' : m[1] === 'invalid size' ? 'size' : 'other';
  const path = m[2]!;
  const [first, ...rest] = path.split('/');
  const segment = storedSegment(rest.at(-1) ?? '');
  return {
    kind,
    path,
    ...(segment ? { segment } : rest[0] === 'pg_data' || rest[0]?.startsWith('pg_tblspc') ? { backup: first } : {}),
    ...(m[3] ? { detail: m[3].trim() } : {}),
  };
}

const KIND_WORDS: Record<VerifyProblem['kind'], string> = { missing: 'is missing', checksum: 'does not match its checksum', size: 'has the wrong size', other: 'cannot be read' };

/** "pg_data/base/5/1249" from "<label>/pg_data/base/5/1249.zst": the file as it is in the data directory. */
function dataFile(p: VerifyProblem): string {
  return p.path.slice(p.backup!.length + 1).replace(/\.(zst|gz|lz4|bz2)$/, '');
}

export interface VerifyVerdict {
  ok: boolean;
  /** Why each set cannot be restored: its own damaged files, a damaged set it references, or WAL it needs. */
  damaged: Map<string, string>;
  /** Damaged or unreadable archived segments. */
  wal: { segment: string; why: string }[];
  /** Missing runs of segments between archived ones. */
  gaps: { timeline: number; from: string; to: string; missing: number }[];
  /** Every broken item, one sentence each, for the report and the exit code. */
  findings: string[];
}

/**
 * Turns verify's output and dbdrill's own archive listing into a verdict. pgBackRest names the
 * damaged file under the set that holds it, and counts it against a set referencing it only when
 * that set's manifest points at that very copy; a diff or incr whose chain holds a damaged set is
 * marked here whatever the counts (the reference list says which sets a restore reads). It does not
 * report a segment missing from the middle of the archive, or a set whose WAL up to its stop
 * point is gone; dbdrill's listing does.
 */
export function judgeVerify(report: VerifyReport, problems: VerifyProblem[], rows: PgbackrestBackupRow[], inventory: WalInventory): VerifyVerdict {
  const damaged = new Map<string, string>();
  const findings: string[] = [];
  const own = new Map<string, string[]>();
  for (const p of problems.filter((x) => x.backup)) {
    const list = own.get(p.backup!) ?? [];
    list.push(`${dataFile(p)} ${KIND_WORDS[p.kind]}`);
    own.set(p.backup!, list);
  }
  for (const [label, what] of own) {
    damaged.set(label, what.join('; '));
    findings.push(`Backup ${label}: ${what.join('; ')}.`);
  }
  const wal = problems.filter((p) => p.segment).map((p) => ({ segment: p.segment!, why: `${KIND_WORDS[p.kind]}${p.detail ? ` (${p.detail})` : ''}` }));
  for (const w of wal) findings.push(`WAL segment ${w.segment} in the archive ${w.why}.`);
  const gaps = findGaps(inventory).map((g) => ({
    timeline: g.timeline,
    from: segmentName({ timeline: g.timeline, segNo: g.from }),
    to: segmentName({ timeline: g.timeline, segNo: g.to }),
    missing: g.to - g.from + 1,
  }));
  for (const g of gaps) findings.push(`The archive lacks WAL ${g.from}…${g.to} (${g.missing} segment${g.missing === 1 ? '' : 's'}); no restore replays past it.`);

  const badSegments = new Set(wal.map((w) => w.segment));
  for (const row of [...rows].sort((a, b) => a.id.localeCompare(b.id))) {
    if (damaged.has(row.id)) continue;
    // Only damaged files pass down a chain: a set that cannot become consistent for lack of its
    // own WAL does not hurt a diff or incr, which replays from its own start.
    const ref = row.reference.find((r) => own.has(r));
    const counted = report.backups.find((b) => b.label === row.id && b.status !== 'valid');
    const why = ref
      ? `it references backup ${ref}, which is damaged`
      : counted
        ? `pgBackRest verify found ${counted.checked - counted.valid} of its ${counted.checked} files invalid`
        : consistencyWal(row, inventory, badSegments);
    if (why) {
      damaged.set(row.id, why);
      findings.push(`Backup ${row.id} cannot be restored: ${why}.`);
    }
  }
  // Never a silent failure: a report that is not "ok" fails verify even when nothing could be named.
  if (report.status !== 'ok' && findings.length === 0) findings.push(`pgBackRest verify reported status "${report.status}" without naming a damaged file.`);
  return { ok: findings.length === 0, damaged, wal, gaps, findings };
}

/** A set becomes consistent only by replaying its WAL from start to stop: each segment must be there, undamaged. */
function consistencyWal(row: PgbackrestBackupRow, inv: WalInventory, bad: Set<string>): string | undefined {
  const from = row.postgres?.walStart ? parseSegment(row.postgres.walStart) : undefined;
  const to = row.postgres?.walEnd ? parseSegment(row.postgres.walEnd) : undefined;
  if (!from || !to) return undefined;
  const have = new Set(inv.timelines.get(from.timeline) ?? []);
  for (let n = from.segNo; n <= to.segNo; n++) {
    const name = segmentName({ timeline: from.timeline, segNo: n });
    if (!have.has(n)) return `WAL segment ${name}, which it needs to become consistent, is not in the archive`;
    if (bad.has(name)) return `WAL segment ${name}, which it needs to become consistent, is damaged`;
  }
  return undefined;
}

/** What verify found, as Verifications the catalog rows carry (status corrupt). */
export function damageOf(verdict: VerifyVerdict, at: string): Damage {
  const out: Damage = new Map();
  for (const [label, why] of verdict.damaged) out.set(label, { at, method: 'pgbackrest verify', ok: false, detail: why } satisfies Verification);
  return out;
}

export interface PgbackrestVerifyResult {
  report: VerifyReport;
  problems: VerifyProblem[];
  verdict: VerifyVerdict;
  /** The catalog with what verify found: damaged sets (and those depending on them) are corrupt. */
  rows: PgbackrestBackupRow[];
}

export function verifyArgs(set?: string): string[] {
  // --job-retry=0: a damaged file in a local repository does not heal in 15 s.
  return ['--output=text', '--verbose', '--log-level-console=off', '--log-level-stderr=info', '--job-retry=0', ...(set ? [`--set=${set}`] : [])];
}

/** Problem lines from verify's stderr, collected as they come. */
function collectProblems(into: VerifyProblem[], also?: (e: RunEvent) => void): (e: RunEvent) => void {
  return (e) => {
    also?.(e);
    if (e.type !== 'line' || e.stream !== 'stderr') return;
    const p = parseVerifyProblem(e.text);
    if (p) into.push(p);
  };
}

/**
 * The damaged files of one set and the sets it references, by pgbackrest verify --set: for a
 * restore that failed on a file pgBackRest did not name (a copy that no longer decompresses).
 */
export async function damagedFilesOf(pb: Pgbackrest, set: string, signal?: AbortSignal): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  await runPgbackrest(pb, 'verify', verifyArgs(set), { signal, capture: true, onEvent: collectProblems(problems) });
  return problems;
}

/** "pg_data/base/5/1249 of backup X": a problem as a restore failure names it. */
export function describeProblem(p: VerifyProblem): string {
  if (p.backup) return `${dataFile(p)} of backup ${p.backup} ${KIND_WORDS[p.kind]}`;
  return `${p.segment ? `WAL segment ${p.segment}` : p.path} ${KIND_WORDS[p.kind]}`;
}

/** Runs pgbackrest verify (every set and the archive, or one set) and judges the repository. */
export async function pgbackrestVerify(ctx: EngineContext, pb: Pgbackrest, targetName: string, opts: { set?: string } = {}): Promise<PgbackrestVerifyResult> {
  const problems: VerifyProblem[] = [];
  const r = await ctx.step('pgbackrest verify', () =>
    runPgbackrest(pb, 'verify', verifyArgs(opts.set), { signal: ctx.signal, capture: true, onEvent: collectProblems(problems, forwardToolEvents(ctx)) }),
  );
  const report = parseVerifyReport(r.stdout);
  const info = await readStanzaInfo(pb, ctx.signal);
  const archiveId = info && currentArchiveId(info);
  const inventory = archiveId ? readPgbackrestInventory(archiveIdDir(pb, archiveId)) : { timelines: new Map(), histories: [], newestArchivedAt: new Map() };
  const rows = info ? catalogRows(info, targetName) : [];
  const verdict = judgeVerify(report, problems, rows, inventory);
  const damage = damageOf(verdict, new Date().toISOString());
  return { report, problems, verdict, rows: info ? catalogRows(info, targetName, damage) : [] };
}
