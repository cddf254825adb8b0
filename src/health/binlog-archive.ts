import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DbdrillError } from '../errors.js';

/** A binlog file name split into the server's base name and its sequence number. */
export interface BinlogName {
  base: string;
  seq: number;
}

/** mysql-bin.000042, optionally compressed by the archiver (mysql-bin.000042.zst). */
const ARCHIVED_RE = /^([^.][^/]*)\.(\d{6,})(?:\.(?:zst|gz|xz|bz2|lz4))?$/;

export function parseBinlogName(name: string): BinlogName | undefined {
  const m = ARCHIVED_RE.exec(name);
  return m ? { base: m[1]!, seq: Number(m[2]) } : undefined;
}

/** What <repo>/binlog holds, reduced to what health needs. */
export interface BinlogArchive {
  dir: string;
  /** The folder exists (an empty one still means "no archive yet"). */
  present: boolean;
  /** Archived binlogs (all base names). */
  count: number;
  /** The highest-numbered archived binlog of each base name, with its mtime (ISO). */
  newest: { name: string; base: string; seq: number; mtime: string; bytes: number }[];
}

/**
 * Lists <repo>/binlog. Temporary files (dot-files, *.part) are not archived binlogs yet and are
 * skipped; only the newest file of each base name is stat()ed, so a large archive costs one
 * readdir and a few stats per sample.
 */
export function readBinlogArchive(repoRoot: string): BinlogArchive {
  const dir = join(repoRoot, 'binlog');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { dir, present: false, count: 0, newest: [] };
    throw new DbdrillError('invalid-input', `The binlog archive ${dir} cannot be read (${code ?? (e as Error).message}); check its permissions.`);
  }
  const best = new Map<string, { name: string; seq: number }>();
  let count = 0;
  for (const name of names) {
    const b = parseBinlogName(name);
    if (!b) continue;
    count++;
    const cur = best.get(b.base);
    if (!cur || b.seq > cur.seq) best.set(b.base, { name, seq: b.seq });
  }
  const newest: BinlogArchive['newest'] = [];
  for (const [base, { name, seq }] of best) {
    try {
      const st = statSync(join(dir, name));
      if (st.isFile()) newest.push({ name, base, seq, mtime: st.mtime.toISOString(), bytes: st.size });
    } catch {
      // Pruned between readdir and stat: the next sample sees the new state.
    }
  }
  return { dir, present: true, count, newest };
}
