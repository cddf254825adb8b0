/**
 * PostgreSQL keeps times to the microsecond; a Date holds milliseconds. Times that decide what a
 * restore includes (targets, commit times) are handled as microseconds since the epoch, which a
 * double holds exactly for the next quarter of a millennium.
 */
export type Micros = number;

/** A Date's time in microseconds, with the microseconds within its second when they are known. */
export function microsOf(at: Date, usec?: number): Micros {
  const ms = at.getTime();
  const second = Math.floor(ms / 1000);
  return second * 1_000_000 + (usec ?? (ms - second * 1000) * 1000);
}

/** The Date (milliseconds, truncated) of a time in microseconds. */
export function dateOf(micros: Micros): Date {
  return new Date(Math.floor(micros / 1000));
}

const PG_TS = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\s*(UTC|[+-]\d{2}(?::?\d{2})?)/;

/**
 * A timestamp as PostgreSQL prints it: "2026-11-25 18:05:01.785393+00" in the server log,
 * "2026-11-25 18:03:38.217919 UTC" from pg_waldump run with TZ=UTC.
 */
export function parsePgTimestamp(text: string): Micros | undefined {
  const m = PG_TS.exec(text);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}T${m[2]}Z`) / 1000;
  if (Number.isNaN(seconds)) return undefined;
  const zone = m[4]!;
  let offset = 0;
  if (zone !== 'UTC') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3600 + Number(z[3] ?? 0) * 60);
  }
  return (seconds - offset) * 1_000_000 + Number((m[3] ?? '').padEnd(6, '0'));
}

function split(micros: Micros): { iso: string; frac: string } {
  const second = Math.floor(micros / 1_000_000);
  const iso = new Date(second * 1000).toISOString().slice(0, 19);
  return { iso, frac: String(micros - second * 1_000_000).padStart(6, '0') };
}

/** recovery_target_time's form: all six digits and a numeric zone (the setting cannot resolve abbreviations). */
export function pgTimestamp(micros: Micros): string {
  const { iso, frac } = split(micros);
  return `${iso.replace('T', ' ')}.${frac}+00`;
}

/** ISO 8601 UTC with microseconds: 2026-11-25T18:05:01.785393Z. */
export function isoMicros(micros: Micros): string {
  const { iso, frac } = split(micros);
  return `${iso}.${frac}Z`;
}
