import type { DrillReport } from '../../src/drill/report.js';
import { afterEach, describe, expect, test } from 'vitest';
import type { PitrReport } from '../../src/ops/pitr.js';
import { drawTimeline, describeGaps } from '../../screens/restore/timeline.js';
import { defaultInto, presetsOf } from '../../screens/restore/restoreState.js';
import { fakeApi, target, type FakeApi } from './fakeApi.js';
import { BASE_A, BASE_B, logical, prodManifests, prodWindow } from './fixtures.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, stripAnsi, type Rendered } from './helpers.js';

afterEach(cleanupAll);

const targets = () => [target('prod'), target('staging')];


/** Opens Restore for prod (selected on Targets, then 3). */
async function openRestore(api: FakeApi): Promise<Rendered> {
  const r = renderApp(api);
  await r.waitForFrame((f) => f.includes('staging'));
  await r.press('3');
  await r.waitForFrame((f) => f.includes('Recoverable window of prod'), 'the window of prod');
  return r;
}

/** Focuses the time field, clears it and types `text`. */
async function typeTime(r: Rendered, text: string): Promise<void> {
  const frame = stripAnsi(r.lastFrame());
  if (/› (Into|Port)/.test(frame)) {
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => stripAnsi(f).includes('↑↓ backup end'), 'the presets focused');
  }
  if (!stripAnsi(r.lastFrame()).includes('› Time')) await r.press(KEYS.tab);
  await r.waitForFrame((f) => stripAnsi(f).includes('› Time'), 'the time field focused');
  for (let i = 0; i < 40; i++) await r.press(KEYS.backspace);
  for (const ch of text) await r.press(ch);
}

describe('the timeline (pure)', () => {
  test('backups are B, what they reach is =, the gap between is x; the ends and the chosen moment are labelled', () => {
    const w = prodWindow();
    const d = drawTimeline(w, 80, new Date('2026-11-25T09:04:00Z'))!;
    expect(d.bar).toHaveLength(80);
    expect(d.bar).toMatch(/^\[B=+x+B=+\]$/);
    // 09:01:30 → 09:06:00 is reachable from A, 09:08:30 → 09:10:00 from B, the rest is the gap.
    const xs = d.bar.match(/x+/)![0].length;
    expect(xs / 78).toBeGreaterThan(0.25);
    expect(xs / 78).toBeLessThan(0.35);
    expect(d.caret.trimStart()).toBe('^ 2026-11-25 09:04:00Z');
    expect(d.ends).toMatch(/^2026-11-25 09:01:30Z\s+2026-11-25 09:10:00Z$/);
    expect(drawTimeline(w, 80, new Date('2026-11-25T12:00:00Z'))!.caret).toMatch(/2026-11-25 12:00:00Z \(after the window\) \^$/);
    expect(describeGaps(w)).toBe('WAL gap on timeline 1: 000000010000000000000007 missing (1 segment)');
    // With no WAL gap, an x is time after a backup's last archived commit: nothing to stop at.
    expect(describeGaps({ ...w, gaps: [] }, true)).toBe('no gaps in the archive (8 segments on timeline 1); x: no archived commit to stop at');
    expect(d.unreachable).toBe(true);
    expect(presetsOf(w).map((p) => p.label)).toEqual(['latest', `end of ${BASE_B}`, `end of ${BASE_A}`]);
    expect(defaultInto('/tmp', 'prod', '2026-11-25T09:04:00Z', w)).toBe('/tmp/dbdrill-prod-20261125T090400Z');
    expect(defaultInto('/tmp', 'prod', 'latest', w)).toBe('/tmp/dbdrill-prod-20261125T091000Z');
  });
});

describe('Restore screen', () => {
  test('draws the window as a timeline with a legend, and offers latest and each backup end as presets', async () => {
    const r = await openRestore(fakeApi({ targets: targets(), manifests: { prod: prodManifests() } }));
    let frame = stripAnsi(r.lastFrame());
    expect(frame).toContain('Recoverable window of prod: 2026-11-25 09:01:30Z → 2026-11-25 09:10:00Z');
    expect(frame).toMatch(/^\[B=+x+B=+\]$/m);
    expect(frame).toContain('B backup  = recoverable  x not recoverable  ^ chosen');
    expect(frame).toContain('WAL gap on timeline 1: 000000010000000000000007 missing (1 segment)');
    expect(frame).toMatch(/Presets\s+› latest\s+2026-11-25 09:10:00Z/);
    expect(frame).toMatch(new RegExp(`end of ${BASE_B}\\s+2026-11-25 09:08:30Z`));
    expect(frame).toMatch(/Time\s+latest\s+= 2026-11-25 09:10:00Z, newest archived commit/);
    expect(frame).toMatch(/Into\s+\/tmp\/dbdrill-prod-20261125T091000Z\s+new directory/);
    expect(frame).toMatch(/Port\s+54871\s+on 127\.0\.0\.1/);
    expect(frameLines(frame).at(-1)).toMatch(/enter plan {2}↑↓ backup end {2}, \. commit {2}←→ 1 min {2}tab fields/);
    expectFits(frame);

    await r.press(KEYS.down, KEYS.down);
    frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes(`› end of ${BASE_A}`)));
    expect(frame).toMatch(new RegExp(`Time\\s+2026-11-25T09:01:30.000Z\\s+= 2026-11-25 09:01:30Z`));
    expect(frame).toMatch(/^ \^ 2026-11-25 09:01:30Z$/m);
    expect(frame).toContain('/tmp/dbdrill-prod-20261125T090130Z');
  });

  test('the time field takes ISO with a zone, -15m or latest, and says what it resolves to', async () => {
    const r = await openRestore(fakeApi({ targets: targets(), manifests: { prod: prodManifests() } }));
    await typeTime(r, '2026-11-25 09:05');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('2026-11-25 09:05')));
    expect(frame).toMatch(/Time\s+2026-11-25 09:05█\s+\? ISO 8601 with a zone, -15m or latest/);
    // q and digits are text here, not screen keys.
    expect(frameLines(frame)[0]).toContain('· Restore');
    await r.press('+', '0', '1', ':', '0', '0');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('09:05+01:00')));
    expect(frame).toMatch(/Time\s+2026-11-25 09:05\+01:00█\s+= 2026-11-25 08:05:00Z/);
    await typeTime(r, '-15m');
    frame = stripAnsi(await r.waitForFrame((f) => /Time\s+-15m█\s+= \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/.test(stripAnsi(f))));
    expect(frameLines(frame).at(-1)).toMatch(/enter plan {2}tab ↑↓ field {2}esc presets/);
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => stripAnsi(f).includes('↑↓ backup end'), 'esc returns to the presets');
  });

  test('a time outside the window is refused in one sentence that shows the window, from the real plan', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    const r = await openRestore(api);
    await typeTime(r, '2026-11-25T12:00:00Z');
    await r.press(KEYS.enter);
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL')));
    expect(frame.replace(/\s+/g, ' ')).toContain(
      'FAIL 2026-11-25 12:00:00Z is past the end of the recoverable window (2026-11-25 09:01:30Z → 2026-11-25 09:10:00Z): the newest archived commit is at 2026-11-25 09:10:00Z; choose an earlier time',
    );
    expect(frame).toContain('2026-11-25 12:00:00Z (after the window) ^');
    expect(api.restores).toEqual([]);
    expectFits(frame);

    await typeTime(r, '2026-11-25T08:00:00Z');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('before the earliest')));
    expect(frame.replace(/\s+/g, ' ')).toContain(
      'FAIL 2026-11-25 08:00:00Z is before the earliest restorable point (2026-11-25 09:01:30Z, when the first backup became consistent); the recoverable window is 2026-11-25 09:01:30Z → 2026-11-25 09:10:00Z.',
    );
    await typeTime(r, 'yesterday');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('is not a time')));
    expect(frame).toContain('FAIL "yesterday" is not a time; give ISO 8601 with a zone');
  });

  test('enter shows the plan from a dry run: backup, WAL first…last and count, size, recovery settings, destination', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    const r = await openRestore(api);
    await typeTime(r, '2026-11-25T09:04:00Z');
    await r.press(KEYS.enter);
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('Plan: restore prod')));
    expect(frame).toContain('(dry run: nothing written yet)');
    expect(frame).toMatch(/to\s+2026-11-25 09:04:00Z \(UTC\)/);
    expect(frame).toMatch(new RegExp(`backup\\s+${BASE_A}, timeline 1`));
    expect(frame).toMatch(/WAL\s+000000010000000000000002 … 000000010000000000000006, 5 segments/);
    expect(frame).toMatch(/size\s+about 176 MiB to copy/);
    expect(frame).toMatch(/recovery\s+recovery_target_time=2026-11-25 09:04:00\.000000\+00\s+recovery_target_inclusive=true\s+recovery_target_timeline=1/);
    expect(frame).toContain('then promote (recovery_target_action); archive_mode=off');
    expect(frame).toMatch(/into\s+\/tmp\/dbdrill-prod-20261125T090400Z/);
    expect(frame).toMatch(/port\s+54871 on 127\.0\.0\.1/);
    expect(frame).toContain('Type prod and press enter to start the restore');
    expect(api.plans).toEqual([{ to: '2026-11-25T09:04:00Z', into: '/tmp/dbdrill-prod-20261125T090400Z', port: 54871 }]);
    expect(api.restores).toEqual([]);
    expectFits(frame);
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => f.includes('Recoverable window of prod'), 'esc goes back to the form');
  });

  test('the plan estimates the time from this target\'s own drills, or says none has measured it yet', async () => {
    const drill = (id: string, bytes: number, seconds: number): DrillReport => ({
      formatVersion: 1, id, target: 'prod', engine: 'postgres', status: 'passed', startedAt: '2026-11-24T10:00:00.000Z', requested: 'latest', checks: [],
      steps: [
        { name: 'restore base', status: 'done', seconds, bytes },
        { name: 'replay WAL', status: 'done', seconds: 0, bytes: 0 },
      ],
    });
    const none = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    let r = await openRestore(none);
    await typeTime(r, '2026-11-25T09:04:00Z');
    await r.press(KEYS.enter);
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Plan: restore prod') && f.includes('time ')));
    expect(frame).toMatch(/time\s+unknown: no drill of this target has measured one yet \(Drill, 4\)/);
    r.unmount();
    // 10 MiB/s, 20 MiB/s and 40 MiB/s: the median is 20 MiB/s, so 176 MiB take about 9 s.
    const mib = 1024 * 1024;
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() }, drills: { prod: [drill('a', 100 * mib, 10), drill('b', 200 * mib, 10), drill('c', 400 * mib, 10)] } });
    r = await openRestore(api);
    await typeTime(r, '2026-11-25T09:04:00Z');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Plan: restore prod') && f.includes('time ')));
    expect(frame).toMatch(/time\s+about 9s at 20 MiB\/s, the median of 3 drills/);
    expectFits(frame);
  });

  test('the restore starts only when the target name is typed; then live progress and the point reached', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const api = fakeApi({
      targets: targets(),
      manifests: { prod: prodManifests() },
      async restoreWork(ctx, name, req, a) {
        ctx.emit({ type: 'step', step: 'replay WAL', status: 'running' });
        ctx.emit({ type: 'progress', phase: 'replaying WAL', done: 3, total: 5, unit: 'segments' });
        ctx.emit({ type: 'tool-line', tool: 'postgres', stream: 'stderr', text: 'LOG:  restored log file "000000010000000000000004" from archive' });
        await hold;
        ctx.emit({ type: 'step', step: 'replay WAL', status: 'done' });
        const planned = await a.planRestore(name, req).result;
        return { ...planned, dryRun: false, pid: 4242, logFile: `${req.into}/dbdrill-restore.log`, reached: { lastCommitAt: '2026-11-25T09:04:00.000Z' }, timeline: 2, segmentsRestored: 5, seconds: 3.2 } satisfies PitrReport;
      },
    });
    const r = await openRestore(api);
    await r.press(KEYS.down, KEYS.down, KEYS.enter);
    await r.waitForFrame((f) => f.includes('Plan: restore prod'));
    // The name typed wrong: nothing starts, and it says what to type.
    for (const ch of 'pro') await r.press(ch);
    await r.press(KEYS.enter);
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Type the target\'s name exactly')));
    expect(frame).toContain('› pro');
    expect(api.restores).toEqual([]);
    // "q" and digits are part of what is typed here.
    await r.press('q', KEYS.backspace, 'd', KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('replaying WAL')));
    expect(api.restores).toEqual([{ to: '2026-11-25T09:01:30.000Z', backup: BASE_A, into: '/tmp/dbdrill-prod-20261125T090130Z', port: 54871 }]);
    expect(frame).toContain('Restore of prod to 2026-11-25 09:01:30Z');
    expect(frame).toContain('replaying WAL  60%  3 of 5 segments');
    expect(frame).toMatch(/\[#+\.+\]/);
    expect(frame).toContain('postgres: LOG:  restored log file "000000010000000000000004" from archive');

    await r.press(KEYS.ctrlC);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Cancel the restore? y/N')));
    await r.press('n');
    await r.waitForFrame((f) => !f.includes('Cancel the restore?'));
    release();
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Restored: a new server is up on 127.0.0.1:54871.')));
    expect(frame).toMatch(/reached\s+last commit replayed 2026-11-25 09:04:00Z/);
    expect(frame).toMatch(/replayed\s+5 archived segments in 3\.2 s; now on timeline 2/);
    expect(frame).toMatch(/server\s+127\.0\.0\.1:54871 \(pid 4242\)/);
    expect(frame).toMatch(/stop it\s+pg_ctl -D \/tmp\/dbdrill-prod-20261125T090130Z stop/);
    expectFits(frame);
  });

  test('the default restore job reports every step with segments replayed of expected', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    const r = await openRestore(api);
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('Plan: restore prod'));
    const plan = stripAnsi(r.lastFrame());
    expect(plan).toMatch(/to\s+latest: everything archived is replayed/);
    expect(plan).toMatch(new RegExp(`backup\\s+${BASE_B}, timeline 1`));
    for (const ch of 'prod') await r.press(ch);
    await r.press(KEYS.enter);
    const done = stripAnsi(await r.waitForFrame((f) => f.includes('Restored:')));
    for (const step of ['plan', 'check destination', 'unpack base backup', 'configure recovery', 'replay WAL']) expect(done).toMatch(new RegExp(`OK\\s+${step}`));
    expect(api.restores[0]).toMatchObject({ to: 'latest', backup: BASE_B });
  });

  test('a target with only logical backups has no restorable point, and says how to get one', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: [logical('20261125T095500Z-L', '2026-11-25T09:55:00.000Z')] } });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('3');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('No restorable point yet')));
    expect(frame.replace(/\s+/g, ' ')).toContain('No restorable point yet: no backup of prod can start a point-in-time restore (PostgreSQL needs a complete physical backup');
    await r.press(KEYS.enter);
    const refused = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL')));
    expect(refused.replace(/\s+/g, ' ')).toContain('There is no complete physical backup to start from; take one with dbdrill backup NAME --kind physical.');
    expectFits(refused);
  });

  test('a window that cannot be read says why; enter tries again', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    let fail = true;
    const read = api.readWindow;
    api.readWindow = (name) => (fail ? Promise.reject(new Error('The recoverable window of MySQL/MariaDB targets is not built yet; target "prod" is mysql.')) : read(name));
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('3');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('not built yet')));
    expect(frame).toMatch(/FAIL\s+The recoverable window of MySQL\/MariaDB targets is not built yet/);
    fail = false;
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('Recoverable window of prod'));
  });
});
