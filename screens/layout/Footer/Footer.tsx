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

const keyTokens = (h: KeyHint) => h.keys.split(/\s+/).filter((k) => k !== '');

/**
 * The keys that work here, fitted to `width`, in a fixed order of importance: the screen's first
 * hint (the key that finishes the task at hand: plan, start, save), then the way out (the last
 * pinned one: back or quit), then the screen's other hints in order, then the other pinned ones
 * (help, then the screen keys). What does not fit is dropped whole, never cut mid-word, and a key
 * is never listed twice (a screen's own "esc cancel" replaces the shell's "esc back").
 */
export function fitHints(hints: readonly KeyHint[], pinned: readonly KeyHint[], width: number): KeyHint[] {
  const gap = 2;
  const ownKeys = new Set(hints.flatMap(keyTokens));
  const pins = pinned.filter((p) => !keyTokens(p).some((k) => ownKeys.has(k)));
  const [first, ...rest] = hints;
  const exit = pins.at(-1);
  const order = [first, exit, ...rest, ...pins.slice(0, -1).reverse()].filter((h): h is KeyHint => h !== undefined);
  const chosen = new Set<KeyHint>();
  let used = 0;
  for (const h of order) {
    const w = hintWidth(h) + (chosen.size > 0 ? gap : 0);
    if (used + w > width) continue;
    chosen.add(h);
    used += w;
  }
  // Shown in the screen's order, the shell's keys after.
  return [...hints, ...pins].filter((h) => chosen.has(h));
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
