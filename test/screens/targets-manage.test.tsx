import { afterEach, describe, expect, test } from 'vitest';
import { DbdrillError } from '../../src/errors.js';
import { fakeApi, target } from './fakeApi.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, selectedLine, stripAnsi, type Rendered } from './helpers.js';

afterEach(cleanupAll);


const type = (r: Rendered, text: string) => r.press(...[...text]);

describe('Targets: archiver and window', () => {
  test('each row fills in its archiver status and window as the engine answers, and the selected row says why', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const api = fakeApi({
      targets: [target('prod'), target('staging')],
      async summary(name) {
        if (name === 'staging') await slow;
        return name === 'prod'
          ? { archiver: 'CRIT', reason: 'Nothing archived for 20m while 12 files wait, the oldest (00000001000000000000002B) for 20m.', window: '2d4h' }
          : { archiver: 'OK', reason: 'Nothing waits to be archived.', window: 'none' };
      },
    });
    const r = renderApp(api);
    let frame = stripAnsi(await r.waitForFrame((f) => /prod.*CRIT/.test(stripAnsi(f))));
    expect(frame).toMatch(/› prod\s+postgres\s+10\.0\.0\.5:5432\s+—\s+CRIT\s+2d4h/);
    expect(frame).toMatch(/staging\s+postgres\s+10\.0\.0\.5:5432\s+—\s+—\s+—/);
    expect(frame).toMatch(/prod: Nothing archived for 20m while 12 files wait/);
    release();
    frame = stripAnsi(await r.waitForFrame((f) => /staging.*OK\s+none/.test(stripAnsi(f))));
    await r.press('j');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('staging: Nothing waits')));
    expectFits(frame);
  });
});

describe('Targets: add, edit, test, remove', () => {
  test('a adds a target through a form; a wrong value gets the engine\'s sentence and the cursor on that field', async () => {
    const api = fakeApi({ targets: [target('prod')] });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('a');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Add a target')));
    expect(frame).toMatch(/› name\s+█?/);
    expect(frame).toMatch(/engine\s+postgres/);
    expect(frameLines(frame).at(-1)).toMatch(/enter save\s+tab ↑↓ field\s+esc cancel/);
    expectFits(frame);
    await type(r, 'billing');
    // Digits and q are text here, not screen keys.
    await r.press(KEYS.down, KEYS.down, KEYS.down);
    await type(r, '99999');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL')));
    expect(frame).toMatch(/FAIL\s+port "99999" is out of range; use a port number from 1 to 65535\./);
    expect(frame).toMatch(/› port\s+99999/);
    for (let i = 0; i < 5; i++) await r.press(KEYS.backspace);
    await type(r, '5433');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL') && f.includes('repo')));
    expect(frame).toMatch(/FAIL\s+repo is missing; fill it in\./);
    expect(frame).toMatch(/› repository/);
    await type(r, '/srv/backups/billing');
    await r.press(KEYS.down);
    await type(r, 'BILLING_PW');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Added target billing')));
    expect(api.targets.find((t) => t.name === 'billing')).toMatchObject({ port: 5433, repo: '/srv/backups/billing', passwordEnv: 'BILLING_PW', engine: 'postgres' });
    expect(frame).toMatch(/billing\s+postgres\s+127\.0\.0\.1:5433/);
  });

  test('e edits the selected target (the name is fixed; ←→ switches the engine); esc leaves it unchanged', async () => {
    const api = fakeApi({ targets: [target('prod')] });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('e');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Edit target prod')));
    expect(frame).toMatch(/name\s+prod\s+fixed/);
    expect(frame).toMatch(/› engine\s+postgres/);
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => !f.includes('Edit target'));
    expect(api.targets[0]).toMatchObject({ engine: 'postgres', port: 5432 });
    await r.press('e');
    await r.waitForFrame((f) => f.includes('Edit target prod'));
    await r.press('\u001B[C', KEYS.down, KEYS.down);
    for (let i = 0; i < 4; i++) await r.press(KEYS.backspace);
    await type(r, '3307');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Saved target prod')));
    expect(api.targets[0]).toMatchObject({ name: 'prod', engine: 'mysql', port: 3307, dbname: 'app' });
    expect(frame).toMatch(/› prod\s+mysql\s+10\.0\.0\.5:3307/);
  });

  test('t tests the connection and shows version, archiving and privileges; a failure is one sentence', async () => {
    const api = fakeApi({
      targets: [target('down'), target('prod')],
      async probeWork(_ctx, name) {
        if (name === 'down') throw new DbdrillError('unreachable', 'Cannot connect to down at 10.0.0.9:5432 (connection refused); check that the server runs and listens there.');
        throw new Error('unreachable');
      },
    });
    const ok = fakeApi({ targets: [target('prod')] });
    let r = renderApp(ok);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('t');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('connected in')));
    expect(frame).toMatch(/OK\s+connected in 12 ms: PostgreSQL 15\.8 · system id 7311111111111111111/);
    expect(frame).toMatch(/OK\s+WAL archiving on \(archive_mode=on\)/);
    expect(frame).toMatch(/OK\s+physical backup \(pg_basebackup\): REPLICATION/);
    r.unmount();
    r = renderApp(api);
    await r.waitForFrame((f) => f.includes('down'));
    await r.press('t');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Connection test of down') && f.includes('FAIL')));
    expect(frame).toMatch(/FAIL\s+Cannot connect to down at 10\.0\.0\.9:5432 \(connection refused\)/);
    expectFits(frame);
  });

  test('d removes only after the name is typed exactly; anything else keeps the target', async () => {
    const api = fakeApi({ targets: [target('prod'), target('staging')] });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('d');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Remove target prod?')));
    expect(frame).toContain('Its repository and backups stay on disk.');
    await type(r, 'prud');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Type the target\'s name exactly')));
    expect(api.removed).toEqual([]);
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => !f.includes('Remove target prod?'));
    expect(api.targets.map((t) => t.name)).toEqual(['prod', 'staging']);
    await r.press('d');
    await r.waitForFrame((f) => f.includes('Remove target prod?'));
    await type(r, 'prod');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Removed target prod')));
    expect(api.removed).toEqual(['prod']);
    expect(frame).toContain('its repository /srv/backups/prod was left untouched');
    expect(selectedLine(frame)).toMatch(/staging/);
  });
});
