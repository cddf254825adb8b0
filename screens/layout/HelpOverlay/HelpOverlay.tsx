import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { healthHelp } from '../../health/healthState.js';
import { restoreHelp } from '../../restore/restoreState.js';
import { KEY_MAP, type KeyHint } from '../../keys/keymap.js';
import { strategyHelp } from '../../strategy/strategyState.js';
import { fit } from '../../text/width.js';

export interface HelpOverlayProps {
  width: number;
  height: number;
}

/** Replaces the body while open: Ink has no layers, and the body is what the keys act on anyway. */
/** Every key, the screens' own tables included (Restore's after Catalog's, Health's after Drill's, Strategy's after Training's). */
export function helpEntries(): KeyHint[] {
  const catalog = KEY_MAP.findIndex((k) => k.label.startsWith('Catalog:'));
  const at = KEY_MAP.findIndex((k) => k.label.startsWith('Drill:'));
  const training = KEY_MAP.findIndex((k) => k.label.startsWith('Training:'));
  return [
    ...KEY_MAP.slice(0, catalog + 1),
    restoreHelp(),
    ...KEY_MAP.slice(catalog + 1, at + 1),
    healthHelp(),
    ...KEY_MAP.slice(at + 1, training + 1),
    strategyHelp(),
    ...KEY_MAP.slice(training + 1),
  ];
}

export function HelpOverlay({ width, height }: HelpOverlayProps): ReactNode {
  const entries = helpEntries();
  const keyWidth = Math.max(...entries.map((k) => k.keys.length)) + 2;
  // Title, the entries, the closing line: no blank line, so at 80x24 every entry shows.
  const lines = entries.slice(0, Math.max(0, height - 2));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        Keys (the same on every screen)
      </Text>
      {lines.map((k) => (
        <Text key={k.keys} wrap="truncate-end">
          {'  '}
          <Text bold>{fit(k.keys, keyWidth)}</Text>
          {k.label}
        </Text>
      ))}
      <Text dimColor wrap="truncate-end">
        {'  '}? or esc closes this help.
      </Text>
    </Box>
  );
}
