import type { ProgressRow } from '../../hooks/jobStore.js';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

function amount(n: number, unit: ProgressRow['unit']): string {
  if (unit === 'bytes') return formatBytes(n);
  if (unit === 'lsn') return n.toString(16).toUpperCase();
  return unit ? `${n} ${unit}` : String(n);
}

export function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line: "phase  45%  1.2 GB of 2.7 GB  30 MB/s  eta 52s"; parts the event lacks are left out. */
export function formatProgress(p: ProgressRow): string {
  const parts = [p.phase];
  if (p.done !== undefined && p.total) parts.push(`${Math.floor((100 * p.done) / p.total)}%`);
  if (p.done !== undefined) {
    // "70000 of 100000 rows", but "1.2 GB of 2.7 GB": byte amounts carry their own unit.
    const sameUnit = p.unit === 'rows' || p.unit === 'segments';
    parts.push(
      p.total
        ? sameUnit
          ? `${p.done} of ${p.total} ${p.unit}`
          : `${amount(p.done, p.unit)} of ${amount(p.total, p.unit)}`
        : amount(p.done, p.unit),
    );
  }
  if (p.rate !== undefined && p.unit !== 'lsn') parts.push(`${amount(p.rate, p.unit)}/s`);
  if (p.etaSeconds !== undefined) parts.push(`eta ${formatSeconds(p.etaSeconds)}`);
  return parts.join('  ');
}
