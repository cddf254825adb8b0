import { describe, expect, test } from 'vitest';
import { fitHints } from '../../screens/layout/Footer/Footer.js';
import { formatBytes, formatProgress, formatSeconds } from '../../screens/widgets/JobView/format.js';

describe('fitHints', () => {
  const own = [
    { keys: '↑↓ jk', label: 'move' },
    { keys: 'enter', label: 'catalog' },
    { keys: '/', label: 'filter' },
  ];
  const pinned = [
    { keys: '?', label: 'help' },
    { keys: 'q', label: 'quit' },
  ];

  test('everything when it fits, pinned last', () => {
    expect(fitHints(own, pinned, 80).map((h) => h.keys)).toEqual(['↑↓ jk', 'enter', '/', '?', 'q']);
  });

  test('keeps the key that finishes the task and the way out first; the rest fill what room is left', () => {
    // 30 columns: "↑↓ jk move" and "q quit" first, then whatever else fits whole.
    expect(fitHints(own, pinned, 30).map((h) => h.keys)).toEqual(['↑↓ jk', '/', 'q']);
    expect(fitHints(own, pinned, 20).map((h) => h.keys)).toEqual(['↑↓ jk', 'q']);
  });

  test('on a very narrow terminal the way out is the last to go', () => {
    expect(fitHints(own, pinned, 7).map((h) => h.keys)).toEqual(['q']);
  });

  test('a key the screen lists is not listed again by the shell (no "esc cancel … esc back")', () => {
    const form = [
      { keys: 'enter', label: 'save' },
      { keys: 'esc', label: 'cancel' },
    ];
    const shell = [
      { keys: '1-6', label: 'screens' },
      { keys: '?', label: 'help' },
      { keys: 'esc', label: 'back' },
    ];
    expect(fitHints(form, shell, 80).map((h) => `${h.keys} ${h.label}`)).toEqual(['enter save', 'esc cancel', '1-6 screens', '? help']);
  });

  test('the Restore form keeps "enter plan" and the way back at 60 and 40 columns', () => {
    const restore = [
      { keys: 'enter', label: 'plan' },
      { keys: '↑↓', label: 'preset' },
      { keys: '←→', label: '1 min' },
      { keys: 'tab', label: 'fields' },
    ];
    const shell = [
      { keys: '1-6', label: 'screens' },
      { keys: '?', label: 'help' },
      { keys: 'esc', label: 'back' },
    ];
    for (const width of [80, 60, 40, 20]) {
      const keys = fitHints(restore, shell, width).map((h) => h.keys);
      expect(keys).toContain('enter');
      expect(keys).toContain('esc');
      const line = fitHints(restore, shell, width).map((h) => `${h.keys} ${h.label}`).join('  ');
      expect([...line].length).toBeLessThanOrEqual(width);
    }
    expect(fitHints(restore, shell, 80).map((h) => h.keys)).toEqual(['enter', '↑↓', '←→', 'tab', '1-6', '?', 'esc']);
  });
});

describe('progress text', () => {
  test('rows, bytes, rate and eta', () => {
    expect(formatProgress({ phase: 'loading', done: 250, total: 1000, unit: 'rows', etaSeconds: 12 })).toBe(
      'loading  25%  250 of 1000 rows  eta 12s',
    );
    // Binary units, as the headless commands print sizes.
    expect(formatProgress({ phase: 'copying', done: 1_288_490_189, total: 2_899_102_925, unit: 'bytes', rate: 31_457_280 })).toBe(
      'copying  44%  1.2 GiB of 2.7 GiB  30 MiB/s',
    );
    expect(formatProgress({ phase: 'waiting for checkpoint' })).toBe('waiting for checkpoint');
    // Replay: LSNs as PostgreSQL writes them, the share counted from where replay started.
    expect(formatProgress({ phase: 'replaying WAL', done: 0x1_0600_0000, total: 0x1_0800_0000, start: 0x1_0400_0000, unit: 'lsn' })).toBe(
      'replaying WAL  50%  1/6000000 of 1/8000000',
    );
  });

  test('sizes and durations', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatSeconds(59)).toBe('59s');
    expect(formatSeconds(125)).toBe('2m05s');
    expect(formatSeconds(3725)).toBe('1h02m');
  });
});
