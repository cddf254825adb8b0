import { afterEach, describe, expect, test } from 'vitest';
import type { DrillReport } from '../../src/drill/report.js';
import { fakeApi, target } from './fakeApi.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, stripAnsi, type Rendered } from './helpers.js';

afterEach(cleanupAll);

// Issue 20: focus always visible, keys never go somewhere unseen, reports readable whole.

const body = (frame: string) => frameLines(stripAnsi(frame)).slice(3, -2).join('\n');

async function openDrill(api: ReturnType<typeof fakeApi>, size?: { columns: number; rows: number }): Promise<Rendered> {
  const r = renderApp(api, size);
  await r.waitForFrame((f) => f.includes('prod'));
  await r.press('4');
  await r.waitForFrame((f) => f.includes('· Drill') && f.includes('History ·'), 'the drill screen with its history');
  return r;
}

const longDetail =
  'restored 20261130T070000Z-F into /var/tmp/dbdrill-drill-prod-20261130T080000Z/data and replayed 42 archived segments from /srv/backups/prod/wal/00000001 up to 2026-11-30 07:59:58Z; the server reached a consistent state at 0/2A000028 and was promoted on timeline 2';

const report = (id: string, startedAt: string): DrillReport => ({
  formatVersion: 1, id, target: 'prod', engine: 'postgres', status: 'passed', startedAt, finishedAt: startedAt, requested: 'latest',
  backup: '20261130T070000Z-F', kind: 'physical',
  steps: [
    { name: 'pick backup', status: 'done', seconds: 0.2, detail: 'physical backup 20261130T070000Z-F' },
    { name: 'restore and replay', status: 'done', seconds: 31, detail: longDetail },
    ...Array.from({ length: 12 }, (_, i) => ({ name: `check ${i + 1}`, status: 'done' as const, seconds: 0.1, detail: `table ${i + 1} holds the rows it held at the backup` })),
  ],
  checks: [],
});

describe('Drill: focus and reports', () => {
  test('after editing RTO/RPO and running a drill, enter goes back to the list and 1 switches screens', async () => {
    const api = fakeApi({ targets: [target('prod')] });
    const r = await openDrill(api);
    await r.press(KEYS.tab, KEYS.tab, KEYS.tab);
    await r.waitForFrame((f) => stripAnsi(f).includes('› RPO'));
    await r.press('1', '0', 's');
    let frame = await r.waitForFrame((f) => stripAnsi(f).includes('› RPO  10s'));
    // One › on the screen while a field is edited: the history's row is marked • meanwhile.
    expect([...body(frame)].filter((c) => c === '›')).toHaveLength(1);
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('PASSED'), 'the drill done');
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('History ·') && !f.includes('PASSED ·'), 'back to the history');
    await r.press('1');
    frame = await r.waitForFrame((f) => f.includes('· Targets'), '1 switched to Targets');
    expect(api.drillsStarted.at(-1)?.req.rpo).toBe('10s');
    await r.press('4');
    frame = await r.waitForFrame((f) => f.includes('· Drill'));
    expect(stripAnsi(frame)).not.toContain('10s1');
  });

  test('a stored report reads whole: details wrap under their step and the report scrolls with a count', async () => {
    const api = fakeApi({ targets: [target('prod')], drills: { prod: [report('20261130T080000Z', '2026-11-30T08:00:00.000Z')] } });
    const r = await openDrill(api);
    await r.press(KEYS.enter);
    let frame = await r.waitForFrame((f) => f.includes('PASSED · drill 20261130T080000Z'));
    expectFits(stripAnsi(frame));
    let text = '';
    for (let i = 0; i < 40; i++) {
      const b = body(frame);
      text += '\n' + b;
      const last = b.split('\n').at(-1) ?? '';
      if (!/↓ \d+ more below/.test(last)) break;
      await r.press(KEYS.down);
      frame = await r.waitForFrame((f) => stripAnsi(f) !== stripAnsi(frame), 'the report scrolled');
    }
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain(longDetail);
    expect(flat).toContain('check 12');
    for (const l of text.split('\n')) if (l.trimEnd().endsWith('…')) throw new Error(`cut line: ${l}`);
  });
});
