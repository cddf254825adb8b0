import { afterEach, describe, expect, test } from 'vitest';
import { scoreRecovery, suggestedTime, trainingGuide } from '../../src/training/session.js';
import { fakeApi, SANDBOX, target, trainingSession } from './fakeApi.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, stripAnsi } from './helpers.js';

afterEach(cleanupAll);


describe('training: the guide and the score (pure)', () => {
  const s = trainingSession('drop-table');

  test('suggests the whole second after the last good commit, still before the disaster', () => {
    expect(suggestedTime(s)).toBe('2026-12-01T10:00:06Z');
    expect(suggestedTime({ lastGoodAt: '2026-12-01T10:00:05.900Z', disasterAt: '2026-12-01T10:00:06.000Z' })).toBe('2026-12-01T10:00:05.900Z');
    expect(trainingGuide(s)[1]!.text).toContain('e.g. 2026-12-01T10:00:06Z');
    expect(trainingGuide(s).map((g) => g.done)).toEqual([true, false, false, false]);
  });

  test('full points only for the data as it was, within both objectives; a restore past the disaster scores 0', () => {
    const restored = { ...s, restore: { at: '2026-12-01T10:03:06.700Z', port: 5499, dataDir: '/tmp/r', requested: '2026-12-01T10:00:06Z', lastCommitAt: '2026-12-01T10:00:05.400Z' } };
    const good = scoreRecovery({ session: restored, restored: { table: 'public.order_items', rows: 4000, digest: '12345' }, now: new Date() });
    expect(good).toMatchObject({ dataOk: true, points: 100, rtoSeconds: 180, rpoSeconds: 0, rtoOk: true, rpoOk: true });
    const late = scoreRecovery({ session: { ...restored, restore: { ...restored.restore, at: '2026-12-01T10:30:06.700Z' } }, restored: { table: 'public.order_items', rows: 4000, digest: '12345' }, now: new Date() });
    expect(late).toMatchObject({ dataOk: true, points: 75, rtoOk: false, verdict: 'Recovered, but too slowly (RTO).' });
    const early = scoreRecovery({ session: { ...restored, restore: { ...restored.restore, lastCommitAt: '2026-12-01T09:58:00.000Z' } }, restored: { table: 'public.order_items', rows: 4000, digest: '12345' }, now: new Date() });
    expect(early).toMatchObject({ points: 75, rpoOk: false, rpoSeconds: 125.4 });
    const missing = scoreRecovery({ session: restored, restored: undefined, now: new Date() });
    expect(missing).toMatchObject({ dataOk: false, points: 0 });
    expect(missing.dataDetail).toBe('order_items is missing in the restored server: the restore went past the disaster at 10:00:06Z');
    const half = scoreRecovery({ session: { ...restored, kind: 'delete-rows' }, restored: { table: 'public.order_items', rows: 2000, digest: '9' }, now: new Date() });
    expect(half.dataDetail).toBe('order_items has 2000 rows in the restored server, 4000 before the disaster');
    expect(() => scoreRecovery({ session: s, now: new Date() })).toThrow(/No restore of this target was recorded yet/);
  });

  test('a repaired archiver scores by the time to repair and what was at risk meanwhile', () => {
    const b = trainingSession('break-archiving', { repairedAt: '2026-12-01T10:02:06.700Z' });
    const sc = scoreRecovery({ session: b, caughtUp: { ok: true, detail: 'archiving works again' }, now: new Date() });
    expect(sc).toMatchObject({ dataOk: true, rtoSeconds: 120, rpoSeconds: 121.3, rpoOk: false, points: 75 });
    const notYet = scoreRecovery({ session: trainingSession('break-archiving'), caughtUp: { ok: true, detail: '' }, now: new Date('2026-12-01T10:01:00Z') });
    expect(notYet).toMatchObject({ dataOk: false, points: 0, dataDetail: 'archiving was not repaired yet (press f)' });
  });
});

describe('Training screen', () => {
  test('without a sandbox it says how to start one', async () => {
    const r = renderApp(fakeApi({ targets: [target('prod')] }));
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('6');
    expect(stripAnsi(await r.waitForFrame((f) => f.includes('Training needs')))).toContain('dbdrill sandbox start');
  });

  test('choose a disaster, confirm by typing the sandbox name, watch it happen, then follow the guide and read the score', async () => {
    const api = fakeApi({
      targets: [SANDBOX],
      async scoreWork(ctx) {
        await ctx.step('check public.order_items in the restored server on port 5499', async () => {});
        return {
          dataOk: true, dataDetail: 'order_items is back with all 4000 rows, contents as before the disaster', rtoSeconds: 184, rpoSeconds: 0,
          rtoObjectiveSeconds: 900, rpoObjectiveSeconds: 60, rtoOk: true, rpoOk: true, points: 100, verdict: 'Recovered within both objectives.', at: '2026-12-01T10:03:10.000Z',
        };
      },
    });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('sandbox'));
    await r.press('6');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Drop a table')));
    expect(frame).toMatch(/› Drop a table/);
    expect(frame).toContain('Break archive_command');
    expectFits(frame);
    await r.press('j', KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Type its name')));
    expect(frame).toContain('Delete rows on sandbox? Type its name to go ahead.');
    await r.press(...'sandbo'.split(''), KEYS.enter);
    await r.waitForFrame((f) => f.includes('Type the sandbox\'s name exactly'));
    expect(api.disasters).toEqual([]);
    await r.press('x', KEYS.backspace, 'x', KEYS.backspace, 'x', KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('The disaster happened')));
    expect(api.disasters).toEqual([{ name: 'sandbox', kind: 'delete-rows' }]);
    expect(frame).toMatch(/OK\s+business as usual: a few commits/);
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('[ ] Open Restore (3)')));
    expect(frame).toMatch(/\[x\] DROP TABLE order_items \(at 10:00:06Z; the data was last whole at\s+10:00:05Z\)/);
    expect(frame).toMatch(/clock \S+ · goal RTO 15m, RPO 1m/);
    expect(frameLines(frame).at(-1)).toMatch(/r restore\s+s score\s+e end/);
    // The restore itself happens on screen 3; the session records it.
    api.training.sandbox = { ...api.training.sandbox!, restore: { at: '2026-12-01T10:03:10.000Z', port: 5499, dataDir: '/tmp/r', requested: '2026-12-01T10:00:06Z' } };
    await r.press('r');
    await r.waitForFrame((f) => f.includes('· Restore'));
    await r.press('6');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('[x] Open Restore (3)')));
    expect(frame).toContain('restored on 127.0.0.1:5499');
    // s again only while the frame shows neither the running score nor its result: twice in CI
    // the key seemed unseen, once the running score gave way to the guide (cause not found yet).
    frame = stripAnsi(await r.pressUntil('s', (f) => f.includes('Scored 100/100') || f.includes('Scoring the recovery')));
    if (!frame.includes('Scored 100/100')) frame = stripAnsi(await r.pressUntil('s', (f) => f.includes('Scored 100/100'), 'the score', 20_000));
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Score 100/100')));
    expect(frame).toMatch(/OK\s+Score 100\/100 · Recovered within both objectives\./);
    expect(frame).toMatch(/data\s+order_items is back with all 4000 rows/);
    expect(frame).toMatch(/RTO\s+3m4s \(objective 15m\) OK/);
    expect(frame).toMatch(/RPO\s+0s \(objective 1m\) OK/);
    expectFits(frame);
    await r.press('e');
    await r.waitForFrame((f) => f.includes('The sandbox is as it was'));
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('› Delete rows') && f.includes('enter cause it'), 'the menu again, the cursor where it was');
  });
});
