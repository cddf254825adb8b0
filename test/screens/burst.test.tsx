import { afterEach, describe, expect, test } from 'vitest';
import { fakeApi, target } from './fakeApi.js';
import { BASE_B, prodManifests } from './fixtures.js';
import { cleanupAll, KEYS, renderApp, selectedLine, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

// Issue 20: "Enter 3 Tab BSpace×22 -2m Enter" typed right after a backup finished lost the 3.
// Keys typed while a screen changes (and reads what it will show) must not be lost.

describe('a burst of keys across a screen change', () => {
  test('enter closes the finished backup, 3 opens Restore, and the rest lands in its time field and plans', async () => {
    const api = fakeApi({ targets: [target('prod'), target('staging')], manifests: { prod: prodManifests() } });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('· Catalog') && f.includes('prod · 4 backups'));
    await r.press('b');
    await r.waitForFrame((f) => stripAnsi(f).includes('logical'));
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => /Backup .* done|OK\s+Backup|back to the catalog/.test(stripAnsi(f)), 'the backup finished');
    // One chunk, as a fast typist over SSH delivers it.
    r.stdin.write(`\r3\t${'\u007f'.repeat(22)}-2m\r`);
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('Plan: restore prod') || /FAIL/.test(stripAnsi(f)), 'the plan (or its refusal) for -2m'));
    expect(frame).toContain('· Restore');
    expect(api.plans.at(-1)?.to).toBe('-2m');
  });

  test('keys typed before the Catalog has read its list wait for it: j then r restores from the second backup', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const base = fakeApi({ targets: [target('prod'), target('staging')], manifests: { prod: prodManifests() } });
    const slowList = base.listBackups.bind(base);
    base.listBackups = async (name) => {
      await gate;
      return slowList(name);
    };
    const r = renderApp(base);
    await r.waitForFrame((f) => f.includes('staging'));
    // enter opens the Catalog, whose list is not read yet; j j r are typed at once.
    r.stdin.write('\rjjr');
    await r.waitForFrame((f) => f.includes('· Catalog'));
    release();
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('· Restore') && stripAnsi(f).includes(`› end of ${BASE_B}`), 'Restore from the third row'));
    expect(selectedLine(frame)).toBeUndefined();
  });

  test("a finished backup's view gives way to a table key: r right after it restores from the selected backup", async () => {
    const api = fakeApi({ targets: [target('prod'), target('staging')], manifests: { prod: prodManifests() } });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('prod · 4 backups'));
    await r.press('b');
    await r.waitForFrame((f) => stripAnsi(f).includes('logical'));
    await r.press(KEYS.right, KEYS.enter);
    await r.waitForFrame((f) => stripAnsi(f).includes('back to the catalog'), 'the physical backup finished');
    // Footer: one key to go back, not "enter back … esc back".
    expect(stripAnsi(r.lastFrame())).not.toMatch(/esc back\s*$/m);
    // The new physical backup is the selected row; r is not swallowed by the finished run's view.
    await r.press('r');
    await r.waitForFrame((f) => f.includes('· Restore') && f.includes('Recoverable window of prod'), 'Restore opened by r');
  });
});

describe('narrow terminals', () => {
  test('at 60x20 Targets keeps the port of each target (the host is cut from the start)', async () => {
    const r = renderApp(fakeApi({ targets: [target('prod', { host: 'db-primary.eu-west-1.internal.example.com', port: 6432 }), target('staging')] }), { columns: 60, rows: 20 });
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('staging')));
    expect(frame).toMatch(/› prod\s+postgres\s+…\S*:6432/);
    expect(frame).toMatch(/staging\s+postgres\s+\S*:5432/);
  });
});
