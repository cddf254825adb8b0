import { describe, expect, it } from 'vitest';
import { parseTrainingSession } from '../src/training/session-schema.js';

const session = (restore: Record<string, unknown>) => ({
  formatVersion: 1,
  target: 'trs',
  kind: 'drop-table',
  startedAt: '2026-01-01T00:00:00.000Z',
  lastGoodAt: '2026-01-01T00:00:05.000Z',
  disasterAt: '2026-01-01T00:00:07.000Z',
  what: 'DROP TABLE order_items',
  objectives: { rtoSeconds: 900, rpoSeconds: 60 },
  restore: { at: '2026-01-01T00:05:00.000Z', port: 55432, requested: '', ...restore },
});

describe('a training session read back', () => {
  it('keeps a restore the trainee made by hand and scored with --port only (no data directory known)', () => {
    // `train NAME score --port P` with no restore recorded by dbdrill saves dataDir "" — the next
    // read of that session must not call its own file damaged.
    const s = parseTrainingSession(session({ dataDir: '' }), '/c/training/trs.json', 'trs');
    expect(s.restore).toMatchObject({ port: 55432, dataDir: '' });
  });

  it('still refuses a data directory that is not text, naming the field', () => {
    expect(() => parseTrainingSession(session({ dataDir: 7 }), '/c/training/trs.json', 'trs')).toThrow(/restore\.dataDir/);
  });
});
