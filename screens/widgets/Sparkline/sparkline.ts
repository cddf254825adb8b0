/** Eight heights; plain block characters read the same with and without colour. */
const BARS = '▁▂▃▄▅▆▇█';

/**
 * The newest `width` values as bars scaled to the largest one shown (never below `floor`, so a
 * backlog of 1 on an otherwise empty history is a small bar, not a full one). Unknown values
 * (null: the server did not answer) are gaps.
 */
export function sparkline(values: readonly (number | null)[], width: number, floor = 1): string {
  const shown = values.slice(-Math.max(0, width));
  const max = Math.max(floor, ...shown.map((v) => v ?? 0));
  return shown
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      if (v <= 0) return BARS[0]!;
      return BARS[Math.min(BARS.length - 1, Math.max(1, Math.round((v / max) * (BARS.length - 1))))]!;
    })
    .join('');
}

/** One cell per sample: "." OK, "w" WARN, "C" CRIT — the letter carries it without colour. */
export function statusStrip(statuses: readonly ('OK' | 'WARN' | 'CRIT')[], width: number): string {
  return statuses
    .slice(-Math.max(0, width))
    .map((s) => (s === 'OK' ? '.' : s === 'WARN' ? 'w' : 'C'))
    .join('');
}
