import { afterEach, describe, expect, test } from 'vitest';
import { DbdrillError } from '../../src/errors.js';
import type { Manifest } from '../../src/repo/manifest.js';
import { fakeApi, target } from './fakeApi.js';
import { cleanupAll, expectFits, KEYS, renderApp, selectedLine, stripAnsi, type Rendered } from './helpers.js';

afterEach(cleanupAll);

// Issue 20: nothing on Targets stays on screen once it is no longer true.

const type = (r: Rendered, text: string) => r.press(...[...text]);
const ageOf = (frame: string, name: string) => stripAnsi(frame).match(new RegExp(`${name}\\s+postgres\\s+\\S+\\s+(\\S+)`))?.[1];

describe('Targets: fresh rows', () => {
  test('a backup that ends on another screen fills in its row while Targets is shown, and the age ticks', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const asked: string[] = [];
    const api = fakeApi({
      targets: [target('prod'), target('staging')],
      async summary(name) {
        asked.push(name);
        return { archiver: 'OK', reason: 'Nothing waits to be archived.', window: name === 'prod' && api.manifests.prod?.length ? '5m' : 'none' };
      },
      async backupWork(ctx, name, kind, a) {
        await ctx.step('base backup', async () => hold);
        const now = new Date().toISOString();
        const m: Manifest = {
          formatVersion: 1, id: '20261206T230000Z-L', target: name, engine: 'postgres', kind, type: 'full', status: 'complete',
          tool: { name: 'pg_dump', version: '15.8', argv: [] }, serverVersion: '15.8', startedAt: now, finishedAt: now, sizeBytes: 1, files: [],
        };
        a.manifests[name] = [m, ...(a.manifests[name] ?? [])];
        return m;
      },
    });
    const r = renderApp(api);
    let frame = await r.waitForFrame((f) => /prod.*OK\s+none/.test(stripAnsi(f)));
    expect(ageOf(frame, 'prod')).toBe('—');
    // A backup of prod from the Catalog, then straight back to Targets while it runs.
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('No backups of prod yet'));
    await r.press('b');
    await r.waitForFrame((f) => stripAnsi(f).includes('logical'));
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('base backup'));
    await r.press('1');
    await r.waitForFrame((f) => f.includes('· Targets'));
    const before = asked.filter((n) => n === 'prod').length;
    release();
    // Without leaving Targets: the row shows the new backup's age and its window is asked again.
    frame = await r.waitForFrame((f) => /^\d+s$/.test(ageOf(f, 'prod') ?? ''), 'the age of the new backup');
    await r.waitForFrame((f) => /prod.*OK\s+5m/.test(stripAnsi(f)), 'the new window');
    expect(asked.filter((n) => n === 'prod').length).toBeGreaterThan(before);
    // Ages tick while shown.
    const first = ageOf(frame, 'prod');
    await r.waitForFrame((f) => /^\d+s$/.test(ageOf(f, 'prod') ?? '') && ageOf(f, 'prod') !== first, 'the age ticking');
    expectFits(r.lastFrame());
  });

  test('removing a target takes its connection test off the screen', async () => {
    const api = fakeApi({
      targets: [target('bogus'), target('prod')],
      async probeWork(_ctx, name) {
        throw new DbdrillError('unreachable', `Cannot connect to ${name} at 10.0.0.5:5432 (connection refused); check that the server runs and listens there.`);
      },
    });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('bogus'));
    await r.press('t');
    await r.waitForFrame((f) => f.includes('Connection test of bogus') && f.includes('FAIL'));
    await r.press('d');
    await r.waitForFrame((f) => f.includes('Remove target bogus?'));
    await type(r, 'bogus');
    await r.press(KEYS.enter);
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('Removed target bogus')));
    expect(frame).not.toContain('Connection test of bogus');
    expect(frame).not.toContain('Cannot connect to bogus');
    expect(selectedLine(frame)).toMatch(/^› prod\s/);
  });

  test('a newly added target is the selected one, so t tests the target the message names', async () => {
    const tested: string[] = [];
    const api = fakeApi({
      targets: [target('prod'), target('zeta')],
      async probeWork(_ctx, name) {
        tested.push(name);
        throw new DbdrillError('unreachable', `Cannot connect to ${name}; check that the server runs and listens there.`);
      },
    });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('zeta'));
    // A filter that would hide the new one is cleared so the cursor can stand on it.
    await r.press('/', 'z', KEYS.enter);
    await r.waitForFrame((f) => stripAnsi(f).includes('filter z'));
    await r.press('a');
    await r.waitForFrame((f) => f.includes('Add a target'));
    await type(r, 'billing');
    await r.press(KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.down);
    await type(r, '/srv/backups/billing');
    await r.press(KEYS.enter);
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('Added target billing')));
    expect(selectedLine(frame)).toMatch(/^› billing\s/);
    await r.press('t');
    await r.waitForFrame((f) => f.includes('Connection test of billing'));
    expect(tested).toEqual(['billing']);
  });

  test("the add form's port and user hints follow the engine chosen", async () => {
    const r = renderApp(fakeApi({ targets: [target('prod')] }));
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('a');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Add a target')));
    expect(frame).toMatch(/port\s+blank: 5432$/m);
    expect(frame).toMatch(/user\s+blank: postgres$/m);
    await r.press(KEYS.down, KEYS.right);
    frame = stripAnsi(await r.waitForFrame((f) => /engine\s+mysql/.test(stripAnsi(f))));
    expect(frame).toMatch(/port\s+blank: 3306$/m);
    expect(frame).toMatch(/user\s+blank: root$/m);
    expect(frame).not.toContain('5432 / 3306');
  });
});
