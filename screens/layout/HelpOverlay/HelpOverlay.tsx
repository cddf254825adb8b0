import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { KEY_MAP } from '../../keys/keymap.js';
import { fit } from '../../text/width.js';

export interface HelpOverlayProps {
  width: number;
  height: number;
}

/** Replaces the body while open: Ink has no layers, and the body is what the keys act on anyway. */
export function HelpOverlay({ width, height }: HelpOverlayProps): ReactNode {
  const keyWidth = Math.max(...KEY_MAP.map((k) => k.keys.length)) + 2;
  const lines = KEY_MAP.slice(0, Math.max(0, height - 3));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        Keys (the same on every screen)
      </Text>
      <Text> </Text>
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
