import { afterEach, describe, expect, test } from 'vitest';
import { fakeApi, target } from './fakeApi.js';
import { cleanupAll, frameLines, KEYS, renderApp, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

const api = () => fakeApi({ targets: [target('prod'), target('staging')] });

function expectFits(frame: string, columns: number, rows: number): void {
  const lines = frameLines(frame);
  expect(lines.length).toBeLessThanOrEqual(rows - 1);
  for (const line of lines) expect([...line].length).toBeLessThanOrEqual(columns);
}

describe('console shell at 80x24', () => {
  test('the header names the screen, the version and the config dir; the frame fits in 23 lines', async () => {
    const r = renderApp(api());
    const frame = await r.waitForFrame((f) => f.includes('staging'));
    const [title, tabs] = frameLines(frame);
    expect(title).toContain('dbdrill 0.1.0 · Targets');
    expect(title).toContain('/.config/dbdrill');
    expect(tabs).toContain('›1 Targets');
    expect(frameLines(frame)).toHaveLength(23);
    expectFits(frame, 80, 24);
  });

  test('number keys jump between screens and the header follows', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('staging'));
    const names = { '2': 'Catalog', '3': 'Restore', '4': 'Drill', '5': 'Health', '1': 'Targets' };
    for (const [key, name] of Object.entries(names)) {
      await r.press(key);
      const frame = await r.waitForFrame((f) => frameLines(f)[0]!.includes(`· ${name}`), name);
      expect(frameLines(frame)[1]).toContain(`›${key} ${name}`);
      expectFits(frame, 80, 24);
    }
  });

  test('2 opens the Catalog of the target selected on Targets', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('j', '2');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('No backups of staging yet')));
    expect(frameLines(frame)[0]).toContain('· Catalog');
    expect(frame).toContain('press b to take one');
    expect(frameLines(frame).at(-1)).toContain('esc back');
  });

  test('esc and q on another screen go back to Targets instead of quitting', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('3');
    await r.waitForFrame((f) => f.includes('· Restore'));
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => f.includes('· Targets'), 'Targets after esc');
    await r.press('4');
    await r.waitForFrame((f) => f.includes('· Drill'));
    await r.press('q');
    await r.waitForFrame((f) => f.includes('· Targets'), 'Targets after q');
  });

  test('? toggles a help overlay that lists the whole key map', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('?');
    const help = stripAnsi(await r.waitForFrame((f) => f.includes('Keys (the same on every screen)')));
    for (const k of ['1-7', 'j k', 'enter', 'esc  q', 'tab', '/', '?', 'ctrl-c']) expect(help).toContain(k);
    expect(help).not.toContain('staging');
    // Keys meant for the screen do not leak through the overlay.
    await r.press('2');
    expect(frameLines(r.lastFrame())[0]).toContain('· Targets');
    await r.press('?');
    await r.waitForFrame((f) => f.includes('staging') && !f.includes('Keys (the same'), 'help closed');
  });

  test('help works on every screen and esc closes it', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('5', '?');
    await r.waitForFrame((f) => f.includes('Keys (the same'));
    await r.press(KEYS.escape);
    const frame = await r.waitForFrame((f) => !f.includes('Keys (the same'), 'help closed');
    expect(frameLines(frame)[0]).toContain('· Health');
  });

  test('q on Targets quits: the app unmounts and waitUntilExit resolves', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('staging'));
    const exited = r.instance.waitUntilExit();
    await r.press('q');
    await expect(exited).resolves.toBeUndefined();
  });

  test('esc on Targets does not quit', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('staging'));
    let exited = false;
    void r.instance.waitUntilExit().then(() => (exited = true));
    await r.press(KEYS.escape);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exited).toBe(false);
  });

  test('ctrl-c quits from any screen', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('3');
    const exited = r.instance.waitUntilExit();
    await r.press(KEYS.ctrlC);
    await expect(exited).resolves.toBeUndefined();
  });

  test('the frame follows a resize and keeps one line short of the terminal', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('staging'));
    r.stdout.resize(100, 30);
    let frame = await r.waitForFrame((f) => frameLines(f).length === 29, '29 lines at 100x30');
    expectFits(frame, 100, 30);
    r.stdout.resize(60, 15);
    frame = await r.waitForFrame((f) => frameLines(f).length === 14, '14 lines at 60x15');
    expectFits(frame, 60, 15);
    expect(frame).toContain('staging');
  });

  test('a terminal too small says so in one line, and keeps state for when it grows', async () => {
    const r = renderApp(api());
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('j');
    r.stdout.resize(30, 8);
    const small = await r.waitForFrame((f) => f.includes('needs at least'));
    expectFits(small, 30, 8);
    r.stdout.resize(80, 24);
    const back = await r.waitForFrame((f) => f.includes('staging'));
    expect(frameLines(back).find((l) => l.startsWith('› '))).toContain('staging');
  });
});
