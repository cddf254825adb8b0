import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createConsoleApi } from '../src/cli/console-api.js';
import type { Manifest } from '../src/repo/manifest.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir, sharedMariadb, withMysql } from './helpers/sandbox.js';
import { cleanupAll, expectFits, KEYS, renderApp, stripAnsi } from './screens/helpers.js';

// Issue 20: r on a MariaDB logical (mariadb-dump) backup in the Catalog restores it into a new
// schema from the console, as it does for PostgreSQL: the real console over the real ConsoleApi,
// a real MariaDB 10.11, and the rows counted in the new schema afterwards.

const my = sharedMariadb();
const cfg = tempConfigDir();
const repo = mkdtempSync(join(sandboxRunDir(), 'console-my-logical-'));
const SOURCE = 'console_my_src';
const INTO = 'console_my_back';
const PW = 'CONSOLE_MY_LOGICAL_PW';

const count = (schema: string, table: string) =>
  withMysql(my, async (c) => Number((await c.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${table}\``))[0][0]!.n), { database: schema });

afterEach(cleanupAll);
afterAll(async () => {
  await withMysql(my, async (c) => {
    for (const s of [SOURCE, INTO]) await c.query(`DROP DATABASE IF EXISTS \`${s}\``);
  }, { database: undefined });
  rmSync(repo, { recursive: true, force: true });
  cfg.cleanup();
});

describe('console: MariaDB logical restore into a new schema', () => {
  it('r, a name, the target typed: the new schema holds the backup\'s rows exactly, the source untouched', async () => {
    await withMysql(my, (c) => c.query(`CREATE DATABASE ${SOURCE}`), { database: undefined });
    await withMysql(my, async (c) => {
      await c.query('CREATE TABLE notes (id int PRIMARY KEY, body varchar(100))');
      await c.query("INSERT INTO notes SELECT seq, CONCAT('note ', seq) FROM seq_1_to_1237");
      await c.query('CREATE TABLE tags (id int PRIMARY KEY, name varchar(20))');
      await c.query("INSERT INTO tags SELECT seq, CONCAT('tag', seq) FROM seq_1_to_41");
    }, { database: SOURCE });
    const env = { DBDRILL_CONFIG_DIR: cfg.dir, [PW]: my.password };
    const add = await runCli(['target', 'add', 'mynotes', '--engine', 'mysql', '--host', my.host, '--port', String(my.port), '--user', my.user, '--dbname', SOURCE, '--repo', repo, '--password-env', PW], { env });
    expect(add.code, add.stderr).toBe(0);
    const backup = await runCli(['backup', 'mynotes', '--kind', 'logical', '--json'], { env, timeoutMs: 120_000 });
    expect(backup.code, backup.stderr).toBe(0);
    const id = (JSON.parse(backup.stdout) as { backup: Manifest }).backup.id;
    // Rows written after the backup are not the backup's: the restore must not have them.
    await withMysql(my, (c) => c.query("INSERT INTO notes VALUES (5000, 'later')"), { database: SOURCE });

    process.env[PW] = my.password;
    const r = renderApp(createConsoleApi(cfg.dir), { columns: 80, rows: 24 });
    await r.waitForFrame((f) => f.includes('mynotes'), 'the target listed', 10_000);
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => f.includes('mynotes · 1 backup'), 'the catalog', 10_000);
    // The dump starts a point-in-time restore too (its binlog position): R is offered for that.
    let frame = stripAnsi(await r.waitForFrame((f) => /R to a time/.test(stripAnsi(f)), 'R offered', 10_000));
    await r.press('r');
    frame = stripAnsi(await r.waitForFrame((f) => f.includes('Into a new database'), 'the form'));
    expect(frame).toContain(`Into a new database from ${id}; the source stays`);
    expectFits(frame);
    for (const ch of INTO) await r.press(ch);
    await r.waitForFrame((f) => stripAnsi(f).includes(`Database ${INTO}█`));
    await r.press(KEYS.enter);
    await r.waitForFrame((f) => /› Confirm/.test(stripAnsi(f)));
    for (const ch of 'mynotes') await r.press(ch);
    await r.press(KEYS.enter);
    frame = stripAnsi(await r.waitForFrame((f) => /Restored into|FAIL/.test(stripAnsi(f)) && !/…\s+restor/.test(stripAnsi(f)), 'the restore done', 120_000));
    expect(frame).toMatch(new RegExp(`Restored into ${INTO}: 2 tables, 1278 rows\\.`));
    expect(frame.replace(/\s+/g, ' ')).toContain("2 table(s) match the backup's row counts and digests.");
    expectFits(frame);

    expect(await count(INTO, 'notes')).toBe(1237);
    expect(await count(INTO, 'tags')).toBe(41);
    expect(await count(SOURCE, 'notes')).toBe(1238);
  }, 240_000);
});
