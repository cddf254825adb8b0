import { afterEach, describe, expect, test } from 'vitest';
import type { RepoVerifyReport } from '../../src/ops/verify-repository.js';
import { fakeApi, target } from './fakeApi.js';
import { BASE_A, BASE_B, LOGICAL, prodManifests } from './fixtures.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

// Issue 18: "Progress on the console while it runs" for verify of the whole repository.

const SEG_A = '000000010000000000000002';
const SEG_GONE = '000000010000000000000005';
const report: RepoVerifyReport = {
  target: 'prod',
  ok: false,
  backups: [
    { backup: LOGICAL, kind: 'logical', type: 'full', status: 'ok', reason: 'files and the dump\'s table of contents pass', checks: [] },
    { backup: BASE_B, kind: 'physical', type: 'full', status: 'failed', reason: 'base.tar.gz: sha256 differs from the manifest (bit flip?)', statusBefore: 'complete', statusAfter: 'corrupt', checks: [] },
    { backup: BASE_A, kind: 'physical', type: 'full', status: 'ok', reason: 'files and pg_verifybackup pass', checks: [] },
  ],
  archive: {
    kind: 'wal',
    files: 9,
    bytes: 9 * 16 * 1024 * 1024,
    ranges: [
      { line: 'timeline 1', timeline: 1, first: SEG_A, last: '000000010000000000000004', count: 3, status: 'ok', ok: true, reason: 'intact and continuous', breaks: [] },
      { line: 'timeline 1', timeline: 1, first: SEG_GONE, last: SEG_GONE, count: 1, status: 'missing', ok: false, reason: `missing: replays from ${BASE_A} stop at 09:04:00Z, the window 09:04:00Z … 09:05:00Z is lost`, breaks: [BASE_A] },
    ],
  },
  problems: [`backup ${BASE_B} corrupt`, `segment ${SEG_GONE} missing`],
};

describe('Catalog: a verifies the whole repository', () => {
  for (const [columns, rows] of [[80, 24], [60, 20]] as const) {
    test(`at ${columns}x${rows}: progress while it runs, then every backup and range, failures first and named`, async () => {
      let release!: () => void;
      const hold = new Promise<void>((resolve) => (release = resolve));
      const api = fakeApi({
        targets: [target('prod')],
        manifests: { prod: prodManifests() },
        async repoVerifyWork(ctx) {
          await ctx.step('backups', async () => {
            ctx.emit({ type: 'log', level: 'info', text: `backup ${BASE_B} (2 of 3)` });
            ctx.emit({ type: 'progress', phase: 'backups 1 of 3 verified', done: 1, total: 3 });
            await hold;
          });
          await ctx.step('archive', async () => {
            ctx.emit({ type: 'progress', phase: 'WAL segments read', done: 9, total: 9, unit: 'segments' });
          });
          return report;
        },
      });
      const r = renderApp(api, { columns, rows });
      await r.waitForFrame((f) => f.includes('prod'));
      await r.press(KEYS.enter);
      await r.waitForFrame((f) => f.includes('4 backups'));
      await r.press('a');
      let frame = stripAnsi(await r.waitForFrame((f) => f.includes('backups 1 of 3 verified'), 'the progress'));
      expectFits(frame, { columns, rows });
      expect(frame).toContain('Verify the whole repository of prod');
      expect(frame).toContain(`backup ${BASE_B} (2 of 3)`);
      release();
      frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAILED verification'), 'the result'));
      expectFits(frame, { columns, rows });
      const body = frameLines(frame).slice(3, -2);
      const text = body.map((l) => l.trim()).join(' ').replace(/\s+/g, ' ');
      expect(text).toContain('Repository FAILED verification: 2 problem(s); 2 of 3 backup(s) intact.');
      // Failures first, each named with what it breaks; then what passed.
      const at = (s: string) => body.findIndex((l) => l.replace(/ +/g, ' ').includes(s));
      expect(at(`FAIL backup ${BASE_B}`)).toBeGreaterThan(0);
      expect(text).toContain('sha256 differs from the manifest (bit flip?) — now marked corrupt');
      expect(text).toContain(`FAIL timeline 1 ${SEG_GONE}: missing: replays from ${BASE_A} stop at 09:04:00Z`);
      expect(at(`FAIL backup ${BASE_B}`)).toBeLessThan(at(`OK backup ${LOGICAL}`));
      expect(at(`timeline 1 ${SEG_GONE}`)).toBeLessThan(at(`OK backup ${LOGICAL}`));
      for (const l of body) expect(l).not.toMatch(/^ \S/);
      // enter goes back to the table.
      await r.press(KEYS.enter);
      await r.waitForFrame((f) => f.includes('4 backups'));
    });
  }

  test('the footer and the help name the key', async () => {
    const r = renderApp(fakeApi({ targets: [target('prod')], manifests: { prod: prodManifests() } }), { columns: 100, rows: 30 });
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press(KEYS.enter);
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('4 backups')));
    expect(frameLines(frame).at(-1)).toContain('a verify all');
    await r.press('?');
    expect(stripAnsi(await r.waitForFrame((f) => f.includes('Keys (')))).toContain('restore, verify all');
  });
});
