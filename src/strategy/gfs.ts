import { GFS_UNITS, type Gfs, type GfsUnit } from '../config/policy.js';

/** One grandfather-father-son period: [start, end) in UTC, and how a reason names it. */
export interface GfsPeriod {
  unit: GfsUnit;
  start: Date;
  end: Date;
  label: string;
}

const DAY = 86_400_000;

function startOf(unit: GfsUnit, at: Date): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  switch (unit) {
    case 'd':
      return new Date(Date.UTC(y, m, d));
    case 'w': {
      // ISO weeks start on Monday.
      const dow = (at.getUTCDay() + 6) % 7;
      return new Date(Date.UTC(y, m, d - dow));
    }
    case 'm':
      return new Date(Date.UTC(y, m, 1));
    case 'y':
      return new Date(Date.UTC(y, 0, 1));
  }
}

function shift(unit: GfsUnit, start: Date, n: number): Date {
  const y = start.getUTCFullYear();
  const m = start.getUTCMonth();
  switch (unit) {
    case 'd':
      return new Date(start.getTime() + n * DAY);
    case 'w':
      return new Date(start.getTime() + 7 * n * DAY);
    case 'm':
      return new Date(Date.UTC(y, m + n, 1));
    case 'y':
      return new Date(Date.UTC(y + n, 0, 1));
  }
}

function labelOf(unit: GfsUnit, start: Date): string {
  const iso = start.toISOString();
  switch (unit) {
    case 'd':
      return `day ${iso.slice(0, 10)}`;
    case 'w':
      return `week of ${iso.slice(0, 10)}`;
    case 'm':
      return `month ${iso.slice(0, 7)}`;
    case 'y':
      return `year ${iso.slice(0, 4)}`;
  }
}

/**
 * The periods a GFS setting keeps a full from, newest first: "7d" is today and the six days
 * before it (UTC calendar days), "4w" this ISO week and the three before, "12m" this month and
 * the eleven before, "7y" this year and the six before.
 */
export function gfsPeriods(g: Gfs, now: Date): GfsPeriod[] {
  const out: GfsPeriod[] = [];
  for (const unit of Object.keys(GFS_UNITS) as GfsUnit[]) {
    const count = g[unit];
    if (!count) continue;
    const current = startOf(unit, now);
    for (let i = 0; i < count; i++) {
      const start = shift(unit, current, -i);
      out.push({ unit, start, end: shift(unit, start, 1), label: labelOf(unit, start) });
    }
  }
  return out;
}
