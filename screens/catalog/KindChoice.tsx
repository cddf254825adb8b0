import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { Choice } from '../widgets/Choice/Choice.js';
import { KINDS } from './catalogState.js';

const WHAT = {
  logical: 'a dump of the database; it restores into a new database.',
  physical: 'the whole server (fast checkpoint); point-in-time restores start from it.',
} as const;

export const KIND_CHOICE_HEIGHT = 3;

/** "Start a backup of prod:  › logical   physical" and a line on what the highlighted kind is. */
export function KindChoice({ target, selected, width }: { target: string; selected: number; width: number }): ReactNode {
  const kind = KINDS[selected] ?? 'logical';
  return (
    <Box flexDirection="column" width={width} height={KIND_CHOICE_HEIGHT} overflow="hidden">
      <Text dimColor>{'─'.repeat(width)}</Text>
      <Box>
        <Text bold>{`Start a backup of ${target}: `}</Text>
        <Choice options={KINDS} selected={selected} />
      </Box>
      <Text dimColor wrap="truncate-end">
        {`${kind}: ${WHAT[kind]}`}
      </Text>
    </Box>
  );
}
