/** Times on screen are UTC and say so ("Z"): an operator in another zone must not have to guess. */

/** "2026-11-25T09:04:30.123Z" → "2026-11-25 09:04:30Z". */
export function utc(iso: string | Date): string {
  const s = typeof iso === 'string' ? iso : iso.toISOString();
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/**
 * utc() keeping the fraction of a second a restore target carries ("2026-11-25 09:04:00.5Z"): a
 * target inside a second must not read as the second's start.
 */
export function utcExact(at: Date, usec = 0): string {
  const base = utc(at).slice(0, -1);
  return usec > 0 ? `${base}.${String(usec).padStart(6, '0').replace(/0+$/, '')}Z` : `${base}Z`;
}

/** "11-25 09:04Z": a catalog cell; the id beside it carries the year. */
export function shortUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(5, 16).replace('T', ' ') + 'Z';
}

/** "HH:MM:SSZ" or, when the day differs from `ref`, "MM-DD HH:MMZ". */
export function compactUtc(iso: string, ref?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameDay = ref !== undefined && new Date(ref).toISOString().slice(0, 10) === d.toISOString().slice(0, 10);
  return sameDay ? d.toISOString().slice(11, 19) + 'Z' : shortUtc(iso);
}

/** "20261125T090430Z": for directory names. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * The Restore screen's title line. With fractions of a second both ends are long; when the line
 * does not fit, the end's date is dropped if it is the start's (the usual case), so the end time
 * stays readable instead of being cut.
 */
export function windowTitle(target: string, described: string, width: number): string {
  const full = `Recoverable window of ${target}: ${described}`;
  if (full.length <= width) return full;
  const oneDate = described.replace(/^(\d{4}-\d{2}-\d{2}) (\S+) → \1 /, '$1 $2 → ');
  const named = `Recoverable window of ${target}: ${oneDate}`;
  // Narrower still (60 columns): the header already names the screen's target.
  return named.length <= width ? named : `Recoverable window: ${oneDate}`;
}
