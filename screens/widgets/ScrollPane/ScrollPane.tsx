import { Text } from 'ink';
import type { MutableRefObject, ReactNode } from 'react';

/**
 * Which rows of a pane show, given the room and the wanted scroll: when they do not all fit, one
 * line goes to the "↑ N above · ↓ M more below" marker so hidden rows are always counted.
 */
export function paneWindow(count: number, room: number, scroll: number): { first: number; shown: number; below: number; max: number; overflow: boolean } {
  const fits = Math.max(1, room);
  const overflow = count > fits;
  const shown = overflow ? Math.max(1, fits - 1) : fits;
  const max = Math.max(0, count - shown);
  const first = Math.min(Math.max(0, scroll), max);
  return { first, shown, below: Math.max(0, count - first - shown), max, overflow };
}

/** A scrolling pane: the rows that fit, then the marker. maxRef receives the furthest scroll for the key handler. */
export function ScrollPane({ rows, room, scroll, maxRef }: { rows: ReactNode[]; room: number; scroll: number; maxRef?: MutableRefObject<number> }): ReactNode {
  const w = paneWindow(rows.length, room, scroll);
  if (maxRef) maxRef.current = w.max;
  return (
    <>
      {rows.slice(w.first, w.first + w.shown)}
      {w.overflow && (
        <Text dimColor wrap="truncate-end">
          {`${w.first > 0 ? `↑ ${w.first} above · ` : ''}${w.below > 0 ? `↓ ${w.below} more below` : 'end'} · ↑↓ scroll`}
        </Text>
      )}
    </>
  );
}
