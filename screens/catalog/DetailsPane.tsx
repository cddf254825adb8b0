import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { fit } from '../text/width.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { LABEL_WIDTH, type DetailLine } from './details.js';

export interface DetailsPaneProps {
  lines: readonly DetailLine[] | undefined;
  /** Shown instead of lines (still reading, or the manifest could not be read). */
  placeholder: string;
  scroll: number;
  focused: boolean;
  width: number;
  /** Lines available, the title rule included. */
  height: number;
}

/** A rule naming the pane (marked when it has the keys), then only the visible detail lines. */
export function DetailsPane({ lines, placeholder, scroll, focused, width, height }: DetailsPaneProps): ReactNode {
  const room = Math.max(0, height - 1);
  const shown = lines ? lines.slice(scroll, scroll + room) : [];
  const more = lines ? Math.max(0, lines.length - scroll - room) : 0;
  const title = `${focused ? '› ' : '─ '}details${focused ? '' : ' (tab)'}${scroll > 0 ? ` ↑${scroll}` : ''}${more > 0 ? ` ↓${more}` : ''} `;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text wrap="truncate-end">
        <Text bold={focused}>{title}</Text>
        <Text dimColor>{'─'.repeat(Math.max(0, width - title.length))}</Text>
      </Text>
      {lines === undefined ? (
        <Text dimColor wrap="truncate-end">
          {placeholder}
        </Text>
      ) : (
        shown.map((l, i) => (
          <Text key={scroll + i} wrap="truncate-end">
            <Text bold>{fit(l.label, LABEL_WIDTH)}</Text>
            {l.marker ? (
              <>
                <StatusMarker marker={l.marker} />{' '}
              </>
            ) : null}
            {l.text}
          </Text>
        ))
      )}
    </Box>
  );
}

/** The first line the pane may scroll to, so the last line still fills the bottom. */
export function maxScroll(lineCount: number, height: number): number {
  return Math.max(0, lineCount - Math.max(0, height - 1));
}
