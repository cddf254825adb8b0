import { Box, Text } from 'ink';
import type { ReactNode } from 'react';

/** Lines FirstRun takes at 80 columns, a blank separator included; on narrow terminals the box clips. */
export const FIRST_RUN_HEIGHT = 5;

/** What a first-time operator sees: one key to a working sandbox, and how to add a real target. */
export function FirstRun({ width, retry }: { width: number; retry: boolean }): ReactNode {
  return (
    <Box flexDirection="column" width={width} height={FIRST_RUN_HEIGHT} overflow="hidden">
      <Text wrap="wrap">
        {retry
          ? 'No targets yet. Press enter to try the training sandbox again (local PostgreSQL 15 with WAL archiving and sample data).'
          : 'No targets yet. Press enter to start the training sandbox (local PostgreSQL 15 with WAL archiving and sample data); it is added as the target "sandbox".'}
      </Text>
      <Text> </Text>
      <Text dimColor wrap="wrap">
        Or press a to add your own database (or: dbdrill target add NAME --engine postgres --host H --repo DIR).
      </Text>
    </Box>
  );
}
