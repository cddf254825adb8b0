import { afterEach, describe, expect, test } from 'vitest';
import { restoreHelp } from '../../screens/restore/restoreState.js';
import { helpEntries } from '../../screens/layout/HelpOverlay/HelpOverlay.js';
import { fakeApi, target } from './fakeApi.js';
import { prodManifests } from './fixtures.js';
import { cleanupAll, expectFits, KEYS, renderApp, stripAnsi, type Rendered } from './helpers.js';

afterEach(cleanupAll);

// Issue 20, restore picker: the chosen moment steps by commits (, and .), and the Time field shows
// each commit's exact time as it moves. The commits come from the API (the engine reads them from
// the archive); this replays the screen over fixed ones, test/commit-moments.test.tsx over a real server's.

// The fixture window ends at the newest archived commit, 09:10:00.
const COMMITS = ['2026-11-25T09:08:12.345678Z', '2026-11-25T09:09:01.000001Z', '2026-11-25T09:09:59.500000Z', '2026-11-25T09:10:00.000000Z'];

const timeLine = (frame: string) => stripAnsi(frame).split('\n').find((l) => /^\s*›?\s*Time /.test(l)) ?? '';

for (const size of [
  { columns: 80, rows: 24 },
  { columns: 60, rows: 20 },
]) {
  describe(`Restore picker at ${size.columns}x${size.rows}: stepping by commits`, () => {
    test(', and . step through the archived commits, the Time field showing each; enter plans the one shown', async () => {
      const api = fakeApi({ targets: [target('prod'), target('staging')], manifests: { prod: prodManifests() }, commits: { prod: COMMITS } });
      const r: Rendered = renderApp(api, size);
      await r.waitForFrame((f) => f.includes('staging'));
      await r.press('3');
      let frame = await r.waitForFrame((f) => f.includes('Recoverable window of prod') || f.includes('prod: 2026'), 'the window of prod');
      // The window asked about is the one shown.
      await r.waitForFrame(() => api.commitReads.length > 0, 'the commits asked for');
      expect(api.commitReads[0]).toMatchObject({ name: 'prod', to: '2026-11-25T09:10:00.000Z' });
      frame = stripAnsi(await r.waitForFrame((f) => /, \. commit/.test(stripAnsi(f)), 'the footer naming the commit keys'));
      expectFits(frame, size);

      // From latest (the newest commit), back one commit at a time.
      const seen: string[] = [];
      for (const want of [COMMITS[2]!, COMMITS[1]!, COMMITS[0]!]) {
        await r.press(',');
        frame = await r.waitForFrame((f) => timeLine(f).includes(want), `the Time field at ${want}`);
        seen.push(timeLine(frame));
        expectFits(stripAnsi(frame), size);
      }
      expect(seen[0]).toMatch(/Time\s+2026-11-25T09:09:59\.500000Z\s+commit 3 of 4/);
      expect(seen[2]).toMatch(/Time\s+2026-11-25T09:08:12\.345678Z\s+commit 1 of 4/);
      // The caret on the timeline follows.
      expect(stripAnsi(frame)).toMatch(/2026-11-25 09:08:12Z \^|\^ 2026-11-25 09:08:12Z/);
      // Nothing before the first: it stays.
      await r.press(',');
      await r.press('.');
      frame = await r.waitForFrame((f) => timeLine(f).includes(COMMITS[1]!), 'forward one commit');
      expect(timeLine(frame)).toMatch(/commit 2 of 4/);

      // A minute later is no commit; . goes to the first commit after it.
      await r.press(KEYS.right);
      frame = await r.waitForFrame((f) => timeLine(f).includes('2026-11-25T09:10:01'), 'a minute on');
      await r.press(',');
      frame = await r.waitForFrame((f) => timeLine(f).includes(COMMITS[3]!), 'back to the last commit before it');
      await r.press(',', ',');
      frame = await r.waitForFrame((f) => timeLine(f).includes(COMMITS[1]!));

      await r.press(KEYS.enter);
      await r.waitForFrame((f) => f.includes('Plan: restore prod'), 'the plan');
      expect(api.plans.at(-1)?.to).toBe(COMMITS[1]);
    });
  });
}

describe('Restore keys: one table for the handler, the footer and the help', () => {
  test('the help overlay lists the picker\'s steps from the table', () => {
    const line = helpEntries().find((k) => k.label.startsWith('Restore:'));
    expect(line).toEqual(restoreHelp());
    expect(line).toEqual({ keys: '↑↓ ,. ←→', label: 'Restore: step the chosen moment by backup end, commit, minute' });
  });

  test('commit steps typed before the commits arrive are not lost: they apply when the list does', async () => {
    const api = fakeApi({ targets: [target('prod'), target('staging')], manifests: { prod: prodManifests() }, commits: { prod: COMMITS } });
    const read = api.readCommitMoments.bind(api);
    let release: () => void = () => {};
    const gate = new Promise<void>((ok) => (release = ok));
    api.readCommitMoments = async (name, range) => {
      await gate;
      return read(name, range);
    };
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('3');
    await r.waitForFrame((f) => f.includes('Recoverable window of prod'));
    await r.press(',', ',');
    await r.waitForFrame((f) => timeLine(f).includes('reading the archived commits…'), 'the wait said');
    release();
    const frame = await r.waitForFrame((f) => timeLine(f).includes(COMMITS[1]!), 'two commits back');
    expect(timeLine(frame)).toMatch(/commit 2 of 4/);
  });

  test('a target whose commits cannot be read: , says why in one sentence', async () => {
    const api = fakeApi({ targets: [target('prod'), target('staging')], manifests: { prod: prodManifests() } });
    api.readCommitMoments = () => Promise.reject(new Error('Target "prod" keeps its WAL in pgbackrest\'s repository, which the list of commits does not read yet; step by minutes or to a backup\'s end instead.'));
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('3');
    await r.waitForFrame((f) => f.includes('Recoverable window of prod') || f.includes('prod: 2026'));
    await new Promise((ok) => setTimeout(ok, 50));
    await r.press(',');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL'), 'the refusal'));
    expect(frame.replace(/\s+/g, ' ')).toContain("keeps its WAL in pgbackrest's repository, which the list of commits does not read yet");
    expectFits(frame);
  });
});
