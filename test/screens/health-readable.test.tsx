import { afterEach, describe, expect, test } from 'vitest';
import { HEALTH_KEYS, healthReducer, initialHealth, intervalSeconds } from '../../screens/health/healthState.js';
import { helpEntries } from '../../screens/layout/HelpOverlay/HelpOverlay.js';
import { fakeApi, target } from './fakeApi.js';
import { pgSeries } from './healthFixtures.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

// Issue 20: at 80x24 the CRIT reason stopped mid-sentence and only 2-3 of 6 checks showed (none at 60x20).

const crit = pgSeries(8, 3).at(-1)!;
const worst = crit.checks.find((c) => c.status === 'CRIT')!;
const others = crit.checks.filter((c) => c !== worst);
const body = (frame: string) => frameLines(stripAnsi(frame)).slice(3, -2);
const joined = (lines: string[]) => lines.map((l) => l.replace(/^(CRIT|WARN|OK)\s/, '').trim()).join(' ').replace(/\s+/g, ' ');

describe('Health: the worst check whole, the rest scroll', () => {
  for (const [columns, rows] of [[80, 24], [60, 20]] as const) {
    test(`at ${columns}x${rows} the CRIT reason reads whole and every check can be reached, with what is hidden counted`, async () => {
      const r = renderApp(fakeApi({ targets: [target('prod')], healthSample: async () => crit }), { columns, rows });
      await r.waitForFrame((f) => f.includes('prod'));
      await r.press('5');
      let frame = await r.waitForFrame((f) => f.includes('sample 1'));
      expectFits(stripAnsi(frame), { columns, rows });
      const seen = new Set<string>();
      let text = '';
      // Scroll to the end, collecting what shows; the marker counts what is below.
      for (let i = 0; i < 40; i++) {
        const lines = body(frame);
        text += ' ' + joined(lines);
        for (const c of crit.checks) if (lines.some((l) => l.includes(`${c.name}:`))) seen.add(c.name);
        const marker = lines.at(-1) ?? '';
        if (!/↓ \d+ more below/.test(marker)) break;
        await r.press(KEYS.down);
        frame = await r.waitForFrame((f) => stripAnsi(f) !== stripAnsi(frame), 'the pane scrolled');
      }
      expect([...seen].sort()).toEqual(crit.checks.map((c) => c.name).sort());
      // The worst reason, word for word, with no "…" cut inside it.
      expect(text.replace(/\s+/g, ' ')).toContain(`archiving: ${worst.reason}`);
      for (const c of others) expect(text.replace(/\s+/g, ' ')).toContain(`${c.name}: ${c.reason}`);
    });
  }

  test('at 80x24 the headline holds the whole CRIT reason and the first lines say how much is below', async () => {
    const r = renderApp(fakeApi({ targets: [target('prod')], healthSample: async () => crit }));
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('5');
    const lines = body(await r.waitForFrame((f) => f.includes('sample 1')));
    const head = lines.slice(1, lines.findIndex((l) => l.startsWith('status')));
    expect(joined(head)).toBe(`archiving: ${worst.reason}`);
    expect(lines.at(-1)).toMatch(/^↓ \d+ more below · ↑↓ scroll$/);
  });

  test('a reason written for the CLI names the field to fix in the console, not its flag', async () => {
    // The engine's sentence for a refused connection says "fix the target's --host/--port".
    const refused = {
      ...crit,
      checks: [{ name: 'server', status: 'CRIT' as const, reason: "Nothing accepts connections at 10.0.0.5:1 (connection refused); check that the server runs there or fix the target's --host/--port." }, ...crit.checks.filter((c) => c.name !== 'server')],
    };
    const r = renderApp(fakeApi({ targets: [target('prod')], healthSample: async () => refused }));
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('5');
    const text = joined(body(await r.waitForFrame((f) => f.includes('sample 1'))));
    expect(text).toContain("fix the target's host and port (e on Targets).");
    expect(text).not.toMatch(/--host|--port/);
  });

  test('+ and - do what help and the footer say: one table drives all three', () => {
    const plus = HEALTH_KEYS.find((k) => k.keys === '+')!;
    const minus = HEALTH_KEYS.find((k) => k.keys === '-')!;
    const slower = healthReducer(initialHealth, plus.action('+', {}, 0));
    const faster = healthReducer(initialHealth, minus.action('-', {}, 0));
    expect(intervalSeconds(slower)).toBeGreaterThan(intervalSeconds(initialHealth));
    expect(intervalSeconds(faster)).toBeLessThan(intervalSeconds(initialHealth));
    expect(plus.help).toBe('less often');
    expect(minus.help).toBe('more often');
    const help = helpEntries().find((k) => k.label.startsWith('Health:'))!;
    expect(help.label).toContain('+ less often');
    expect(help.label).toContain('- more often');
  });
});
