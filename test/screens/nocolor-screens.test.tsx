import { afterEach, expect, test, vi } from 'vitest';

// As the entry does for NO_COLOR: chalk reads FORCE_COLOR when ink is first imported.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '0';
});

const { fakeApi, target } = await import('./fakeApi.js');
const { BASE_B, LOGICAL, FAILED, prodManifests } = await import('./fixtures.js');
const { cleanupAll, frameLines, KEYS, renderApp, selectedLine } = await import('./helpers.js');

afterEach(cleanupAll);

const plain = (frame: string) => {
  expect(frame).not.toMatch(/\u001B\[/);
  expect(frameLines(frame).length).toBeLessThanOrEqual(23);
};

test('Catalog without colour: › selection, OK/FAIL words, the details pane marked by text', async () => {
  const r = renderApp(fakeApi({ targets: [target('prod')], manifests: { prod: prodManifests() } }));
  await r.waitForFrame((f) => f.includes('prod'));
  await r.press(KEYS.enter);
  let frame = await r.waitForFrame((f) => f.includes('4 backups') && f.includes('sha256'));
  plain(frame);
  expect(selectedLine(frame)).toMatch(new RegExp(`${LOGICAL}.*OK.*OK restore`));
  expect(frame).toMatch(new RegExp(`${FAILED}.*FAIL`));
  expect(frame).toContain('─ details (tab)');
  await r.press(KEYS.tab);
  frame = await r.waitForFrame((f) => f.includes('› details'));
  plain(frame);
});

test('Backup run without colour: markers, bar and the cancel question read as text', async () => {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  const api = fakeApi({
    targets: [target('prod')],
    manifests: { prod: prodManifests() },
    async backupWork(ctx) {
      await ctx.step('connect', async () => {});
      ctx.emit({ type: 'step', step: 'base backup', status: 'running' });
      ctx.emit({ type: 'progress', phase: 'copying', done: 25, total: 100, unit: 'bytes', rate: 10, etaSeconds: 7 });
      await hold;
      throw new Error('Backup 20261125T110000Z-F failed: pg_basebackup: error: could not connect to server');
    },
  });
  const r = renderApp(api);
  await r.waitForFrame((f) => f.includes('prod'));
  await r.press(KEYS.enter);
  await r.waitForFrame((f) => f.includes('4 backups'));
  await r.press('b', KEYS.down, KEYS.enter);
  await r.waitForFrame((f) => f.includes('copying'));
  await r.press('x');
  let frame = await r.waitForFrame((f) => f.includes('Cancel the backup? y/N'));
  plain(frame);
  expect(frame).toMatch(/OK\s+connect/);
  expect(frame).toMatch(/…\s+base backup/);
  expect(frame).toMatch(/\[#+\.+\]/);
  await r.press('n');
  release();
  frame = await r.waitForFrame((f) => f.includes('could not connect'));
  plain(frame);
  expect(frame).toMatch(/FAIL\s+Backup 20261125T110000Z-F failed/);
});

test('Restore without colour: the timeline, presets, refusal and plan are plain text', async () => {
  const r = renderApp(fakeApi({ targets: [target('prod')], manifests: { prod: prodManifests() } }));
  await r.waitForFrame((f) => f.includes('prod'));
  await r.press('3');
  let frame = await r.waitForFrame((f) => f.includes('Recoverable window of prod'));
  plain(frame);
  expect(frame).toMatch(/^\[B=+x+B=+\]$/m);
  expect(frame).toContain('B backup  = recoverable  x not recoverable  ^ chosen');
  expect(frame).toMatch(/› latest/);
  await r.press(KEYS.down);
  frame = await r.waitForFrame((f) => f.includes(`› end of ${BASE_B}`));
  plain(frame);
  await r.press(KEYS.tab);
  await r.waitForFrame((f) => f.includes('› Time'));
  for (let i = 0; i < 30; i++) await r.press(KEYS.backspace);
  for (const ch of '2026-11-26T00:00:00Z') await r.press(ch);
  await r.press(KEYS.enter);
  frame = await r.waitForFrame((f) => f.includes('past the end'));
  plain(frame);
  expect(frame).toMatch(/^FAIL 2026-11-26 00:00:00Z is past the end/m);
  for (let i = 0; i < 30; i++) await r.press(KEYS.backspace);
  await r.press('l', 'a', 't', 'e', 's', 't', KEYS.enter);
  frame = await r.waitForFrame((f) => f.includes('Plan: restore prod'));
  plain(frame);
  expect(frame).toContain('Type prod and press enter');
});

test('Health, Drill, Training and the target form without colour: words and markers carry every state', async () => {
  const { pgSeries } = await import('./healthFixtures.js');
  const { SANDBOX } = await import('./fakeApi.js');
  const series = pgSeries(8, 3);
  const api = fakeApi({ targets: [target('prod'), SANDBOX], healthSample: async () => series.at(-1)! });
  const r = renderApp(api);
  await r.waitForFrame((f) => f.includes('prod'));
  await r.press('5');
  let frame = await r.waitForFrame((f) => f.includes('sample 1'));
  plain(frame);
  expect(frame).toMatch(/^CRIT archiving:/m);
  expect(frame).toMatch(/status\s+\.+w+C+/);
  await r.press('4');
  frame = await r.waitForFrame((f) => f.includes('History ·'));
  plain(frame);
  await r.press('d');
  frame = await r.waitForFrame((f) => f.includes('PASSED'));
  plain(frame);
  expect(frame).toMatch(/^OK\s+PASSED/m);
  expect(frame).toMatch(/^OK\s+tear down/m);
  await r.press(KEYS.enter, '6');
  frame = await r.waitForFrame((f) => f.includes('Drop a table'));
  plain(frame);
  expect(frame).toMatch(/^› Drop a table/m);
  await r.press('1', 'a');
  frame = await r.waitForFrame((f) => f.includes('Add a target'));
  plain(frame);
  expect(frame).toMatch(/^› name/m);
});
