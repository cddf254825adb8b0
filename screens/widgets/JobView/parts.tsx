import { Text } from 'ink';
import type { ReactNode } from 'react';
import type { LogLine, ProgressRow } from '../../hooks/jobStore.js';
import { MARKER_WIDTH } from '../StatusMarker/StatusMarker.js';
import { formatProgress, progressBar } from './format.js';

const BAR_WIDTH = 42;
const INDENT = ' '.repeat(MARKER_WIDTH + 1);

/** The bar for a progress event with a total, counted from its start; undefined without one. */
export function barFor(progress: ProgressRow | undefined, width: number): string | undefined {
  if (!progress || progress.done === undefined || !progress.total) return undefined;
  const from = progress.start ?? 0;
  return progressBar(progress.done - from, progress.total - from, Math.min(BAR_WIDTH, width - MARKER_WIDTH - 1));
}

/** Lines ProgressLines takes: the bar (when there is a total) and the text. */
export function progressHeight(progress: ProgressRow | undefined, width: number): number {
  return (progress ? 1 : 0) + (barFor(progress, width) ? 1 : 0);
}

/** "[#####.....]" then "replaying WAL  60%  3 of 5 segments", under the steps. */
export function ProgressLines({ progress, width }: { progress: ProgressRow | undefined; width: number }): ReactNode {
  if (!progress) return null;
  const bar = barFor(progress, width);
  return (
    <>
      {bar && (
        <Text color="cyan" wrap="truncate-end">
          {INDENT}
          {bar}
        </Text>
      )}
      <Text color="cyan" wrap="truncate-end">
        {INDENT}
        {formatProgress(progress)}
      </Text>
    </>
  );
}

/** The newest tool and log lines, dim unless they warn. */
export function LogLines({ lines }: { lines: readonly LogLine[] }): ReactNode {
  return lines.map((l) => (
    <Text key={l.seq} dimColor={l.level === 'info'} color={l.level === 'error' ? 'red' : l.level === 'warn' ? 'yellow' : undefined} wrap="truncate-end">
      {'  │ '}
      {l.text}
    </Text>
  ));
}
