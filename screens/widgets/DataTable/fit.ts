/** Pure layout for DataTable: how wide each column is and which rows are on screen. */

export interface ColumnSize {
  /** A fixed width in cells. */
  width?: number;
  /** A share of the space left after fixed columns (default 1 when `width` is absent). */
  flex?: number;
  /** A flex column never gets less than this while space allows. */
  minWidth?: number;
}

/**
 * Widths for `columns` so that widths plus one `gap` between neighbours never exceed `total`.
 * Fixed columns are served first; flex columns share the rest by weight. When even the fixed
 * columns do not fit, the rightmost ones shrink first: names sit on the left and matter most.
 */
export function fitColumns(columns: readonly ColumnSize[], total: number, gap = 1): number[] {
  const n = columns.length;
  if (n === 0) return [];
  const available = Math.max(0, total - gap * (n - 1));
  const widths = columns.map((c) => (c.width !== undefined ? Math.max(0, c.width) : 0));
  const flexIdx = columns.flatMap((c, i) => (c.width === undefined ? [i] : []));

  let fixed = widths.reduce((a, b) => a + b, 0);
  let over = fixed - available;
  for (let i = n - 1; i >= 0 && over > 0; i--) {
    const cut = Math.min(widths[i]!, over);
    widths[i] = widths[i]! - cut;
    over -= cut;
  }
  fixed = widths.reduce((a, b) => a + b, 0);

  let space = Math.max(0, available - fixed);
  if (flexIdx.length === 0) return widths;

  // Minimums first (left to right, as far as space goes), then the rest by weight.
  for (const i of flexIdx) {
    const min = Math.min(columns[i]!.minWidth ?? 0, space);
    widths[i] = min;
    space -= min;
  }
  const weights = flexIdx.map((i) => Math.max(0, columns[i]!.flex ?? 1));
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const exact = flexIdx.map((_, k) => (weightSum > 0 ? (space * weights[k]!) / weightSum : space / flexIdx.length));
  flexIdx.forEach((i, k) => {
    widths[i] = widths[i]! + Math.floor(exact[k]!);
  });
  // Rounding leftovers go to the largest remainders (leftmost first on ties), so the split
  // follows the weights as closely as whole cells allow.
  let left = space - exact.reduce((a, x) => a + Math.floor(x), 0);
  const order = exact.map((x, k) => ({ k, rem: x - Math.floor(x) })).sort((a, b) => b.rem - a.rem || a.k - b.k);
  for (const { k } of order) {
    if (left <= 0) break;
    widths[flexIdx[k]!] = widths[flexIdx[k]!]! + 1;
    left--;
  }
  return widths;
}

export interface RowWindow {
  /** First visible row index (inclusive). */
  start: number;
  /** One past the last visible row index. */
  end: number;
}

/**
 * The rows to render for `height` lines with the selection kept in view and near the middle,
 * so the rows around it stay visible while moving. Only these rows are rendered.
 */
export function visibleWindow(count: number, selected: number, height: number): RowWindow {
  if (count <= 0 || height <= 0) return { start: 0, end: 0 };
  if (count <= height) return { start: 0, end: count };
  const sel = clampIndex(selected, count);
  const start = Math.min(Math.max(0, sel - Math.floor(height / 2)), count - height);
  return { start, end: start + height };
}

/** An index within 0..count-1 (0 for an empty list). */
export function clampIndex(index: number, count: number): number {
  if (count <= 0) return 0;
  return Math.min(Math.max(0, index), count - 1);
}
