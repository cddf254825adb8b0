import { afterEach, describe, expect, test } from 'vitest';
import { DbdrillError } from '../../src/errors.js';
import { endWords } from '../../screens/training/TrainingScreen.js';
import { fakeApi, SANDBOX, trainingSession } from './fakeApi.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

// Issue 20: the Training screen says only what is true, and cuts nothing off.

const score = {
  dataOk: true,
  dataDetail: 'order_items is back with all 4000 rows, contents as before the disaster (digest 12345 matches the one taken a second before the DROP)',
  rtoSeconds: 184, rpoSeconds: 0, rtoObjectiveSeconds: 900, rpoObjectiveSeconds: 60, rtoOk: true, rpoOk: true, points: 100,
  verdict: 'Recovered within both objectives.', at: '2026-12-01T10:03:10.000Z',
};

describe('Training: words and wrapping', () => {
  test('e names a restored server only when there is one (the archiving scenario has none)', () => {
    expect(endWords(trainingSession('break-archiving'))).toBe('e ends the training: archiving and the sandbox are put back as they were.');
    expect(endWords(trainingSession('break-archiving'))).not.toContain('restored server');
    const restored = trainingSession('drop-table', { restore: { at: '2026-12-01T10:03:10.000Z', port: 5499, dataDir: '/tmp/r', requested: 'x' } });
    expect(endWords(restored)).toBe('e ends the training: the restored server on 127.0.0.1:5499 is stopped and the sandbox is put back as it was.');
  });

  for (const [columns, rows] of [[80, 24], [60, 20]] as const) {
    test(`at ${columns}x${rows} the guide and the score wrap under their own text; nothing is cut mid-word`, async () => {
      const session = trainingSession('drop-table', { restore: { at: '2026-12-01T10:03:10.000Z', port: 5499, dataDir: '/tmp/r', requested: 'x' }, score });
      const r = renderApp(fakeApi({ targets: [SANDBOX], training: { sandbox: session } }), { columns, rows });
      await r.waitForFrame((f) => f.includes('sandbox'));
      await r.press('6');
      const frame = stripAnsi(await r.waitForFrame((f) => f.includes('Score 100/100')));
      expectFits(frame, { columns, rows });
      // The body: between the header's rule and the footer's.
      const all = frameLines(frame);
      const lines = all.slice(3, -2);
      // The tab bar names every screen's key at this width (it used to end "6…").
      expect(all[1]).toMatch(/1.*2.*3.*4.*5.*›6 Training/);
      const text = lines.map((l) => l.trim()).join(' ').replace(/\s+/g, ' ');
      // Every word of the title, the data detail and the end line is there.
      expect(text).toContain('goal RTO 15m, RPO 1m');
      expect(text).toContain(score.dataDetail);
      expect(text).toContain('e ends the training: the restored server on 127.0.0.1:5499 is stopped');
      // No line is cut with "…" except a counted "more lines" marker.
      for (const l of lines) if (l.trimEnd().endsWith('…')) expect(l).toMatch(/more line/);
      // Continuations line up under the text, never at column 1 with a leading space.
      for (const l of lines) expect(l).not.toMatch(/^ \S/);
    });
  }

  test('a long failure wraps under its own text, not back to column 1', async () => {
    const long = 'The base backup could not be taken because pg_basebackup exited 1 (could not connect to server: Connection refused); check that the sandbox runs (dbdrill sandbox status) and try again.';
    const api = fakeApi({
      targets: [SANDBOX],
      async disasterWork() {
        throw new DbdrillError('failed', long);
      },
    });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('sandbox'));
    await r.press('6');
    await r.waitForFrame((f) => f.includes('Drop a table'));
    await r.press(KEYS.enter, ...'sandbox'.split(''), KEYS.enter);
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL') && f.includes('try again.')));
    const at = frameLines(frame).findIndex((l) => l.startsWith('FAIL The base backup'));
    expect(at).toBeGreaterThan(0);
    const block = frameLines(frame).slice(at).filter((l) => l.trim() !== '' && !l.startsWith('───'));
    const errorLines = block.slice(0, block.findIndex((l) => l.includes('try again.')) + 1);
    for (const l of errorLines.slice(1)) expect(l).toMatch(/^ {5}\S/);
    expect(errorLines.map((l) => l.replace(/^FAIL/, '').trim()).join(' ')).toBe(long);
    expectFits(frame);
  });
});
