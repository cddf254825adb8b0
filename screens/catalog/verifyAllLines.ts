import type { RepoVerifyReport } from '../../src/ops/verify-repository.js';
import { hangingLines } from '../text/width.js';
import type { Marker } from '../widgets/StatusMarker/StatusMarker.js';

export interface ResultLine {
  marker: Marker | '';
  text: string;
}

/**
 * The whole-repository verify's result as the console lists it: failures first (each named, with
 * what it breaks, wrapped whole under its own text), then what passed, one line each. Lines past
 * `max` are counted in a last line that says where to read them all.
 */
export function verifyAllLines(r: RepoVerifyReport, width: number, max: number): ResultLine[] {
  type Entry = { marker: Marker; text: string };
  const entries: Entry[] = [];
  for (const b of r.backups) {
    const marker: Marker = b.status === 'ok' ? 'OK' : b.status === 'failed' ? 'FAIL' : 'SKIP';
    const replay = (b.replay ?? []).filter((x) => !x.ok).map((x) => `; replay${x.timeline ? ` on timeline ${x.timeline}` : ''}: ${x.reason}`).join('');
    entries.push({ marker, text: `backup ${b.backup} (${b.kind} ${b.type}): ${b.reason}${b.statusAfter === 'corrupt' && b.statusBefore !== 'corrupt' ? ' — now marked corrupt' : ''}${replay}` });
  }
  const a = r.archive;
  if (a?.error) entries.push({ marker: 'FAIL', text: `${a.kind === 'wal' ? 'WAL' : 'binlog'} archive: ${a.error}` });
  for (const g of a?.ranges ?? []) {
    const span = g.count === 1 ? g.first : `${g.first} … ${g.last}`;
    entries.push({ marker: g.ok ? 'OK' : 'FAIL', text: `${g.line} ${span}: ${g.reason}` });
  }
  const rank = (m: Marker) => (m === 'FAIL' ? 0 : m === 'OK' ? 2 : 1);
  const sorted = entries.map((e, i) => ({ e, i })).sort((x, y) => rank(x.e.marker) - rank(y.e.marker) || x.i - y.i).map((x) => x.e);
  const out: ResultLine[] = [];
  const hang = 5;
  for (let k = 0; k < sorted.length; k++) {
    const e = sorted[k]!;
    // A failure is read whole (up to 4 lines), a pass in up to 2: words are never cut, a cut shows "…".
    const lines = hangingLines(e.text, width, hang, e.marker === 'FAIL' ? 4 : 2);
    if (out.length + lines.length > max - (k < sorted.length - 1 ? 1 : 0)) {
      const left = sorted.length - k;
      out.push({ marker: '', text: `… ${left} more (dbdrill verify ${r.target} --json lists every entry)` });
      break;
    }
    lines.forEach((l, i) => out.push({ marker: i === 0 ? e.marker : '', text: l }));
  }
  return out;
}
