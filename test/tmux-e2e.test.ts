import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, tempConfigDir } from './helpers/cli.js';
import { sharedPostgres } from './helpers/sandbox.js';
import { TmuxSession } from './helpers/tmux.js';

/**
 * The built console in a real 80x24 terminal against the suite's PostgreSQL: a target with its own
 * repository, a backup taken from the Catalog and watched live, the new backup in the list, the
 * recoverable window on Restore (first the sentence for a logical-only repository, then the window
 * and the plan once a physical backup exists), and q back to the shell with status 0.
 */
const pg = sharedPostgres();
const cfg = tempConfigDir();
const repo = mkdtempSync(join(tmpdir(), 'dbdrill-e2e-repo-'));
const PW_VAR = 'DBDRILL_E2E_PGPASSWORD';
const sessions: TmuxSession[] = [];

beforeAll(async () => {
  const add = await runCli(
    ['target', 'add', 'e2e', '--engine', 'postgres', '--host', pg.host, '--port', String(pg.port), '--user', pg.user, '--dbname', pg.dbname, '--repo', repo, '--password-env', PW_VAR, '--config', cfg.dir],
    { env: { [PW_VAR]: pg.password } },
  );
  expect(add.code, add.stderr).toBe(0);
});

afterAll(async () => {
  for (const s of sessions) s.kill();
  await cfg.settle();
  cfg.cleanup();
  rmSync(repo, { recursive: true, force: true });
});

const lines = (screen: string) => screen.split('\n');

function expectFits(screen: string): void {
  expect(Math.max(...lines(screen).map((l) => [...l].length))).toBeLessThanOrEqual(80);
  // One row short of the terminal: the last row stays empty.
  expect(lines(screen)[23] ?? '').toBe('');
}

describe('the console end to end (tmux 80x24, real PostgreSQL)', () => {
  it('backs up from the Catalog, lists the backup, shows the recoverable window and a plan, and quits with status 0', async () => {
    const t = new TmuxSession(`${process.execPath} ${CLI} --config ${cfg.dir}`, { width: 80, height: 24, env: { [PW_VAR]: pg.password, NO_COLOR: '1' } });
    sessions.push(t);

    await t.waitFor((s) => /› e2e\s+postgres/.test(s));
    t.keys('Enter');
    let s = await t.waitFor((x) => x.includes('No backups of e2e yet; press b to take one.'));
    expect(lines(s)[0]).toMatch(/^dbdrill \S+ · Catalog/);

    // A logical backup, chosen from the small choice and watched in the run view.
    t.keys('b');
    s = await t.waitFor((x) => x.includes('Start a backup of e2e:'));
    expect(s).toMatch(/› logical\s+physical/);
    t.keys('Enter');
    s = await t.waitFor((x) => /OK\s+Backup \d{8}T\d{6}Z-L complete: logical/.test(x), 60_000);
    expect(s).toContain('Backup of e2e (logical)');
    for (const step of ['connect', 'dump', 'count rows', 'checksum']) expect(s).toMatch(new RegExp(`OK\\s+${step}`));
    expectFits(s);
    const logicalId = /Backup (\d{8}T\d{6}Z-L) complete/.exec(s)![1]!;
    t.keys('Enter');
    s = await t.waitFor((x) => x.includes('e2e · 1 backup,'));
    expect(s).toMatch(new RegExp(`› ${logicalId}\\s+logical\\s+full\\s+OK`));
    expect(s).toMatch(/tool\s+pg_dump \d+/);

    // Restore with only a logical backup: the window is empty and says how to get one.
    t.keys('3');
    s = await t.waitFor((x) => x.includes('No restorable point yet'));
    expect(s.replace(/\s+/g, ' ')).toContain('no backup of e2e can start a point-in-time restore (PostgreSQL needs a complete physical backup');

    // A physical backup from the Catalog, then r on it opens Restore preset to its end.
    t.keys('2');
    await t.waitFor((x) => x.includes('e2e · 1 backup,'));
    t.keys('b');
    await t.waitFor((x) => x.includes('Start a backup of e2e:'));
    t.keys('Right');
    await t.waitFor((x) => /logical\s+› physical/.test(x));
    t.keys('Enter');
    s = await t.waitFor((x) => /OK\s+Backup \d{8}T\d{6}Z-F complete: physical/.test(x), 90_000);
    expect(s).toMatch(/OK\s+base backup/);
    const physicalId = /Backup (\d{8}T\d{6}Z-F) complete/.exec(s)![1]!;
    t.keys('Enter');
    await t.waitFor((x) => x.includes('e2e · 2 backups,') && new RegExp(`› ${physicalId}`).test(x));
    // Its manifest in the details pane (tab): the LSNs and WAL range a restore starts from.
    t.keys('Tab');
    s = await t.waitFor((x) => x.includes('› details') && /LSN\s+[0-9A-F]+\/[0-9A-F]+ → [0-9A-F]+\/[0-9A-F]+/.test(x));
    expect(s).toMatch(/WAL\s+[0-9A-F]{24} … [0-9A-F]{24}/);
    t.keys('Tab');
    await t.waitFor((x) => x.includes('─ details (tab)'));
    t.keys('r');
    s = await t.waitFor((x) => x.includes('Recoverable window of e2e:') && x.includes(`› end of ${physicalId}`));
    expect(s).toMatch(/^\[B[ =x]*\]$/m);
    expect(s).toContain('B backup  = recoverable  x not recoverable  ^ chosen');
    expectFits(s);

    // The plan (a dry run: nothing is written) and the typed-name confirmation, then back out.
    t.keys('Enter');
    s = await t.waitFor((x) => x.includes('Plan: restore e2e'), 30_000);
    expect(s).toMatch(new RegExp(`backup\\s+${physicalId}, timeline \\d+`));
    expect(s).toMatch(/WAL\s+[0-9A-F]{24} … [0-9A-F]{24}, \d+ segments?/);
    expect(s).toContain('Type e2e and press enter to start the restore');
    expectFits(s);
    t.keys('Escape');
    await t.waitFor((x) => x.includes('Recoverable window of e2e:'));
    // A key sent right behind ESC would read as alt+key: each waits for the screen to change.
    t.keys('Escape');
    await t.waitFor((x) => /· Targets/.test(lines(x)[0] ?? ''));
    t.keys('q');
    const deadline = Date.now() + 10_000;
    while (t.exitStatus() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(t.exitStatus()).toBe(0);
  });

  it('watches archiver health live and runs a drill from the Drill screen, then quits with status 0', async () => {
    const t = new TmuxSession(`${process.execPath} ${CLI} --config ${cfg.dir}`, { width: 80, height: 24, env: { [PW_VAR]: pg.password, NO_COLOR: '1' } });
    sessions.push(t);
    await t.waitFor((s) => /› e2e\s+postgres/.test(s));
    // The Targets row fills in the archiver status from a real sample.
    let s = await t.waitFor((x) => /› e2e\s+postgres\s+\S+\s+\S+\s+(OK|WARN|CRIT)\s/.test(x), 30_000);
    t.keys('5');
    s = await t.waitFor((x) => /e2e · every 2s · sample [2-9]/.test(x), 30_000);
    expect(s).toMatch(/^(OK|WARN|CRIT)\s+/m);
    expect(s).toMatch(/archived\s+\d+ segments?/);
    expect(s).toMatch(/OK\s+server: PostgreSQL 15\.\d+ at /);
    expectFits(s);
    t.keys('Space');
    await t.waitFor((x) => x.includes('PAUSED'));

    t.keys('4');
    await t.waitFor((x) => x.includes('History · 0 drills'));
    t.keys('d');
    s = await t.waitFor((x) => /(PASSED|FAILED) · drill \d{8}T\d{6}Z/.test(x) || /^FAIL /m.test(x), 120_000);
    expect(s).toMatch(/OK\s+PASSED · drill/);
    for (const step of ['pick backup', 'verify backup files', 'provision scratch instance', 'restore base', 'verify', 'measure', 'tear down']) {
      expect(s).toMatch(new RegExp(`(OK|SKIP)\\s+${step}`));
    }
    expect(s).toMatch(/RTO \S+ \(transfer \S+, replay \S+\)/);
    expectFits(s);
    t.keys('Enter');
    s = await t.waitFor((x) => x.includes('History · 1 drill'));
    expect(s).toMatch(/› \d{2}-\d{2} \d{2}:\d{2}Z\s+PASSED\s+latest/);
    t.keys('1');
    await t.waitFor((x) => /· Targets/.test(lines(x)[0] ?? ''));
    t.keys('q');
    const deadline = Date.now() + 10_000;
    while (t.exitStatus() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(t.exitStatus()).toBe(0);
  });
});
