import { formatBytes as binaryBytes } from '../../../src/util/bytes.js';
import type { ProgressRow } from '../../hooks/jobStore.js';

/** Binary units (KiB, MiB), as the headless commands and `du -h` print them. */
export function formatBytes(n: number): string {
  return binaryBytes(n);
}

function amount(n: number, unit: ProgressRow['unit']): string {
  if (unit === 'bytes') return formatBytes(n);
  if (unit === 'lsn') return `${Math.floor(n / 2 ** 32).toString(16).toUpperCase()}/${(n % 2 ** 32).toString(16).toUpperCase()}`;
  return unit ? `${n} ${unit}` : String(n);
}

export function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line: "phase  45%  1.2 GiB of 2.7 GiB  30 MiB/s  eta 52s"; parts the event lacks are left out. */
export function formatProgress(p: ProgressRow): string {
  const parts = [p.phase];
  const from = p.start ?? 0;
  if (p.done !== undefined && p.total && p.total > from) parts.push(`${Math.floor((100 * (p.done - from)) / (p.total - from))}%`);
  if (p.done !== undefined) {
    // "70000 of 100000 rows", but "1.2 GiB of 2.7 GiB": byte amounts carry their own unit.
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

/**
 * "[########............]" `width` cells wide, brackets included: plain characters, so it reads
 * the same without colour.
 */
export function progressBar(done: number, total: number, width: number): string {
  const inner = Math.max(1, width - 2);
  const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(share * inner);
  return `[${'#'.repeat(filled)}${'.'.repeat(inner - filled)}]`;
}
