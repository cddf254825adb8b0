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

  test('drops the screen hints from the end first, so the way out always shows', () => {
    expect(fitHints(own, pinned, 30).map((h) => h.keys)).toEqual(['↑↓ jk', '?', 'q']);
  });

  test('on a very narrow terminal even pinned hints go, from the end', () => {
    expect(fitHints(own, pinned, 7).map((h) => h.keys)).toEqual(['?']);
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
