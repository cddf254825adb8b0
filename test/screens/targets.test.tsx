import { afterEach, describe, expect, test } from 'vitest';
import type { Target } from '../../src/config/target.js';
import { DbdrillError } from '../../src/errors.js';
import { fakeApi, SANDBOX, target, type FakeApi } from './fakeApi.js';
import { cleanupAll, frameLines, KEYS, renderApp, selectedLine, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

const three = () => [
  target('prod', { newestBackupAge: '3h', archiver: 'OK', window: '2d 4h' }),
  target('staging', { engine: 'mysql', port: 3306, archiver: 'WARN' }),
  target('reports', { archiver: 'CRIT' }),
];

describe('Targets table', () => {
  test('shows the targets from the api with "—" for what is unknown', async () => {
    const r = renderApp(fakeApi({ targets: three() }));
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('reports')));
    expect(frame).toMatch(/name\s+engine\s+host:port\s+newest backup\s+archiver\s+window/);
    expect(frame).toMatch(/› prod\s+postgres\s+10\.0\.0\.5:5432\s+3h\s+OK\s+2d 4h/);
    expect(frame).toMatch(/staging\s+mysql\s+10\.0\.0\.5:3306\s+—\s+WARN\s+—/);
    expect(frame).toMatch(/reports\s+postgres.*CRIT/);
  });

  test('the selection marker moves with j/k and the arrow keys, and stops at the ends', async () => {
    const r = renderApp(fakeApi({ targets: three() }));
    await r.waitForFrame((f) => f.includes('reports'));
    expect(selectedLine(r.lastFrame())).toContain('prod');
    await r.press('j');
    expect(selectedLine(await r.waitForFrame((f) => selectedLine(f)?.includes('staging') ?? false))).toContain('staging');
    await r.press(KEYS.down);
    await r.waitForFrame((f) => selectedLine(f)?.includes('reports') ?? false, 'reports after down arrow');
    await r.press(KEYS.down, 'j');
    expect(selectedLine(r.lastFrame())).toContain('reports');
    await r.press(KEYS.up);
    await r.waitForFrame((f) => selectedLine(f)?.includes('staging') ?? false, 'staging after up arrow');
    await r.press('k', 'k');
    await r.waitForFrame((f) => selectedLine(f)?.includes('prod') ?? false, 'prod after k');
    expect(frameLines(r.lastFrame()).filter((l) => l.startsWith('›')).length).toBe(1 + 1); // header tab + row
  });

  test('enter opens the selected target on Catalog', async () => {
    const r = renderApp(fakeApi({ targets: three() }));
    await r.waitForFrame((f) => f.includes('reports'));
    await r.press('j', KEYS.enter);
    const frame = await r.waitForFrame((f) => f.includes('· Catalog') && f.includes('staging'));
    expect(stripAnsi(frame)).toMatch(/No backups of staging yet|Reading the catalog of staging/);
    // The selection survives the trip.
    await r.press(KEYS.escape);
    const back = await r.waitForFrame((f) => f.includes('· Targets'));
    expect(selectedLine(back)).toContain('staging');
  });

  test('only the rows around the selection are rendered, and the frame still fits', async () => {
    const many = Array.from({ length: 60 }, (_, i) => target(`db${String(i).padStart(2, '0')}`));
    const r = renderApp(fakeApi({ targets: many }));
    await r.waitForFrame((f) => f.includes('db00'));
    expect(r.lastFrame()).not.toContain('db40');
    for (let i = 0; i < 40; i++) await r.press('j');
    const frame = await r.waitForFrame((f) => selectedLine(f)?.includes('db40') ?? false, 'db40 selected');
    expect(frame).not.toContain('db00');
    expect(frameLines(frame).length).toBeLessThanOrEqual(23);
    await r.press('G');
    await r.waitForFrame((f) => selectedLine(f)?.includes('db59') ?? false, 'G goes to the end');
    await r.press('g');
    await r.waitForFrame((f) => selectedLine(f)?.includes('db00') ?? false, 'g goes to the top');
  });

  test('/ filters the table; typed q and digits go to the filter; esc clears it', async () => {
    const api = fakeApi({ targets: three() });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('reports'));
    let exited = false;
    void r.instance.waitUntilExit().then(() => (exited = true));
    await r.press('/', 's', 't', 'a', 'q', '2');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('staq2')));
    expect(frame).toContain('No target matches');
    expect(frameLines(frame)[0]).toContain('· Targets');
    expect(frameLines(frame).at(-1)).toContain('keep filter');
    await r.press(KEYS.backspace, KEYS.backspace);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('staging') && !f.includes('prod')));
    await r.press(KEYS.enter);
    frame = await r.waitForFrame((f) => stripAnsi(f).includes('filter sta'));
    expect(selectedLine(frame)).toContain('staging');
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => f.includes('prod') && f.includes('reports'), 'all rows after esc');
    expect(exited).toBe(false);
  });
});

describe('fast typing', () => {
  test('keys that arrive in one chunk (key repeat over SSH, a paste) act one by one', async () => {
    const r = renderApp(fakeApi({ targets: three() }));
    await r.waitForFrame((f) => f.includes('reports'));
    r.stdin.write('jj');
    await r.waitForFrame((f) => selectedLine(f)?.includes('reports') ?? false, 'two rows down from one chunk');
    r.stdin.write('/sta');
    const filtered = await r.waitForFrame((f) => stripAnsi(f).includes('/sta') && !f.includes('reports'), 'the filter typed in one chunk');
    expect(selectedLine(filtered)).toContain('staging');
    // enter then 2 in one chunk: enter keeps the filter, and 2 is a screen key again.
    r.stdin.write('\r2');
    await r.waitForFrame((f) => f.includes('· Catalog'), 'Catalog after the filter was kept');
  });

  test('enter and a key after it in one burst see the screen enter opened', async () => {
    const r = renderApp(fakeApi({ targets: three() }));
    await r.waitForFrame((f) => f.includes('reports'));
    // Separate writes with no render in between: the second key must see the state the first made.
    r.stdin.write('j');
    r.stdin.write('\r');
    const frame = await r.waitForFrame((f) => f.includes('· Catalog') && f.includes('staging'));
    expect(stripAnsi(frame)).toMatch(/No backups of staging yet|Reading the catalog of staging/);
  });
});

describe('first run', () => {
  test('with no targets the screen offers the sandbox; enter runs the job and shows its steps and a final OK', async () => {
    const api = fakeApi();
    const r = renderApp(api);
    const offer = stripAnsi(await r.waitForFrame((f) => f.includes('No targets yet')));
    expect(offer.replace(/\s+/g, ' ')).toContain('No targets yet. Press enter to start the training sandbox (local PostgreSQL 15 with WAL archiving and sample data)');
    expect(frameLines(offer).at(-1)).toContain('enter start sandbox');
    await r.press(KEYS.enter);
    const done = stripAnsi(
      await r.waitForFrame((f) => f.includes('Training sandbox ready') && f.includes('› sandbox'), 'the final OK and the reloaded list'),
    );
    expect(api.sandboxStarts).toBe(1);
    expect(done).toMatch(/OK\s+find PostgreSQL 15 tools/);
    expect(done).toMatch(/OK\s+create cluster with WAL archiving/);
    expect(done).toMatch(/OK\s+load sample data/);
    expect(done).toMatch(/OK\s+Training sandbox ready: target "sandbox" on 127\.0\.0\.1:54315\./);
    // The list was reloaded and now holds the sandbox.
    expect(selectedLine(done)).toMatch(/sandbox\s+postgres\s+127\.0\.0\.1:54315/);
    expect(frameLines(done).length).toBeLessThanOrEqual(23);
  });

  test('live steps, progress and log lines show while the job runs', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const api = fakeApi({
      async work(ctx, a: FakeApi): Promise<Target> {
        await ctx.step('find PostgreSQL 15 tools', async () => {});
        ctx.emit({ type: 'step', step: 'load sample data', status: 'running' });
        ctx.emit({ type: 'progress', phase: 'loading rows', done: 250, total: 1000, unit: 'rows', etaSeconds: 12 });
        for (let i = 0; i < 500; i++) ctx.emit({ type: 'log', level: 'info', text: `COPY line ${i}` });
        await gate;
        ctx.emit({ type: 'step', step: 'load sample data', status: 'done' });
        a.targets.push(SANDBOX);
        return SANDBOX;
      },
    });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('No targets yet'));
    await r.press(KEYS.enter);
    const live = stripAnsi(await r.waitForFrame((f) => f.includes('COPY line 499'), 'the log tail'));
    expect(live).toMatch(/OK\s+find PostgreSQL 15 tools/);
    expect(live).toMatch(/…\s+load sample data/);
    expect(live).toContain('loading rows  25%  250 of 1000 rows');
    expect(live).toContain('eta 12s');
    expect(live).not.toContain('COPY line 0\n');
    expect(frameLines(live).length).toBeLessThanOrEqual(23);
    expect(frameLines(live).at(-1)).toContain('x cancel');
    release();
    await r.waitForFrame((f) => f.includes('Training sandbox ready'));
  });

  test('a failing job shows FAIL and its one sentence; enter tries again', async () => {
    let attempts = 0;
    const api = fakeApi({
      async work(ctx, a) {
        attempts++;
        if (attempts === 1) {
          await ctx.step('find PostgreSQL 15 tools', async () => {
            throw new DbdrillError('tool-missing', 'initdb was not found; install postgresql-15 or put its bin directory on PATH.');
          });
        }
        a.targets.push(SANDBOX);
        return SANDBOX;
      },
    });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('No targets yet'));
    await r.press(KEYS.enter);
    const failed = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL initdb was not found') || f.includes('FAIL  initdb'), 'the failure'));
    expect(failed).toMatch(/FAIL\s+find PostgreSQL 15 tools: initdb was not found/);
    expect(failed).toMatch(/FAIL\s+initdb was not found; install postgresql-15 or put its bin directory/);
    expect(failed).toContain('try the training sandbox again');
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('Training sandbox ready'), 'the retry to succeed');
    expect(api.sandboxStarts).toBe(2);
  });

  test('a list that cannot be read shows FAIL with the reason, and enter tries again', async () => {
    const api = fakeApi({ targets: three() });
    let fail = true;
    const list = api.listTargets;
    api.listTargets = () => (fail ? Promise.reject(new Error('config.json is not valid JSON; fix or remove it.')) : list());
    const r = renderApp(api);
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('not valid JSON')));
    expect(frame).toMatch(/FAIL\s+config\.json is not valid JSON; fix or remove it\./);
    fail = false;
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('reports'));
  });

  test('quitting while the sandbox starts cancels the job', async () => {
    let signal: AbortSignal | undefined;
    const api = fakeApi({
      work: (ctx) =>
        new Promise<Target>((_, reject) => {
          signal = ctx.signal;
          ctx.signal.addEventListener('abort', () => reject(new Error('cancelled')));
        }),
    });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('No targets yet'));
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('x cancel'));
    const exited = r.instance.waitUntilExit();
    await r.press('q');
    await exited;
    expect(signal?.aborted).toBe(true);
  });
});
