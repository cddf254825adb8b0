import { afterEach, describe, expect, test } from 'vitest';
import { fakeApi, target, trainingSession, type FakeApi } from './fakeApi.js';
import { BASE_A, BASE_B, prodManifests } from './fixtures.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, stripAnsi, type Rendered } from './helpers.js';

afterEach(cleanupAll);

// Issue 20: the restore picker keeps one source of truth for the chosen moment.

const targets = () => [target('prod'), target('staging')];
const plain = (r: Rendered) => stripAnsi(r.lastFrame());
/** The body of the frame: what sits between the header and the footer's rule. */
const body = (frame: string) => {
  const lines = frameLines(frame);
  const rules = lines.flatMap((l, i) => (l.startsWith('────') ? [i] : []));
  return lines.slice((rules[0] ?? 0) + 1, rules.at(-1)).join('\n');
};
const markers = (frame: string) => [...body(frame)].filter((c) => c === '›').length;

async function openRestore(api: FakeApi): Promise<Rendered> {
  const r = renderApp(api);
  await r.waitForFrame((f) => f.includes('staging'));
  await r.press('3');
  await r.waitForFrame((f) => f.includes('Recoverable window of prod'), 'the window of prod');
  return r;
}

async function typeKeys(r: Rendered, text: string): Promise<void> {
  for (const ch of text) await r.press(ch);
}

describe('Restore picker: the moment chosen', () => {
  test('r on a backup after a finished restore opens a fresh picker with that backup chosen, and enter plans it', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    const r = await openRestore(api);
    // A restore to a typed time, run to its end.
    await r.press(KEYS.tab);
    await r.waitForFrame((f) => stripAnsi(f).includes('› Time'));
    await typeKeys(r, '2026-11-25T09:04:00Z');
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('Plan: restore prod'));
    await typeKeys(r, 'prod');
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('Restored: a new server is up'));
    // Straight to the Catalog, the oldest base backup, r.
    await r.press('2');
    await r.waitForFrame((f) => f.includes('· Catalog') && f.includes(BASE_A));
    await r.press('j', 'j', 'j');
    await r.waitForFrame((f) => stripAnsi(f).includes(`› ${BASE_A}`), 'the oldest base backup selected');
    await r.press('r');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('· Restore') && stripAnsi(f).includes(`› end of ${BASE_A}`), 'a fresh picker on that backup'));
    expect(frame).not.toContain('Restored:');
    expect(frame).not.toMatch(/› latest/);
    expect(frame).toMatch(/Time\s+2026-11-25T09:01:30.000Z\s+= 2026-11-25 09:01:30Z/);
    expect(frame).toMatch(/^ \^ 2026-11-25 09:01:30Z$/m);
    expect(frame).toMatch(/Into\s+\/tmp\/dbdrill-prod-20261125T090130Z/);
    expect(markers(frame)).toBe(1);
    expectFits(frame);
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('Plan: restore prod'));
    expect(api.plans.at(-1)).toMatchObject({ to: '2026-11-25T09:01:30.000Z', backup: BASE_A, into: '/tmp/dbdrill-prod-20261125T090130Z' });
  });

  test('a typed time unmarks the presets; enter plans what the screen shows; the arrows go on from it', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    const r = await openRestore(api);
    await r.press(KEYS.tab);
    await r.waitForFrame((f) => stripAnsi(f).includes('› Time'));
    await typeKeys(r, '2026-11-25T09:04:00Z');
    await r.press(KEYS.escape);
    let frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes('› Presets'), 'the presets focused, none chosen'));
    // No preset is the chosen moment: none is marked, and the ^ stands at the typed time.
    expect(frame).not.toMatch(/[›•] (latest|end of)/);
    expect(frame).toMatch(/^\s+\^ 2026-11-25 09:04:00Z$/m);
    expect(markers(frame)).toBe(1);
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('Plan: restore prod'));
    expect(api.plans.at(-1)).toEqual({ to: '2026-11-25T09:04:00Z', into: '/tmp/dbdrill-prod-20261125T090400Z', port: 54871 });
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => f.includes('Recoverable window of prod'));
    // Down from 09:04 is the nearest earlier preset: the end of the oldest backup (09:01:30).
    await r.press(KEYS.down);
    frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes(`› end of ${BASE_A}`)));
    expect(frame).toMatch(/Time\s+2026-11-25T09:01:30.000Z/);
    // ] goes to the next backup end, [ back; → and ← step one minute, showing the time as it moves.
    await r.press(']');
    frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes(`› end of ${BASE_B}`)));
    await r.press(KEYS.right);
    frame = stripAnsi(await r.waitForFrame((f) => /Time\s+2026-11-25T09:09:30Z/.test(stripAnsi(f)), 'one minute after the end of B'));
    expect(frame).toMatch(/= 2026-11-25 09:09:30Z/);
    expect(frame).toMatch(/^\s+(\^ 2026-11-25 09:09:30Z|2026-11-25 09:09:30Z \^)$/m);
    await r.press(KEYS.left, KEYS.left);
    await r.waitForFrame((f) => /Time\s+2026-11-25T09:07:30Z/.test(stripAnsi(f)), 'two minutes back');
  });

  test('one › on screen while a field is edited; the field shows a cursor and the first key replaces its default', async () => {
    const r = await openRestore(fakeApi({ targets: targets(), manifests: { prod: prodManifests() } }));
    await r.press(KEYS.tab);
    let frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes('› Time')));
    expect(markers(frame)).toBe(1);
    // The chosen preset stays visible, marked as chosen rather than focused.
    expect(frame).toMatch(/• latest/);
    expect(frame).toMatch(/› Time\s+█latest/);
    await r.press('x');
    frame = stripAnsi(await r.waitForFrame((f) => /› Time\s+x█/.test(stripAnsi(f)), 'x replacing latest'));
    expect(frame).not.toContain('latestx');
    await r.press(KEYS.backspace);
    await typeKeys(r, '-2m');
    frame = stripAnsi(await r.waitForFrame((f) => /› Time\s+-2m█/.test(stripAnsi(f))));
    // Into: the first key replaces the default directory.
    await r.press(KEYS.tab);
    await r.waitForFrame((f) => /› Into\s+█/.test(stripAnsi(f)));
    await typeKeys(r, '/srv/r1');
    frame = stripAnsi(await r.waitForFrame((f) => /› Into\s+\/srv\/r1█/.test(stripAnsi(f))));
    expect(markers(frame)).toBe(1);
    expectFits(frame);
  });

  test('at 60x20 the picker keeps enter plan in the footer and fits', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    const r = renderApp(api, { columns: 60, rows: 20 });
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('3');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('Recoverable window of prod') && f.includes('Port')));
    expect(frameLines(frame).at(-1)).toContain('enter plan');
    expect(frameLines(frame).at(-1)).toContain('esc back');
    expectFits(frame, { columns: 60, rows: 20 });
    expect(plain(r)).toContain('› latest');
  });

  test('a recorded disaster is marked on the timeline, and a moment after it is warned of', async () => {
    const session = trainingSession('drop-table', { target: 'prod', lastGoodAt: '2026-11-25T09:04:59.800Z', disasterAt: '2026-11-25T09:05:00.500Z' });
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() }, training: { prod: session } });
    const r = await openRestore(api);
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('DROP TABLE order_items'), 'the disaster named'));
    expect(frame).toContain('D 09:05:00Z DROP TABLE order_items · g last good commit 09:04:59Z');
    // The marks line: D where it falls on the bar's scale (g, 0.7 s before, shares its cell).
    expect(frame).toMatch(/^ {30,}D$/m);
    // latest is after the disaster: the picker says so before any plan.
    expect(frame).toMatch(/WARN\s+after the disaster: the damage comes back too; last good 09:04:59Z/);
    for (const l of frameLines(frame)) expect(l.endsWith('…')).toBe(false);
    expectFits(frame);
    await r.press(KEYS.tab);
    await typeKeys(r, '2026-11-25T09:05:00Z');
    frame = stripAnsi(await r.waitForFrame((f) => /Time\s+2026-11-25T09:05:00Z█/.test(stripAnsi(f))));
    expect(frame).not.toContain('after the disaster');
  });
});
