import { invalid } from '../errors.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses "90s", "15m", "4h", "2d" or "1h30m" into seconds. */
export function parseDuration(text: string, field: string): number {
  const trimmed = text.trim();
  const re = /(\d+(?:\.\d+)?)([smhd])/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    total += Number(m[1]) * UNITS[m[2] as string]!;
    consumed = re.lastIndex;
  }
  if (trimmed === '' || consumed !== trimmed.length) {
    throw invalid(`${field} "${text}" is not a duration; write it like 90s, 15m, 4h or 1h30m.`);
  }
  return total;
}

/** The short form an operator reads: 5400 -> "1h30m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  let s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 ? '-' : '';
  if (s < 60) return `${sign}${s}s`;
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  if (parts.length < 2 && s > 0 && parts.length > 0 && !parts[0]!.endsWith('d')) parts.push(`${s}s`);
  return sign + parts.join('');
}
