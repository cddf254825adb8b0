import { Text } from 'ink';
import type { ReactNode } from 'react';
import type { StepStatus } from '../../../src/ops/job.js';

export type Marker = 'OK' | 'WARN' | 'CRIT' | 'FAIL' | '…' | 'SKIP' | '-' | '?';

const COLORS: Partial<Record<Marker, string>> = {
  OK: 'green',
  WARN: 'yellow',
  CRIT: 'red',
  FAIL: 'red',
  '…': 'cyan',
};

/** Width the marker column takes, so text after markers lines up. */
export const MARKER_WIDTH = 4;

/** A status as a word first and a colour second, so it reads the same under NO_COLOR. */
export function StatusMarker({ marker }: { marker: Marker }): ReactNode {
  return (
    <Text color={COLORS[marker]} bold={marker === 'FAIL' || marker === 'CRIT'}>
      {marker.padEnd(MARKER_WIDTH)}
    </Text>
  );
}

export function stepMarker(status: StepStatus): Marker {
  switch (status) {
    case 'running':
      return '…';
    case 'done':
      return 'OK';
    case 'failed':
      return 'FAIL';
    case 'skipped':
      return 'SKIP';
    case 'pending':
      return '-';
  }
}

export function markerColor(marker: Marker): string | undefined {
  return COLORS[marker];
}
