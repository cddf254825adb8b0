import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { useBodySize } from '../../layout/bodySize.js';

/** A screen that is not built yet says so honestly, with the command to run meanwhile. */
export function NotBuilt({ line }: { line: string }): ReactNode {
  const { width, height } = useBodySize();
  return (
    <Box width={width} height={height} overflow="hidden">
      <Text wrap="wrap">{line}</Text>
    </Box>
  );
}
