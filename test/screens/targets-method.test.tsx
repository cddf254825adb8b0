import { afterEach, describe, expect, test } from 'vitest';
import { fakeApi, target } from './fakeApi.js';
import { cleanupAll, expectFits, KEYS, renderApp, stripAnsi, type Rendered } from './helpers.js';

afterEach(cleanupAll);

const type = (r: Rendered, text: string) => r.press(...[...text]);

describe('Targets form: the backup method', () => {
  test('the form has a method field at 80x24; an unknown method gets the engine\'s sentence there, pgbackrest is saved', async () => {
    const api = fakeApi({ targets: [target('prod')] });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('e');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Edit target prod')));
    expect(frame).toMatch(/method\s+blank: native; pgbackrest \(PostgreSQL\)/);
    expectFits(frame);
    // From engine (the first field that can change) down to method.
    await r.press(...Array<string>(9).fill(KEYS.down));
    await r.waitForFrame((f) => /› method/.test(stripAnsi(f)));
    await type(r, 'barman');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL')));
    expect(frame).toMatch(/FAIL\s+method "barman" is not a PostgreSQL backup method; use native or\s+pgbackrest\./);
    expect(frame).toMatch(/› method\s+barman/);
    expectFits(frame);
    for (let i = 0; i < 6; i++) await r.press(KEYS.backspace);
    await type(r, 'pgbackrest');
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => !f.includes('Edit target'));
    expect(api.targets.find((t) => t.name === 'prod')).toMatchObject({ method: 'pgbackrest' });
  });

  test('the cipher pass field: a pass typed where its place belongs is refused there; a variable is saved and shown again', async () => {
    const api = fakeApi({ targets: [target('prod')] });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('e');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Edit target prod')));
    expect(frame).toMatch(/cipher pass\s+pgbackrest: \/file or \$VARIABLE holding it/);
    expectFits(frame);
    // A cipher on a native target: the sentence names the two fields, not flags.
    await r.press(...Array<string>(10).fill(KEYS.down));
    await r.waitForFrame((f) => /› cipher pass/.test(stripAnsi(f)));
    await type(r, '/etc/pgbr.pass');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL')));
    expect(frame).toMatch(/FAIL\s+cipher pass is a setting of the pgbackrest method; set method to\s+pgbackrest\s+or\s+clear\s+cipher\s+pass\./);
    expect(frame).not.toContain('--');
    expect(frame).toMatch(/› cipher pass\s+\/etc\/pgbr\.pass/);
    expectFits(frame);
    // The pass itself (not a path, not $NAME) is refused before anything is saved.
    await r.press(KEYS.up);
    await type(r, 'pgbackrest');
    await r.press(KEYS.down);
    for (let i = 0; i < '/etc/pgbr.pass'.length; i++) await r.press(KEYS.backspace);
    await type(r, 'hunter2');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('absolute path')));
    expect(frame).toMatch(/FAIL\s+cipher pass must be an absolute path/);
    // What was typed may be the pass itself: the sentence does not repeat it.
    expect(frame.split('\n').filter((l) => l.includes('hunter2'))).toHaveLength(1);
    expect(api.targets.find((t) => t.name === 'prod')?.method).toBeUndefined();
    for (let i = 0; i < 'hunter2'.length; i++) await r.press(KEYS.backspace);
    await type(r, '$PGBR_CIPHER');
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => !f.includes('Edit target'));
    expect(api.targets.find((t) => t.name === 'prod')).toMatchObject({ method: 'pgbackrest', cipherPassEnv: 'PGBR_CIPHER' });
    expect(api.targets.find((t) => t.name === 'prod')?.cipherPassFile).toBeUndefined();
    // Editing again shows where the pass is kept, as it was typed.
    await r.press('e');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Edit target prod')));
    expect(frame).toMatch(/cipher pass\s+\$PGBR_CIPHER/);
  });

  test('at 60x20 the form scrolls with the focus: the title, the focused field and the whole refusal show, nothing overlaps', async () => {
    const size = { columns: 60, rows: 20 };
    const api = fakeApi({ targets: [target('prod')] });
    const r = renderApp(api, size);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('e');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Edit target prod')));
    expect(frame).toMatch(/^Edit target prod/m);
    expect(frame).toMatch(/^  name\s+prod\s+fixed/m);
    expectFits(frame, size);
    await r.press(...Array<string>(10).fill(KEYS.down));
    await type(r, 'hunter2');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL')));
    expect(frame).toMatch(/^Edit target prod/m);
    expect(frame).toMatch(/^› cipher pass\s+hunter2/m);
    // The refusal whole: its last words are on screen.
    expect(frame).toMatch(/set\s+method to pgbackrest or clear cipher pass\./);
    expect(frame).not.toMatch(/^  name /m);
    expectFits(frame, size);
  });
});
