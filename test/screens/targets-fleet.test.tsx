import { afterEach, describe, expect, test } from 'vitest';
import { ageTickMs, initialTargets, targetsReducer } from '../../screens/targets/targetsState.js';
import type { TargetSummary } from '../../screens/api.js';
import { fakeApi, target } from './fakeApi.js';
import { cleanupAll, expectFits, KEYS, renderApp, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

// Issue 20, a fleet: every row's archiver and window are asked at once, so a host that never
// answers holds only its own row (then "no answer"), and an idle console does not redraw.

describe('Targets over a fleet', () => {
  test('a silent host does not hold up the rows after it; it is marked "no answer" with its reason', async () => {
    const names = ['a-silent', 'b-silent', 'c-live', 'd-live'];
    let release: (s: TargetSummary) => void = () => {};
    const silent = new Promise<TargetSummary>((ok) => (release = ok));
    const asked: string[] = [];
    const api = fakeApi({
      targets: names.map((n) => target(n)),
      summary: (name) => {
        asked.push(name);
        return name.endsWith('silent') ? silent : Promise.resolve({ archiver: 'OK', window: '2h' });
      },
    });
    const r = renderApp(api);
    // The live rows fill in while both silent ones are still waiting.
    let frame = stripAnsi(await r.waitForFrame((f) => /c-live .* OK +2h/.test(stripAnsi(f)) && /d-live .* OK +2h/.test(stripAnsi(f)), 'the live rows filled in'));
    expect(asked.sort()).toEqual([...names].sort());
    expect(frame).toMatch(/a-silent .* — +—/);
    release({ archiver: 'no answer', reason: 'no answer (timeout 3s)' });
    frame = stripAnsi(await r.waitForFrame((f) => /a-silent .* no answer/.test(stripAnsi(f)), 'the silent rows marked'));
    expect(frame).toMatch(/b-silent .* no answer/);
    // The selected row's reason says what "no answer" means.
    expect(frame).toContain('no answer (timeout 3s)');
    expectFits(frame);
    await r.press(KEYS.down);
    await r.waitForFrame((f) => stripAnsi(f).includes('no answer (timeout 3s)'));
  });

  test('idle, nothing is redrawn: no age to tick, and a reload that found nothing new changes no state', () => {
    const now = Date.parse('2026-12-07T05:00:00Z');
    expect(ageTickMs([{}, {}], now)).toBeUndefined();
    expect(ageTickMs([{ newestBackupAt: '2026-12-07T04:59:00Z' }], now)).toBe(1000);
    expect(ageTickMs([{ newestBackupAt: '2026-12-07T02:00:00Z' }], now)).toBe(60_000);
    const rows = [target('a'), target('b')];
    const loaded = targetsReducer(initialTargets, { type: 'loaded', rows });
    expect(targetsReducer(loaded, { type: 'loaded', rows: structuredClone(rows) })).toBe(loaded);
    expect(targetsReducer(loaded, { type: 'loaded', rows: [...rows, target('c')] })).not.toBe(loaded);
  });
});
