import { afterEach, describe, expect, test } from 'vitest';
import type { JobContext } from '../../src/ops/job.js';
import type { Manifest } from '../../src/repo/manifest.js';
import { backupWork, fakeApi, target, type FakeApi } from './fakeApi.js';
import { BASE_A, BASE_B, FAILED, LOGICAL, physical, prodManifests } from './fixtures.js';
import { cleanupAll, expectFits, frameLines, KEYS, renderApp, selectedLine, stripAnsi, type Rendered } from './helpers.js';

afterEach(cleanupAll);

const targets = () => [target('prod'), target('staging')];

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}


/** Opens prod's catalog from Targets (enter on the selected target). */
async function openProd(api: FakeApi): Promise<Rendered> {
  const r = renderApp(api);
  await r.waitForFrame((f) => f.includes('staging'));
  await r.press(KEYS.enter);
  await r.waitForFrame((f) => f.includes('prod · 4 backups') && f.includes('sha256'), 'the catalog of prod with its details preview');
  return r;
}

describe('Catalog table', () => {
  test('enter on a target lists its backups newest first with OK/FAIL markers, sizes and verification', async () => {
    const r = await openProd(fakeApi({ targets: targets(), manifests: { prod: prodManifests() } }));
    const frame = stripAnsi(r.lastFrame());
    expect(frameLines(frame)[0]).toContain('· Catalog');
    expect(frame).toMatch(/id\s+kind\s+type\s+status\s+started\s+took\s+size\s+verified/);
    expect(selectedLine(frame)).toMatch(new RegExp(`${LOGICAL}\\s+logical\\s+full\\s+OK\\s+11-25 09:55\\s+4s\\s+3\\.2 MiB\\s+OK restore`));
    expect(frame).toMatch(new RegExp(`${FAILED}\\s+logical\\s+full\\s+FAIL\\s+11-25 09:30\\s+4s\\s+—\\s+no`));
    expect(frame).toMatch(new RegExp(`${BASE_B}\\s+physical\\s+full\\s+OK\\s+11-25 09:07\\s+1m5s\\s+96 MiB\\s+no`));
    const rows = frameLines(frame).filter((l) => /^(› | {2})2026/.test(l));
    expect(rows.map((l) => l.slice(2, 20))).toEqual([LOGICAL, FAILED, BASE_B, BASE_A]);
    expect(frameLines(frame).at(-1)).toMatch(/b backup {2}v\/V verify {2}r restore {2}tab details/);
    expectFits(frame);
  });

  test('the selection marker moves with j/k and arrows, and the details preview follows it', async () => {
    const r = await openProd(fakeApi({ targets: targets(), manifests: { prod: prodManifests() } }));
    await r.press('j', KEYS.down);
    const frame = stripAnsi(await r.waitForFrame((f) => (selectedLine(f)?.includes(BASE_B) ?? false) && f.includes('pg_basebackup 15.8')));
    expect(frameLines(frame).filter((l) => l.startsWith('› 2026'))).toHaveLength(1);
    expect(frame).toMatch(new RegExp(`backup\\s+OK\\s+${BASE_B} physical full complete`));
    await r.press('k');
    await r.waitForFrame((f) => selectedLine(f)?.includes(FAILED) ?? false, 'k moves up');
  });

  test('only the rows around the selection are rendered, and the frame still fits', async () => {
    const many: Manifest[] = Array.from({ length: 80 }, (_, i) => {
      const at = new Date(Date.parse('2026-11-20T00:00:00Z') + (80 - i) * 3600_000);
      const id = `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-F`;
      return physical(id, 2, at.toISOString());
    });
    const api = fakeApi({ targets: targets(), manifests: { prod: many } });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press(KEYS.enter);
    const first = stripAnsi(await r.waitForFrame((f) => f.includes('80 backups') && f.includes('pg_basebackup 15.8')));
    const shownRows = frameLines(first).filter((l) => / {2}2026|› 2026/.test(l));
    expect(shownRows.length).toBeLessThan(15);
    expect(first).not.toContain(many[40]!.id);
    for (let i = 0; i < 40; i++) await r.press('j');
    const moved = await r.waitForFrame((f) => selectedLine(f)?.includes(many[40]!.id) ?? false, 'row 40 selected');
    expect(moved).not.toContain(many[0]!.id);
    expectFits(moved);
    await r.press('G');
    await r.waitForFrame((f) => selectedLine(f)?.includes(many[79]!.id) ?? false, 'G goes to the end');
  });

  test('/ filters the rows; typed letters and digits go to the filter; esc clears it', async () => {
    const r = await openProd(fakeApi({ targets: targets(), manifests: { prod: prodManifests() } }));
    await r.press('/', 'p', 'h', 'y', 's');
    let frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes('/phys') && !f.includes(LOGICAL)));
    expect(frame).toContain('2 matches');
    expect(frame).toContain(BASE_A);
    expect(frameLines(frame).at(-1)).toContain('keep filter');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes('filter phys')));
    expect(selectedLine(frame)).toContain(BASE_B);
    await r.press('/', KEYS.backspace, KEYS.backspace, KEYS.backspace, KEYS.backspace, 'F', 'A', 'I', 'L', KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes('filter FAIL')));
    expect(selectedLine(frame)).toContain(FAILED);
    await r.press('/', '9', '9', '9');
    await r.waitForFrame((f) => f.includes('No backup matches "FAIL999"'), 'no match');
    await r.press(KEYS.escape);
    frame = await r.waitForFrame((f) => f.includes(LOGICAL) && f.includes(BASE_A) && !f.includes('filter FAIL'), 'every row again');
    // At 80 columns the footer keeps the table's own keys (issue 20: it used to drop / and ↑↓).
    expect(frameLines(stripAnsi(frame)).at(-1)).toMatch(/↑↓ move {2}\/ filter {2}esc back/);
    expect(frameLines(frame)[0]).toContain('· Catalog');
  });
});

describe('details pane', () => {
  test('tab switches to it: files with sizes and short sha256, LSNs, timeline, WAL range, tool and argv, server version', async () => {
    const r = await openProd(fakeApi({ targets: targets(), manifests: { prod: prodManifests() } }));
    await r.press('j', 'j', KEYS.tab);
    let frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes('› details') && f.includes('pg_basebackup 15.8')));
    // The table shrinks to the selected row; the details get the room.
    expect(frameLines(frame).filter((l) => /^(› |• | {2})2026/.test(l))).toHaveLength(1);
    // One › on screen: the details have the keys, the table's row is marked • meanwhile.
    expect(frameLines(frame).filter((l) => l.startsWith('• 2026'))).toHaveLength(1);
    expect(frame).toMatch(/server\s+PostgreSQL 15\.8/);
    expect(frame).toMatch(/tool\s+pg_basebackup 15\.8 \(pg_basebackup-tar\)/);
    expect(frame).toMatch(/argv\s+\/usr\/lib\/postgresql\/15\/bin\/pg_basebackup --host 10\.0\.0\.5/);
    expect(frame).toMatch(/timeline\s+1/);
    expect(frame).toMatch(/LSN\s+0\/8000028 → 0\/8000100/);
    expect(frame).toMatch(/WAL\s+000000010000000000000008 … 000000010000000000000008/);
    expect(frameLines(frame).at(-1)).toContain('↑↓ scroll');
    // Scrolling brings the files into view; only visible lines are rendered.
    for (let i = 0; i < 8; i++) await r.press('j');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('base/pg_wal.tar')));
    expect(frame).toMatch(/base\/base\.tar\s+80 MiB\s+sha256 3f2a9c1e5b7d/);
    expect(frame).toMatch(/base\/pg_wal\.tar\s+16 MiB\s+sha256 9c0ffee05b7d/);
    expect(frame).not.toContain('ffeeff0011');
    expect(frame).toMatch(/verified\s+never/);
    expectFits(frame);
    await r.press(KEYS.tab);
    await r.waitForFrame((f) => stripAnsi(f).includes('─ details (tab)'), 'tab back to the table');
  });

  test('a logical backup shows its table row counts and every verification with OK/FAIL', async () => {
    const r = await openProd(fakeApi({ targets: targets(), manifests: { prod: prodManifests() } }));
    await r.press(KEYS.tab);
    await r.waitForFrame((f) => stripAnsi(f).includes('› details'));
    for (let i = 0; i < 8; i++) await r.press('j');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('digests match')));
    expect(frame).toMatch(/tables\s+3 tables, 6500 rows at backup time/);
    expect(frame).toMatch(/public\.order_items\s+4000/);
    expect(frame).toMatch(/verified\s+3 checks, newest last/);
    expect(frame).toMatch(/OK\s+2026-11-25 10:00:00Z sha256: 1 file\(s\) match their checksums/);
    expect(frame).toMatch(/OK\s+2026-11-25 10:00:00Z restore: restored 3 tables; rows and\s+digests match/);
  });

  test('a failed backup shows its error', async () => {
    const r = await openProd(fakeApi({ targets: targets(), manifests: { prod: prodManifests() } }));
    await r.press('j');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('timeout expired')));
    expect(frame).toMatch(/error\s+FAIL\s+pg_dump: error: connection to server at "10\.0\.0\.5", port 5432\s+failed: timeout expired/);
  });
});

describe('Backup run view', () => {
  test('b asks logical or physical; the run shows steps, the checkpoint phase, a progress bar with bytes, rate and ETA, a bounded log tail, then OK and the new backup', async () => {
    const checkpoint = gate();
    const copy = gate();
    const api = fakeApi({
      targets: targets(),
      manifests: { prod: prodManifests() },
      async backupWork(ctx: JobContext, name, kind, a) {
        await ctx.step('connect', async () => {});
        ctx.emit({ type: 'step', step: 'base backup', status: 'running' });
        ctx.emit({ type: 'progress', phase: 'waiting for checkpoint' });
        await checkpoint.wait;
        ctx.emit({ type: 'progress', phase: 'copying', done: 52_428_800, total: 104_857_600, rate: 26_214_400, etaSeconds: 2, unit: 'bytes' });
        for (let i = 0; i < 400; i++) ctx.emit({ type: 'tool-line', tool: 'pg_basebackup', stream: 'stderr', text: `pg_basebackup: line ${i}` });
        await copy.wait;
        ctx.emit({ type: 'step', step: 'base backup', status: 'done' });
        return backupWork(ctx, name, kind, a);
      },
    });
    const r = await openProd(api);
    await r.press('b');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Start a backup of prod')));
    expect(frame).toMatch(/Start a backup of prod: › logical\s+physical/);
    expect(frameLines(frame).at(-1)).toMatch(/←→ choose {2}enter start {2}esc cancel/);
    await r.press(KEYS.down);
    frame = stripAnsi(await r.waitForFrame((f) => stripAnsi(f).includes('  logical   › physical')));
    expect(frame).toContain('physical: the whole server');
    await r.press(KEYS.enter);

    frame = stripAnsi(await r.waitForFrame((f) => f.includes('waiting for checkpoint'), 'the checkpoint phase'));
    expect(api.backupsStarted).toEqual([{ name: 'prod', kind: 'physical' }]);
    expect(frame).toContain('Backup of prod (physical)');
    expect(frame).toMatch(/OK\s+connect/);
    expect(frame).toMatch(/…\s+base backup/);
    expect(frameLines(frame).at(-1)).toContain('x ctrl-c cancel');

    checkpoint.open();
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('pg_basebackup: line 399'), 'the copy progress and the log tail'));
    expect(frame).toMatch(/\[#{10,}\.{10,}\]/);
    expect(frame).toContain('copying  50%  50 MiB of 100 MiB  25 MiB/s  eta 2s');
    expect(frame).not.toContain('line 0\n');
    expect(frameLines(frame).filter((l) => l.includes('pg_basebackup: line')).length).toBeLessThan(16);
    expectFits(frame);

    copy.open();
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Backup 20261125T110000Z-F complete'), 'the final OK'));
    expect(frame).toMatch(/OK\s+Backup 20261125T110000Z-F complete: physical, 100 MiB in 1 file, 4s\./);
    expect(frameLines(frame).at(-1)).toContain('enter esc back to the catalog');
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('prod · 5 backups')));
    expect(selectedLine(frame)).toMatch(/20261125T110000Z-F\s+physical\s+full\s+OK/);
  });

  test('ctrl-c (or x) asks "Cancel the backup? y/N" and cancels only on y', async () => {
    let signal: AbortSignal | undefined;
    const api = fakeApi({
      targets: targets(),
      manifests: { prod: prodManifests() },
      backupWork: (ctx) =>
        new Promise<Manifest>((_, reject) => {
          signal = ctx.signal;
          ctx.emit({ type: 'step', step: 'dump', status: 'running' });
          ctx.emit({ type: 'progress', phase: 'dumping', done: 1_048_576, rate: 524_288, unit: 'bytes' });
          ctx.signal.addEventListener('abort', () => reject(new Error(`Backup 20261125T110000Z-L failed: cancelled (${String(ctx.signal.reason)}).`)));
        }),
    });
    const r = await openProd(api);
    let exited = false;
    void r.instance.waitUntilExit().then(() => (exited = true));
    await r.press('b');
    await r.waitForFrame((f) => f.includes('Start a backup'));
    await r.press(KEYS.enter);
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('dumping  1.0 MiB  512 KiB/s')));
    expect(api.backupsStarted).toEqual([{ name: 'prod', kind: 'logical' }]);

    await r.press(KEYS.ctrlC);
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Cancel the backup? y/N')));
    expect(frameLines(frame).at(-1)).toMatch(/y cancel the backup {2}n keep it running/);
    expectFits(frame);
    await r.press('n');
    await r.waitForFrame((f) => !f.includes('Cancel the backup?'), 'the question gone after n');
    expect(signal?.aborted).toBe(false);
    expect(exited).toBe(false);

    await r.press('x');
    await r.waitForFrame((f) => f.includes('Cancel the backup? y/N'), 'x asks too');
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => !f.includes('Cancel the backup?'), 'enter is no');
    expect(signal?.aborted).toBe(false);

    await r.press('x');
    await r.waitForFrame((f) => f.includes('Cancel the backup? y/N'));
    await r.press('y');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('cancelled (cancelled from the console)')));
    expect(signal?.aborted).toBe(true);
    expect(frame).toMatch(/FAIL\s+Backup 20261125T110000Z-L failed: cancelled/);
    expect(exited).toBe(false);
    // With nothing running, ctrl-c quits again.
    await r.press(KEYS.ctrlC);
    await r.instance.waitUntilExit();
  });

  test('quitting from another screen while a backup runs goes to it and asks first', async () => {
    let signal: AbortSignal | undefined;
    const api = fakeApi({
      targets: targets(),
      manifests: { prod: prodManifests() },
      backupWork: (ctx) =>
        new Promise<Manifest>((_, reject) => {
          signal = ctx.signal;
          ctx.emit({ type: 'step', step: 'dump', status: 'running' });
          ctx.signal.addEventListener('abort', () => reject(new Error('cancelled')));
        }),
    });
    const r = await openProd(api);
    await r.press('b');
    await r.waitForFrame((f) => f.includes('Start a backup'));
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('Backup of prod (logical)'));
    await r.press('1');
    await r.waitForFrame((f) => frameLines(f)[0]!.includes('· Targets'));
    await r.press('q');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('Cancel the backup? y/N')));
    expect(frameLines(frame)[0]).toContain('· Catalog');
    expect(signal?.aborted).toBe(false);
    await r.press('y');
    await r.waitForFrame((f) => f.includes('FAIL'));
    expect(signal?.aborted).toBe(true);
  });
});

describe('actions on the selected backup', () => {
  test('v verifies it, V verifies it with a restore; the outcome shows as OK with the checks', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    const r = await openProd(api);
    await r.press('v');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes('Verified: sha256, pg_restore --list passed.')));
    expect(frame).toContain(`Verify ${LOGICAL} of prod`);
    expect(frame).toMatch(/OK\s+checksums/);
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => f.includes('prod · 4 backups'));
    await r.press('V');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('restore passed')));
    expect(frame).toContain('(with a restore)');
    expect(frame).toMatch(/OK\s+start scratch server/);
    expect(api.verifiesStarted).toEqual([
      { name: 'prod', id: LOGICAL, restore: false },
      { name: 'prod', id: LOGICAL, restore: true },
    ]);
  });

  test('a verify that finds a problem ends in FAIL with the failing check', async () => {
    const api = fakeApi({
      targets: targets(),
      manifests: { prod: prodManifests() },
      async verifyWork(ctx, name, id) {
        await ctx.step('checksums', async () => {});
        return { target: name, backup: id, ok: false, checks: [{ method: 'sha256', ok: false, detail: 'dump.pgdump: checksum differs' }] };
      },
    });
    const r = await openProd(api);
    await r.press('v');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('checksum differs')));
    expect(frame).toMatch(/FAIL\s+Backup 20261125T095500Z-L failed 1 of 1 checks\./);
    expect(frame).toContain('sha256: dump.pgdump: checksum differs');
  });

  test('v on a failed backup says why nothing runs', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    const r = await openProd(api);
    await r.press('j', 'v');
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('only complete backups can be verified')));
    expect(frame).toMatch(new RegExp(`FAIL\\s+Backup ${FAILED} is failed; only complete backups can be verified\\.`));
    expect(api.verifiesStarted).toEqual([]);
  });

  test('r on a logical backup opens the new-database form (esc closes it); r on a physical one opens Restore preset to its end', async () => {
    const api = fakeApi({ targets: targets(), manifests: { prod: prodManifests() } });
    const r = await openProd(api);
    await r.press('r');
    let frame = stripAnsi(await r.waitForFrame((f) => f.includes(`Into a new database from ${LOGICAL}`)));
    expectFits(frame);
    await r.press(KEYS.escape);
    await r.waitForFrame((f) => !f.includes('Into a new database'));
    await r.press('j', 'j', 'r');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('· Restore') && f.includes(`› end of ${BASE_B}`)));
    expect(frame).toMatch(/Time\s+2026-11-25T09:08:30.000Z\s+= 2026-11-25 09:08:30Z/);
    expectFits(frame);
  });

  test('2 opens the catalog of the last selected target; with none it says where to pick one', async () => {
    const r = renderApp(fakeApi({ targets: targets(), manifests: { prod: prodManifests() } }));
    await r.waitForFrame((f) => f.includes('staging'));
    await r.press('j', '2');
    await r.waitForFrame((f) => f.includes('No backups of staging yet; press b to take one.'));
    await r.press('1', 'k', '2');
    await r.waitForFrame((f) => f.includes('prod · 4 backups'));
    const empty = renderApp(fakeApi());
    await empty.waitForFrame((f) => f.includes('No targets yet'));
    await empty.press('2');
    await empty.waitForFrame((f) => f.includes('No target selected yet: pick one on Targets (1)'));
  });
});
