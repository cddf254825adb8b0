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
    // From engine (the first field that can change) down to method, the last one.
    await r.press(...Array<string>(9).fill(KEYS.down));
    await r.waitForFrame((f) => /› method/.test(stripAnsi(f)));
    await type(r, 'barman');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL')));
    expect(frame).toMatch(/FAIL\s+method "barman" is not a PostgreSQL backup method; use --method native or\s+--method pgbackrest\./);
    expect(frame).toMatch(/› method\s+barman/);
    expectFits(frame);
    for (let i = 0; i < 6; i++) await r.press(KEYS.backspace);
    await type(r, 'pgbackrest');
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => !f.includes('Edit target'));
    expect(api.targets.find((t) => t.name === 'prod')).toMatchObject({ method: 'pgbackrest' });
  });
});
