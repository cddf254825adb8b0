import { afterEach, describe, expect, test } from 'vitest';
import type { DrillReport } from '../../src/drill/report.js';
import { drillWork, fakeApi, target } from './fakeApi.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, selectedLine, stripAnsi, type Rendered } from './helpers.js';

afterEach(cleanupAll);


function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

const failed = (id: string, startedAt: string): DrillReport => ({
  formatVersion: 1,
  id,
  target: 'prod',
  engine: 'postgres',
  status: 'failed',
  startedAt,
  finishedAt: startedAt,
  requested: '2026-11-30T08:00:00.000Z',
  backup: '20261130T070000Z-F',
  kind: 'physical',
  steps: [
    { name: 'pick backup', status: 'done', seconds: 0.2, detail: 'physical backup 20261130T070000Z-F' },
    { name: 'verify backup files', status: 'failed', seconds: 1.4, detail: 'backup 20261130T070000Z-F is damaged: base/base.tar does not match its checksum' },
    { name: 'tear down', status: 'skipped', detail: 'nothing was started' },
  ],
  checks: [],
  failedStep: 'verify backup files',
  error: 'backup 20261130T070000Z-F is damaged: base/base.tar does not match its checksum',
});

async function openDrill(api: ReturnType<typeof fakeApi>): Promise<Rendered> {
  const r = renderApp(api);
  await r.waitForFrame((f) => f.includes('prod'));
  await r.press('4');
  await r.waitForFrame((f) => f.includes('· Drill') && f.includes('History ·'), 'the drill screen with its history');
  return r;
}

describe('Drill screen', () => {
  test('lists the drill history with status, RTO and RPO; enter opens a report with its steps and the failure', async () => {
    const api = fakeApi({ targets: [target('prod')], drills: { prod: [failed('20261130T080000Z', '2026-11-30T08:00:00.000Z')] } });
    const r = await openDrill(api);
    let frame = stripAnsi(r.lastFrame());
    expect(frame).toMatch(/History · 1 drill, newest first/);
    expect(frame).toMatch(/started\s+status\s+to\s+RTO\s+RPO\s+failed step/);
    expect(selectedLine(frame)).toMatch(/11-30 08:00Z\s+FAILED\s+11-30 08:00Z\s+—\s+—\s+verify backup files/);
    expectFits(frame);
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAILED · drill 20261130T080000Z')));
    // A step's detail wraps under the step, whole (issue 20: it was cut with … even at 120 columns).
    expect(frame).toMatch(/FAIL\s+verify backup files\s+1s\s*\n\s+backup 20261130T070000Z-F is damaged/);
    expect(frame.replace(/\s+/g, ' ')).toContain('FAIL verify backup files 1s backup 20261130T070000Z-F is damaged: base/base.tar does not match its checksum SKIP');
    // The reason is read whole: it wraps instead of being cut at the edge.
    expect(frame).toMatch(/failed at verify backup files: backup 20261130T070000Z-F is damaged:\s*\n\s+base\/base\.tar does not match its checksum/);
    expectFits(frame);
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => f.includes('History ·'), 'esc goes back to the history');
  });

  test('d runs a drill: every step listed up front, pending then running then done with times, progress, then PASSED with RTO/RPO and the checks', async () => {
    const hold = gate();
    const api = fakeApi({
      targets: [target('prod')],
      async drillWork(ctx, name, req, a) {
        for (const s of ['pick backup', 'verify backup files', 'provision scratch instance', 'restore base', 'replay WAL', 'verify', 'measure', 'tear down']) {
          ctx.emit({ type: 'step', step: s, status: 'pending' });
        }
        await ctx.step('pick backup', async () => {});
        ctx.emit({ type: 'step', step: 'restore base', status: 'running' });
        ctx.emit({ type: 'progress', phase: 'replaying WAL', done: 3, total: 5, unit: 'segments' });
        await hold.wait;
        ctx.emit({ type: 'step', step: 'restore base', status: 'done' });
        return drillWork(ctx, name, req, a);
      },
    });
    const r = await openDrill(api);
    await r.press('d');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('replaying WAL') && f.includes('RTO clock'), 'the live drill'));
    expect(api.drillsStarted).toEqual([{ name: 'prod', req: { to: 'latest' } }]);
    expect(frame).toMatch(/Drill of prod to latest · RTO clock 0s/);
    expect(frame).toMatch(/OK\s+pick backup\s+0s/);
    expect(frame).toMatch(/…\s+restore base\s+\d+s/);
    expect(frame).toMatch(/-\s+tear down/);
    expect(frame).toMatch(/\[#+\.+\]/);
    expect(frame).toMatch(/replaying WAL\s+60%\s+3 of 5 segments/);
    expect(frameLines(frame).at(-1)).toMatch(/x ctrl-c cancel/);
    expectFits(frame);
    hold.open();
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('PASSED'), 'the verdict'));
    expect(frame).toMatch(/OK\s+PASSED · drill 20261201T100000Z from 20261125T110000Z-F/);
    expect(frame).toMatch(/RTO 41s \(transfer 12s, replay 20s\) · objective 15m00s OK/);
    expect(frame).toMatch(/RPO 12s \(now minus the newest archived segment\) · objective 1m00s OK/);
    expect(frame).toMatch(/OK\s+pg_amcheck: no corruption found/);
    expect(frame).toContain('RTO clock 41s');
    expectFits(frame);
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('History · 1 drill'), 'the history has the new drill'));
    expect(selectedLine(frame)).toMatch(/PASSED\s+latest\s+41s\s+12s/);
  });

  test('the fields take a time and objectives; the drill runs with them', async () => {
    const api = fakeApi({ targets: [target('prod')] });
    const r = await openDrill(api);
    await r.press(KEYS.tab);
    await r.waitForFrame((f) => stripAnsi(f).includes('› to '));
    await r.press(...'-15m'.split('').map((c) => c), KEYS.tab);
    await r.press(...'30m'.split(''), KEYS.tab, ...'5m'.split(''));
    const frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes('› RPO  5m')));
    // The first key typed replaced the default (issue 20: "latest" + "-15m" gave "latest-15m").
    expect(frame).toMatch(/to\s+-15m\s/);
    expect(frame).not.toContain('latest-15m');
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('PASSED'));
    expect(api.drillsStarted.at(-1)).toEqual({ name: 'prod', req: { to: '-15m', rto: '30m', rpo: '5m' } });
  });

  test('x asks before cancelling; only y cancels, and the aborted drill says so', async () => {
    const api = fakeApi({
      targets: [target('prod')],
      async drillWork(ctx) {
        ctx.emit({ type: 'step', step: 'replay WAL', status: 'running' });
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        ctx.emit({ type: 'step', step: 'replay WAL', status: 'failed', detail: 'aborted' });
        throw new Error('The drill was cancelled: aborted: cancelled from the console.');
      },
    });
    const r = await openDrill(api);
    await r.press('d');
    await r.waitForFrame((f) => f.includes('replay WAL'));
    await r.press('x');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Cancel the drill?')));
    expect(frameLines(frame).at(-1)).toMatch(/y cancel the drill\s+n keep it running/);
    await r.press('n');
    await r.waitForFrame((f) => !f.includes('Cancel the drill?'));
    await r.press('x', 'y');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL The drill was cancelled')));
    expect(frame).toMatch(/FAIL\s+replay WAL/);
  });
});
