import { afterEach, describe, expect, test } from 'vitest';
import type { AmbiguousSecond } from '../../src/binlog/window.js';
import { mapJob } from '../../src/ops/job.js';
import type { PitrReport } from '../../src/ops/pitr.js';
import { fakeApi, target, type FakeApi } from './fakeApi.js';
import { prodManifests } from './fixtures.js';
import { cleanupAll, expectFits, KEYS, renderApp, stripAnsi, type Rendered } from './helpers.js';

afterEach(cleanupAll);

/**
 * Issue 11: a MySQL/MariaDB time target inside a second that holds several transactions is not
 * rounded. The console lists them and asks for all or none with ← →, naming keys, not flags; the
 * restore starts only once the operator chose, with that choice.
 */
const LISTED: AmbiguousSecond = {
  second: '2026-11-25T09:04:00.000Z',
  transactions: [
    { gtid: '0-1-41', at: '2026-11-25T09:04:00.000Z', statement: 'INSERT INTO orders' },
    { gtid: '0-1-42', at: '2026-11-25T09:04:00.000Z', statement: 'UPDATE stock' },
  ],
};

/** The fake's plans, as the real console API shapes them for an ambiguous second. */
function ambiguousApi(): FakeApi {
  const api = fakeApi({ targets: [target('prod'), target('staging')], manifests: { prod: prodManifests() } });
  const plan = api.planRestore.bind(api);
  // As a MariaDB plan reads: binlog files from a position, tagged 'binlog'.
  const binlog = (r: PitrReport): PitrReport => ({
    ...r,
    plan: { archive: 'binlog', backup: r.plan.backup, target: r.plan.target, settings: { 'start-position': 'mysql-bin.000002:385' }, walFrom: 'mysql-bin.000002', walTo: 'mysql-bin.000003', segments: 2, estimatedBytes: r.plan.estimatedBytes, notes: [] },
  });
  api.planRestore = (name, req) =>
    mapJob(plan(name, req), (r) => {
      const b = binlog(r);
      return req.second ? { ...b, plan: { ...b.plan, ambiguousSecond: LISTED } } : { ...b, chooseSecond: LISTED };
    });
  return api;
}

async function typeKeys(r: Rendered, text: string): Promise<void> {
  for (const ch of text) await r.press(ch);
}

describe('Restore: a target second that holds several transactions', () => {
  test('lists them, refuses to start until ← or → chose, and restores with that choice', async () => {
    const api = ambiguousApi();
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('3');
    await r.waitForFrame((f) => f.includes('Recoverable window of prod'));
    await r.press(KEYS.tab);
    await r.waitForFrame((f) => stripAnsi(f).includes('› Time'));
    await typeKeys(r, '2026-11-25T09:04:00.5Z');
    await r.press(KEYS.enter);
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Plan: restore prod')));
    expect(frame).toMatch(/to\s+2026-11-25 09:04:00\.5Z \(UTC\)/);
    expect(frame).toMatch(/second\s+2026-11-25 09:04:00Z holds 2 transactions; binlog events carry/);
    expect(frame).toContain('0-1-41 at 09:04:00 INSERT INTO orders');
    expect(frame).toContain('0-1-42 at 09:04:00 UPDATE stock');
    expect(frame).toMatch(/choose\s+← none of them \(stop before that second\) or → all of them/);
    expect(frame).toContain('← →');
    expect(frame).not.toMatch(/--second|--gtid|--position/);
    expectFits(frame);

    // The name typed is not enough: the choice comes first.
    await typeKeys(r, 'prod');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Choose first')));
    expect(frame).toContain('Choose first: ← none of the 2 transactions of that second, → all of them.');
    expect(api.restores).toEqual([]);

    await r.press(KEYS.right);
    frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes('› all of them'), 'the plan for all of them'));
    expect(api.plans.at(-1)).toMatchObject({ to: '2026-11-25T09:04:00.5Z', second: 'inclusive' });
    await typeKeys(r, 'prod');
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('Restored: a new server is up'));
    expect(api.restores.at(-1)).toMatchObject({ second: 'inclusive' });

    // Back in the picker, a new plan asks again.
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('Recoverable window of prod'));
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Plan: restore prod')));
    expect(frame).toMatch(/choose\s+← none of them \(stop before that second\) or → all of them/);
    await r.press(KEYS.left);
    await r.waitForFrame((f) => stripAnsi(f).includes('› none of them'), 'the plan for none of them');
    expect(api.plans.at(-1)).toMatchObject({ second: 'exclusive' });
  });
});
