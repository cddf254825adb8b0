import { afterEach, describe, expect, test } from 'vitest';
import type { RestoredServerState } from '../../screens/api.js';
import { fakeApi, SANDBOX, target, trainingSession } from './fakeApi.js';
import { prodManifests } from './fixtures.js';
import { cleanupAll, expectFits, KEYS, renderApp, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

// Issue 20, leftovers: the console lists the servers restores left running and stops them with X.

const server = (name: string, targetName: string, extra: Partial<RestoredServerState> = {}): RestoredServerState => ({
  name,
  target: targetName,
  dir: `/tmp/${name}`,
  port: 41177,
  pid: 4242,
  startedAt: '2026-11-25T10:00:00.000Z',
  to: '2026-11-25T09:04:00.000Z',
  running: true,
  bytes: 412 * 1024 * 1024,
  ...extra,
});

describe('servers restores left running', () => {
  for (const size of [
    { columns: 80, rows: 24 },
    { columns: 60, rows: 20 },
  ]) {
    test(`Restore at ${size.columns}x${size.rows} names the running one, X asks, y stops it and the line goes`, async () => {
      const api = fakeApi({
        targets: [target('prod')],
        manifests: { prod: prodManifests() },
        restored: [server('dbdrill-restore-prod-20261125T090400Z', 'prod'), server('dbdrill-restore-prod-old', 'prod', { running: false }), server('dbdrill-restore-other-x', 'other')],
      });
      const r = renderApp(api, size);
      await r.waitForFrame((f) => f.includes('prod'));
      await r.press('3');
      let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Running'), 'the running server listed'));
      // The key that stops it stays on the line at any width; the name is cut last.
      expect(frame).toMatch(size.columns === 80 ? /Running: dbdrill-restore-prod-20261125T090400Z on :41177, 412(\.0)? MiB · X stops it/ : /Running on :41177, 412(\.0)? MiB, X stops it: dbdrill-restore-pro/);
      expect(frame).not.toContain('dbdrill-restore-other');
      if (size.columns === 80) expect(frame).toMatch(/X stop server/);
      expectFits(frame, size);
      await r.press('X');
      frame = stripAnsi(await r.waitForFrame((f) => f.includes('Stop it? y stops it')));
      expect(frame).toContain('any other key keeps it: dbdrill-restor');
      expectFits(frame, size);
      // Any other key keeps it.
      await r.press('n');
      await r.waitForFrame((f) => !f.includes('Stop it?'));
      expect(api.stoppedServers).toEqual([]);
      await r.press('X');
      await r.waitForFrame((f) => f.includes('Stop it?'));
      await r.press('y');
      frame = stripAnsi(await r.waitForFrame((f) => f.includes('Stopped; its 412'), 'the stop reported'));
      expect(api.stoppedServers).toEqual(['dbdrill-restore-prod-20261125T090400Z']);
      expect(frame).not.toContain('Running:');
      expect(frame).not.toMatch(/X stop server/);
      expectFits(frame, size);
    });
  }

  test('X in a text field is text, not a stop', async () => {
    const api = fakeApi({ targets: [target('prod')], manifests: { prod: prodManifests() }, restored: [server('dbdrill-restore-prod-a', 'prod')] });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('3');
    await r.waitForFrame((f) => f.includes('Running: dbdrill-restore-prod-a'));
    await r.press(KEYS.tab);
    await r.waitForFrame((f) => stripAnsi(f).includes('› Time'));
    await r.press('X');
    const frame = stripAnsi(await r.waitForFrame((f) => /Time\s+X/.test(stripAnsi(f))));
    expect(frame).not.toContain('Stop it?');
  });

  test('Training lists the sandbox restore still running and X stops it', async () => {
    const api = fakeApi({ targets: [SANDBOX], restored: [server('dbdrill-restore-sandbox-20261201T100006Z', 'sandbox')] });
    api.training.sandbox = trainingSession('drop-table', { restore: { at: '2026-12-01T10:03:10.000Z', port: 41177, dataDir: '/tmp/r', requested: '2026-12-01T10:00:06Z' } });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('sandbox'));
    await r.press('6');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('dbdrill-restore-sandbox'), 'the restored server listed'));
    expectFits(frame);
    await r.press('X');
    await r.waitForFrame((f) => f.includes('Stop it?'));
    await r.press('y');
    await r.waitForFrame((f) => f.includes('Stopped; its'));
    expect(api.stoppedServers).toEqual(['dbdrill-restore-sandbox-20261201T100006Z']);
  });
});
