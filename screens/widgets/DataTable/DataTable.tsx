import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { fit, truncateStart } from '../../text/width.js';
import { clampIndex, fitColumns, visibleWindow, type ColumnSize } from './fit.js';

export interface Column<Row> extends ColumnSize {
  header: string;
  value(row: Row): string;
  align?: 'left' | 'right';
  /** Colour for the cell; the text itself must still say what the colour means (NO_COLOR). */
  color?(row: Row): string | undefined;
  /** Where a value too wide is cut: 'start' keeps its end (a port after a long host, a path's tail). */
  cut?: 'end' | 'start';
}

export interface DataTableProps<Row> {
  columns: readonly Column<Row>[];
  rows: readonly Row[];
  rowKey(row: Row): string;
  selected: number;
  /** Lines available, header included. */
  height: number;
  width: number;
  /** Shown instead of rows when there are none. */
  empty: string;
  /** Dims the selection when another pane has the keys. */
  focused?: boolean;
}

/** Two cells for the selection marker: it stays readable when inverse vanishes under NO_COLOR. */
const MARKER = 2;
const GAP = 1;

export function DataTable<Row>(props: DataTableProps<Row>): ReactNode {
  const { columns, rows, rowKey, height, width, empty, focused = true } = props;
  const widths = fitColumns(columns, width - MARKER, GAP);
  const selected = clampIndex(props.selected, rows.length);
  const bodyHeight = Math.max(0, height - 1);
  const { start, end } = visibleWindow(rows.length, selected, bodyHeight);

  const cells = (row: Row | undefined) =>
    columns.map((c, i) => ({
      text: fit(row && c.cut === 'start' ? truncateStart(c.value(row), widths[i]!) : row ? c.value(row) : c.header, widths[i]!, c.align),
      color: row ? c.color?.(row) : undefined,
    }));

  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text bold wrap="truncate-end">
        {' '.repeat(MARKER)}
        {cells(undefined)
          .map((c) => c.text)
          .join(' '.repeat(GAP))}
      </Text>
      {rows.length === 0 ? (
        <Text dimColor wrap="truncate-end">
          {' '.repeat(MARKER)}
          {empty}
        </Text>
      ) : (
        rows.slice(start, end).map((row, k) => {
          const isSelected = start + k === selected;
          return (
            <Text key={rowKey(row)} wrap="truncate-end" inverse={isSelected && focused}>
              {/* One › on screen, where the keys go: an unfocused table marks its row with •. */}
              {isSelected ? (focused ? '› ' : '• ') : '  '}
              {cells(row).map((c, i) => (
                <Text key={i} color={c.color}>
                  {i > 0 ? ' '.repeat(GAP) : ''}
                  {c.text}
                </Text>
              ))}
            </Text>
          );
        })
      )}
    </Box>
  );
}
