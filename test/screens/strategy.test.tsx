import { afterEach, describe, expect, test, vi } from 'vitest';

// Frames read without colour (NO_COLOR): chalk reads FORCE_COLOR when ink is first imported.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '0';
});

const { fakeApi, target } = await import('./fakeApi.js');
const { cleanupAll, expectFits, frameLines, KEYS, renderApp } = await import('./helpers.js');
const { strategyLines } = await import('../../screens/strategy/strategyLines.js');

afterEach(cleanupAll);

const NOW = new Date('2026-12-07T01:30:00Z');
const policy = { schedule: { full: '0 2 * * 0', logical: '0 */6 * * *', verify: '0 5 * * *', drill: '0 4 1 * *' }, retention: { keepFull: 4, keepArchive: 30 } };
const LONG_ERROR = 'pg_basebackup exited 1: could not connect to server: Connection refused; is the server running on host 10.0.0.5 and accepting TCP/IP connections on port 5432?';
const strategy = () => ({
  runs: [
    { id: '20261207T010000Z-incr', job: 'incr', status: 'failed' as const, startedAt: '2026-12-07T01:00:00.000Z', finishedAt: '2026-12-07T01:00:03.000Z', error: LONG_ERROR },
    { id: '20261206T020000Z-full', job: 'full', status: 'ok' as const, startedAt: '2026-12-06T02:00:00.000Z', finishedAt: '2026-12-06T02:04:10.000Z' },
  ],
  prune: {
    backups: [
      { id: '20261101T020000Z-F', startedAt: '2026-11-01T02:00:00.000Z', sizeBytes: 1.2e9, reasons: ['older than the 4 newest fulls (keep-full 4)', 'outside keep-archive 30 days'] },
      { id: '20261108T020000Z-F', startedAt: '2026-11-08T02:00:00.000Z', sizeBytes: 1.2e9, reasons: ['older than the 4 newest fulls (keep-full 4)'] },
    ],
    archive: { files: 130, bytes: 130 * 16 * 1024 * 1024, from: '0000000100000004000000A2', reason: 'no kept backup needs WAL before the oldest kept full 20261115T020000Z-F' },
    kept: 6,
  },
});
const api = () => fakeApi({ targets: [target('prod', { policy, rpo: '5m', rto: '1h' })], now: () => NOW, strategy });

async function openStrategy(columns: number, rows: number) {
  const r = renderApp(api(), { columns, rows });
  await r.waitForFrame((f) => f.includes('prod'));
  await r.press(KEYS.enter, '7');
  await r.waitForFrame((f) => f.includes('Policy (UTC)'), 'the Strategy screen');
  return r;
}

describe('Strategy screen (7)', () => {
  test('the pane holds the policy, the week, the last runs, the next prune and the forecast, each sentence whole', () => {
    const a = api();
    return Promise.all([a.readStrategy('prod'), a.readForecast('prod')]).then(([view, forecast]) => {
      for (const width of [80, 60]) {
        const lines = strategyLines(view, forecast, undefined, width);
        for (const l of lines) expect([...l.text].length).toBeLessThanOrEqual(width);
        const text = lines.map((l) => l.text.trim()).join(' ');
        expect(text).toContain('RPO 5m · RTO 1h');
        expect(text).toMatch(/full\s+0 2 \* \* 0 · next 12-13 02:00Z · never run/);
        expect(text).toContain('keep-full 4, keep-archive 30');
        // Monday 12-07 from 01:30: the 6-hourly dump from 06:00 (3 runs), verify at 05:00; Sunday has the full.
        expect(text).toMatch(/Mon 12-07 +logical ×3 from 06:00 · verify 05:00/);
        expect(text).toMatch(/Sun 12-13 +full 02:00 · logical ×4 from 00:00 · verify 05:00/);
        expect(text).toContain(`FAIL 12-07 01:00Z incr failed (3s): ${LONG_ERROR}`);
        expect(text).toContain('Removes 2 backup(s) (2.2 GiB) and 130 archive file(s) (2.0 GiB); keeps 6.');
        expect(text).toContain('20261101T020000Z-F (1.1 GiB): older than the 4 newest fulls (keep-full 4); outside keep-archive 30 days');
        expect(text).toContain('archive before 0000000100000004000000A2: no kept backup needs WAL');
        expect(text).toMatch(/full: \d+ kept × 1\.1 GiB = [\d.]+ GiB/);
        expect(text).toMatch(/RPO 5m: archive_timeout \(1m\)/);
        expect(text).toMatch(/RTO 1h: /);
      }
    });
  });

  for (const [columns, rows] of [[80, 24], [60, 20]] as const) {
    test(`at ${columns}x${rows} without colour it fits, scrolls to the end, and cuts nothing mid-word`, async () => {
      const r = await openStrategy(columns, rows);
      let frame = await r.waitForFrame((f) => f.includes('more below'));
      expect(frame).not.toMatch(/\u001B\[/);
      expectFits(frame, { columns, rows });
      expect(frame).toContain('prod · strategy');
      const seen = new Set<string>();
      for (let i = 0; i < 80 && !frame.includes('· end ·'); i++) {
        for (const l of frameLines(frame).slice(4, -3)) seen.add(l);
        await r.press(KEYS.down);
        frame = r.lastFrame();
      }
      for (const l of frameLines(frame).slice(4, -2)) seen.add(l);
      expectFits(frame, { columns, rows });
      expect(frame).toMatch(/↑ \d+ above · end/);
      const body = [...seen];
      // No line is cut with "…"; continuations line up under their text, never at column 1.
      for (const l of body) expect(l.trimEnd()).not.toMatch(/…$/);
      for (const l of body) expect(l).not.toMatch(/^ \S/);
      const text = body.map((l) => l.trim()).join(' ');
      for (const part of ['Week ahead (UTC)', 'Last runs', 'Next prune (dry run)', 'Forecast (steady state)', 'RTO 1h:']) expect(text).toContain(part);
      expect(text.replace(/\s+/g, ' ')).toContain('is the server running on host 10.0.0.5 and accepting TCP/IP connections on port 5432?');
    });
  }

  test('e edits the policy: a wrong value is refused naming its field (focused), a right one is saved and shown', async () => {
    const a = api();
    const r = renderApp(a);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press(KEYS.enter, '7');
    await r.waitForFrame((f) => f.includes('Policy (UTC)'));
    await r.press('e');
    let frame = await r.waitForFrame((f) => f.includes('Policy of prod'));
    expectFits(frame);
    expect(frame).toMatch(/^› full\s+0 2 \* \* 0/m);
    expect(frame).toMatch(/^ {2}keep-full\s+4/m);
    // The hour 25 in the full's schedule: the cron parser's sentence names the field.
    for (let i = 0; i < 12; i++) await r.press(KEYS.backspace);
    for (const ch of '0 25 * * 0') await r.press(ch);
    await r.press(KEYS.enter);
    frame = await r.waitForFrame((f) => f.includes('FAIL'));
    expect(frame).toMatch(/FAIL full "0 25 \* \* 0": the hour field "25" is not valid/);
    expect(frame).toMatch(/^› full/m);
    for (let i = 0; i < 12; i++) await r.press(KEYS.backspace);
    for (const ch of '0 3 * * 0') await r.press(ch);
    // keep-full 0 would keep nothing: refused, and the focus moves to keep-full.
    for (let i = 0; i < 7; i++) await r.press(KEYS.down);
    await r.press(KEYS.backspace, '0', KEYS.enter);
    frame = await r.waitForFrame((f) => f.includes('would keep nothing'));
    expect(frame).toMatch(/FAIL keep-full 0 would keep nothing; give 1 or more, or leave it out\./);
    expect(frame).toMatch(/^› keep-full/m);
    await r.press(KEYS.backspace, '6', KEYS.enter);
    frame = await r.waitForFrame((f) => f.includes('saved'));
    expect(frame).toContain('Policy of prod saved');
    frame = await r.waitForFrame((f) => f.includes('keep-full 6'));
    expect(frame).toMatch(/full\s+0 3 \* \* 0/);
    expect(a.policiesSaved.at(-1)!.form).toMatchObject({ full: '0 3 * * 0', 'keep-full': '6', logical: '0 */6 * * *', diff: '' });
    // esc leaves the form without saving (attempts are counted, refused ones too).
    const attempts = a.policiesSaved.length;
    await r.press('e');
    await r.waitForFrame((f) => f.includes('Policy of prod'));
    await r.press('x', KEYS.escape);
    await r.waitForFrame((f) => f.includes('Policy (UTC)'));
    expect(a.policiesSaved).toHaveLength(attempts);
  });

  test('at 60x20 the form shows a window of fields that follows the focus, and the footer stays', async () => {
    const r = await openStrategy(60, 20);
    await r.press('e');
    let frame = await r.waitForFrame((f) => f.includes('Policy of prod'));
    expectFits(frame, { columns: 60, rows: 20 });
    expect(frame).toContain('fields 1-12 of 13');
    expect(frame).toContain('enter save');
    for (let i = 0; i < 12; i++) await r.press(KEYS.down);
    frame = await r.waitForFrame((f) => f.includes('› time-limit'));
    expectFits(frame, { columns: 60, rows: 20 });
    expect(frame).toContain('fields 2-13 of 13');
    for (const l of frameLines(frame)) expect(l.trimEnd()).not.toMatch(/…$/);
  });

  test('the help overlay lists the Strategy keys from its table', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('?');
    const frame = await r.waitForFrame((f) => f.includes('Keys (the same'));
    expect(frame).toContain('Strategy: e edit the policy, g read again');
    expect(frame).toContain('1-7');
    // At 80 columns every help line is whole (the screens line used to be cut with "…").
    for (const l of frameLines(frame)) expect(l.trimEnd()).not.toMatch(/…$/);
  });
});
