import { Text } from 'ink';
import type { ReactNode } from 'react';
import { CURSOR } from '../TextField/TextField.js';
import { truncateStart } from '../../text/width.js';

export interface FilterLineProps {
  text: string;
  editing: boolean;
  width: number;
  /** Rows left after filtering, so a filter that hides everything is obvious. */
  matches: number;
}

/** One line: the filter being typed (with a block cursor), or the one in force. */
export function FilterLine({ text, editing, width, matches }: FilterLineProps): ReactNode {
  const count = `  ${matches} match${matches === 1 ? '' : 'es'}`;
  if (editing) {
    return (
      <Text wrap="truncate-end">
        <Text bold>/</Text>
        {truncateStart(text, Math.max(0, width - 2 - count.length))}
        {CURSOR}
        <Text dimColor>{count}</Text>
      </Text>
    );
  }
  return (
    <Text wrap="truncate-end">
      <Text dimColor>filter </Text>
      <Text bold>{truncateStart(text, Math.max(0, width - 8 - count.length))}</Text>
      <Text dimColor>{count}</Text>
    </Text>
  );
}

/** Rows whose fields contain the filter text, case-insensitive; an empty filter keeps all. */
export function matchesFilter(fields: readonly (string | undefined)[], filter: string): boolean {
  const f = filter.trim().toLowerCase();
  if (!f) return true;
  return fields.some((v) => v !== undefined && v.toLowerCase().includes(f));
}
