import { Box, Text } from 'ink';
import { Fragment, type ReactNode } from 'react';
import type { KeyHint } from '../../keys/keymap.js';
import { textWidth } from '../../text/width.js';

export interface FooterProps {
  /** The screen's own keys, most useful first. */
  hints: readonly KeyHint[];
  /** Keys that must always show (how to get help, back or out), placed after the others. */
  pinned?: readonly KeyHint[];
  width: number;
}

export const FOOTER_HEIGHT = 2;

const hintWidth = (h: KeyHint) => textWidth(`${h.keys} ${h.label}`);

/**
 * The keys that work here. When they do not all fit, the screen's least useful hints are dropped
 * whole (never cut mid-word) so the pinned ones, the way out, always show.
 */
export function fitHints(hints: readonly KeyHint[], pinned: readonly KeyHint[], width: number): KeyHint[] {
  const gap = 2;
  let used = pinned.reduce((a, h, i) => a + hintWidth(h) + (i > 0 ? gap : 0), 0);
  const own: KeyHint[] = [];
  for (const h of hints) {
    const w = hintWidth(h) + gap;
    if (used + w > width) break;
    own.push(h);
    used += w;
  }
  const all = [...own, ...pinned];
  // Even the pinned ones may not fit on a very narrow terminal: drop from the end.
  while (all.length > 0 && all.reduce((a, h, i) => a + hintWidth(h) + (i > 0 ? gap : 0), 0) > width) all.pop();
  return all;
}

export function Footer({ hints, pinned = [], width }: FooterProps): ReactNode {
  const shown = fitHints(hints, pinned, width);
  return (
    <Box flexDirection="column" width={width} height={FOOTER_HEIGHT}>
      <Text dimColor>{'─'.repeat(width)}</Text>
      <Text wrap="truncate-end">
        {shown.map((h, i) => (
          <Fragment key={`${h.keys}-${h.label}`}>
            {i > 0 ? '  ' : ''}
            <Text bold>{h.keys}</Text> <Text dimColor>{h.label}</Text>
          </Fragment>
        ))}
      </Text>
    </Box>
  );
}
