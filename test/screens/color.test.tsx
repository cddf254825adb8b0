import { afterEach, expect, test, vi } from 'vitest';

// The counterpart of nocolor.test.tsx: with colour on, selection is inverse and statuses coloured.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

const { fakeApi, target } = await import('./fakeApi.js');
const { cleanupAll, renderApp, selectedLine, stripAnsi } = await import('./helpers.js');

afterEach(cleanupAll);

test('with colour on, the selected row is inverse as well as marked, and CRIT is red', async () => {
  const r = renderApp(fakeApi({ targets: [target('prod', { archiver: 'OK' }), target('reports', { archiver: 'CRIT' })] }));
  const frame = await r.waitForFrame((f) => f.includes('reports'));
  const rowLine = frame.split('\n').find((l) => stripAnsi(l).startsWith('› prod'));
  expect(rowLine).toContain('\u001B[7m');
  const crit = frame.split('\n').find((l) => l.includes('reports'));
  expect(crit).toContain('\u001B[31m');
  expect(selectedLine(frame)).toContain('prod');
});
