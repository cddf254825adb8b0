import { describe, expect, test } from 'vitest';
import { clampIndex, fitColumns, visibleWindow } from '../../screens/widgets/DataTable/fit.js';
import { fit, textWidth, truncateEnd, truncateStart } from '../../screens/text/width.js';

describe('fitColumns', () => {
  const sum = (w: number[], gap = 1) => w.reduce((a, b) => a + b, 0) + gap * (w.length - 1);

  test('fixed columns keep their width and flex columns share the rest by weight', () => {
    const w = fitColumns([{ flex: 2 }, { width: 8 }, { flex: 1 }], 40);
    expect(w[1]).toBe(8);
    expect(sum(w)).toBe(40);
    expect(w[0]! - 2 * w[2]!).toBeLessThanOrEqual(2);
  });

  test('the target columns fill exactly 78 cells at 80 columns', () => {
    const w = fitColumns(
      [{ flex: 2, minWidth: 8 }, { width: 8 }, { flex: 3, minWidth: 10 }, { width: 13 }, { width: 8 }, { flex: 2, minWidth: 6 }],
      78,
    );
    expect(sum(w)).toBe(78);
    expect(w[0]).toBeGreaterThanOrEqual(8);
  });

  test('minimums are honoured while space allows', () => {
    expect(fitColumns([{ flex: 1, minWidth: 10 }, { flex: 5 }], 13)).toEqual([10, 2]);
  });

  test('never wider than the total, however narrow; rightmost fixed columns shrink first', () => {
    for (let total = 0; total < 40; total++) {
      const w = fitColumns([{ width: 10 }, { flex: 1, minWidth: 5 }, { width: 12 }], total);
      expect(w.every((x) => x >= 0)).toBe(true);
      expect(sum(w)).toBeLessThanOrEqual(Math.max(total, 2));
    }
    expect(fitColumns([{ width: 10 }, { width: 12 }], 15)).toEqual([10, 4]);
  });

  test('no columns, no widths', () => {
    expect(fitColumns([], 80)).toEqual([]);
  });
});

describe('truncation', () => {
  test('truncateEnd ends with … only when it cut something', () => {
    expect(truncateEnd('production', 20)).toBe('production');
    expect(truncateEnd('production', 10)).toBe('production');
    expect(truncateEnd('production', 6)).toBe('produ…');
    expect(truncateEnd('production', 1)).toBe('…');
    expect(truncateEnd('production', 0)).toBe('');
  });

  test('truncateStart keeps the end of a path', () => {
    expect(truncateStart('/home/op/.config/dbdrill', 12)).toBe('…fig/dbdrill');
    expect(textWidth(truncateStart('/home/op/.config/dbdrill', 12))).toBe(12);
  });

  test('wide characters count two cells and are never split', () => {
    expect(textWidth('数据库')).toBe(6);
    expect(truncateEnd('数据库备份', 6)).toBe('数据…');
    expect(textWidth(truncateEnd('数据库备份', 6))).toBeLessThanOrEqual(6);
  });

  test('fit pads to exactly the width, left or right aligned', () => {
    expect(fit('ok', 5)).toBe('ok   ');
    expect(fit('ok', 5, 'right')).toBe('   ok');
    expect(fit('toolong', 5)).toBe('tool…');
  });
});

describe('visibleWindow', () => {
  test('everything when it fits', () => {
    expect(visibleWindow(5, 3, 10)).toEqual({ start: 0, end: 5 });
  });

  test('keeps the selection in view, near the middle, clamped at both ends', () => {
    expect(visibleWindow(100, 0, 10)).toEqual({ start: 0, end: 10 });
    expect(visibleWindow(100, 50, 10)).toEqual({ start: 45, end: 55 });
    expect(visibleWindow(100, 99, 10)).toEqual({ start: 90, end: 100 });
    for (let sel = 0; sel < 100; sel++) {
      const { start, end } = visibleWindow(100, sel, 7);
      expect(end - start).toBe(7);
      expect(sel).toBeGreaterThanOrEqual(start);
      expect(sel).toBeLessThan(end);
    }
  });

  test('empty list or no room renders nothing', () => {
    expect(visibleWindow(0, 0, 10)).toEqual({ start: 0, end: 0 });
    expect(visibleWindow(10, 0, 0)).toEqual({ start: 0, end: 0 });
  });

  test('clampIndex', () => {
    expect(clampIndex(-1, 3)).toBe(0);
    expect(clampIndex(7, 3)).toBe(2);
    expect(clampIndex(2, 0)).toBe(0);
  });
});
