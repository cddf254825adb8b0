import type { RecoverableWindow } from '../../src/pitr/window.js';
import { utc } from '../text/time.js';
import { textWidth } from '../text/width.js';

/** What each cell of the bar means; the screen prints this under it, so it reads without colour. */
export const LEGEND = 'B backup  = recoverable  x not recoverable  ^ chosen';

export interface TimelineDrawing {
  /** "[B=====B=====xxx===]" exactly `width` cells. */
  bar: string;
  /** "^" under the chosen time with the time beside it, or blank. */
  caret: string;
  /** The window's first and last moment under the bar's ends. */
  ends: string;
  /** Whether the bar holds an x: time inside the window that no backup reaches. */
  unreachable: boolean;
}

/**
 * The recoverable window as one line across the width: time runs left to right from the window's
 * start to its end; each base backup is a B where it became consistent, the span it can be rolled
 * forward over is "=", and time inside the window no backup reaches (a WAL gap) is "x". Plain
 * characters only: it must read the same under NO_COLOR.
 */
export function drawTimeline(w: RecoverableWindow, width: number, chosen?: Date): TimelineDrawing | undefined {
  if (!w.from || !w.to || width < 8) return undefined;
  const inner = width - 2;
  const from = Date.parse(w.from);
  const to = Date.parse(w.to);
  const span = to - from;
  const pos = (t: number) => (span <= 0 ? 0 : Math.min(inner - 1, Math.max(0, Math.round(((t - from) / span) * (inner - 1)))));

  const cells: string[] = Array.from({ length: inner }, () => (span <= 0 ? ' ' : 'x'));
  for (const r of w.ranges) {
    const a = pos(Date.parse(r.from));
    const b = pos(Date.parse(r.to));
    for (let i = a; i <= b; i++) cells[i] = '=';
  }
  for (const r of w.ranges) cells[pos(Date.parse(r.from))] = 'B';
  const bar = `[${cells.join('')}]`;

  let caret = '';
  if (chosen && !Number.isNaN(chosen.getTime())) {
    const t = chosen.getTime();
    const label = utc(chosen);
    const outside = t < from ? ' (before the window)' : t > to ? ' (after the window)' : '';
    const col = 1 + (t < from ? 0 : t > to ? inner - 1 : pos(t));
    const right = `^ ${label}${outside}`;
    const left = `${label}${outside} ^`;
    caret = col + textWidth(right) <= width ? ' '.repeat(col) + right : ' '.repeat(Math.max(0, col - textWidth(left) + 1)) + left;
  }

  const a = utc(w.from);
  const b = utc(w.to);
  const ends = span <= 0 ? a : `${a}${' '.repeat(Math.max(1, width - textWidth(a) - textWidth(b)))}${b}`;
  return { bar, caret, ends, unreachable: cells.includes('x') };
}

/**
 * A line under the bar marking known moments ("D" the disaster, "g" the last good commit): the
 * same scale as the bar, so the ^ of the chosen moment can be read against them.
 */
export function markLine(w: RecoverableWindow, width: number, marks: ReadonlyArray<{ at: string; ch: string }>): string {
  if (!w.from || !w.to || width < 8) return '';
  const inner = width - 2;
  const from = Date.parse(w.from);
  const span = Date.parse(w.to) - from;
  const cells = Array.from({ length: width }, () => ' ');
  for (const m of marks) {
    const t = Date.parse(m.at);
    if (Number.isNaN(t)) continue;
    const pos = span <= 0 ? 0 : Math.min(inner - 1, Math.max(0, Math.round(((t - from) / span) * (inner - 1))));
    cells[1 + pos] = m.ch;
  }
  return cells.join('').trimEnd();
}

/**
 * One line about gaps in the archive: none, or the first one and how many more. Without a WAL gap
 * an x on the bar is time after one backup's last archived commit and before the next backup
 * became consistent: replay has no commit there to stop at.
 */
export function describeGaps(w: RecoverableWindow, unreachable = false): string {
  if (w.gaps.length === 0) {
    const none = `no gaps in the archive (${w.segments} segment${w.segments === 1 ? '' : 's'} on timeline ${w.timelines.join(', ') || '—'})`;
    return unreachable ? `${none}; x: no archived commit to stop at` : none;
  }
  const g = w.gaps[0]!;
  const more = w.gaps.length > 1 ? ` and ${w.gaps.length - 1} more` : '';
  const which = g.from === g.to ? g.from : `${g.from}…${g.to}`;
  return `WAL gap on timeline ${g.timeline}: ${which} missing (${g.missing} segment${g.missing === 1 ? '' : 's'})${more}`;
}
