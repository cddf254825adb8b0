import { afterEach, expect, test, vi } from 'vitest';

// What the entry point does for NO_COLOR: chalk decides its colour level when ink is first
// imported, so this must run before any import that pulls in ink.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '0';
});

const { fakeApi, target } = await import('./fakeApi.js');
const { cleanupAll, KEYS, renderApp, selectedLine, stripAnsi } = await import('./helpers.js');

afterEach(cleanupAll);

test('with colour off the frame has no colour codes and still reads: › selection, OK/WARN/CRIT/FAIL words', async () => {
  const r = renderApp(
    fakeApi({
      targets: [target('prod', { archiver: 'OK' }), target('staging', { archiver: 'WARN' }), target('reports', { archiver: 'CRIT' })],
    }),
  );
  const frame = await r.waitForFrame((f) => f.includes('reports'));
  expect(frame).not.toMatch(/\u001B\[/);
  expect(frame).toBe(stripAnsi(frame));
  expect(selectedLine(frame)).toMatch(/prod.*OK/);
  expect(frame).toMatch(/staging.*WARN/);
  expect(frame).toMatch(/reports.*CRIT/);
  expect(frame.split('\n')[1]).toContain('›1 Targets');
  await r.press(KEYS.down);
  const moved = await r.waitForFrame((f) => selectedLine(f)?.includes('staging') ?? false);
  expect(moved).not.toMatch(/\u001B\[/);
});

test('a failed sandbox start says FAIL in words without colour', async () => {
  const r = renderApp(
    fakeApi({
      work: async () => {
        throw new Error('port 54315 is in use; stop what listens there or run dbdrill sandbox stop.');
      },
    }),
  );
  await r.waitForFrame((f) => f.includes('No targets yet'));
  await r.press(KEYS.enter);
  const frame = await r.waitForFrame((f) => f.includes('port 54315 is in use'));
  expect(frame).not.toMatch(/\u001B\[/);
  expect(frame).toMatch(/FAIL\s+port 54315 is in use/);
});
