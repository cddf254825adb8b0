/**
 * Binary log file names: a base name chosen by the server's log_bin setting and a sequence number
 * the server increments on every rotation (mysql-bin.000001, mysql-bin.000002, …; after 999999
 * the number simply grows a digit). Consecutive numbers are consecutive files, so a missing number
 * between two archived files is a gap that no replay can cross.
 */
export interface BinlogName {
  base: string;
  seq: number;
}

const NAME_RE = /^([^./][^/]*)\.(\d{6,})$/;

export function parseBinlogFileName(name: string): BinlogName | undefined {
  const m = NAME_RE.exec(name);
  return m ? { base: m[1]!, seq: Number(m[2]) } : undefined;
}

/** The name of sequence number `seq` with the base and digit count of `like`. */
export function binlogFileName(base: string, seq: number, digits = 6): string {
  return `${base}.${String(seq).padStart(digits, '0')}`;
}

/** Orders names of one base by their number (a plain string sort breaks past 999999). */
export function compareBinlogNames(a: string, b: string): number {
  const x = parseBinlogFileName(a);
  const y = parseBinlogFileName(b);
  if (!x || !y) return a.localeCompare(b);
  if (x.base !== y.base) return x.base.localeCompare(y.base);
  return x.seq - y.seq;
}

export interface BinlogGap {
  base: string;
  /** First and last missing file names. */
  from: string;
  to: string;
  missing: number;
}

/** Missing numbers between the first and last archived file of each base name. */
export function findBinlogGaps(names: string[]): BinlogGap[] {
  const byBase = new Map<string, { seqs: number[]; digits: number }>();
  for (const n of names) {
    const p = parseBinlogFileName(n);
    if (!p) continue;
    const e = byBase.get(p.base) ?? { seqs: [], digits: n.length - p.base.length - 1 };
    e.seqs.push(p.seq);
    byBase.set(p.base, e);
  }
  const gaps: BinlogGap[] = [];
  for (const [base, { seqs, digits }] of [...byBase].sort((a, b) => a[0].localeCompare(b[0]))) {
    seqs.sort((a, b) => a - b);
    for (let i = 1; i < seqs.length; i++) {
      const prev = seqs[i - 1]!;
      const next = seqs[i]!;
      if (next > prev + 1) {
        gaps.push({ base, from: binlogFileName(base, prev + 1, digits), to: binlogFileName(base, next - 1, digits), missing: next - prev - 1 });
      }
    }
  }
  return gaps;
}

/**
 * The files a replay starting in `start` reads without crossing a gap: `start` and every file
 * after it whose number follows on, or [] when `start` itself is not archived.
 */
export function contiguousFrom(names: string[], start: string): string[] {
  const s = parseBinlogFileName(start);
  if (!s) return [];
  const have = new Map<number, string>();
  for (const n of names) {
    const p = parseBinlogFileName(n);
    if (p && p.base === s.base) have.set(p.seq, n);
  }
  const out: string[] = [];
  for (let seq = s.seq; have.has(seq); seq++) out.push(have.get(seq)!);
  return out;
}
