import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createConsoleApi } from '../src/cli/console-api.js';
import type { Manifest } from '../src/repo/manifest.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { createScratchDb, dropDb, tableFingerprint } from './helpers/pg-scratch-db.js';
import { sandboxRunDir, sharedPostgres } from './helpers/sandbox.js';

// Issue 20: the console's r on a logical backup runs the same restore as restore --dbname, on a
// real server: a new database with the source's rows, the source untouched.

const cfg = tempConfigDir();
const pgInfo = sharedPostgres();
const repo = mkdtempSync(join(sandboxRunDir(), 'console-logical-'));
const dbs: string[] = [];
const PW = 'CONSOLE_LOGICAL_PW';

afterAll(async () => {
  for (const d of dbs) await dropDb(pgInfo, d).catch(() => {});
  rmSync(repo, { recursive: true, force: true });
  cfg.cleanup();
});

describe('console API: logical restore into a new database', () => {
  it('restores the backup into the name given, row for row, and refuses the source database', async () => {
    const source = await createScratchDb(pgInfo, 'console_src', async (c) => {
      await c.query('CREATE TABLE notes (id int PRIMARY KEY, body text)');
      await c.query("INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 500) g");
    });
    dbs.push(source);
    const env = { DBDRILL_CONFIG_DIR: cfg.dir, [PW]: pgInfo.password };
    const add = await runCli(['target', 'add', 'notes', '--engine', 'postgres', '--host', '127.0.0.1', '--port', String(pgInfo.port), '--user', pgInfo.user, '--dbname', source, '--repo', repo, '--password-env', PW], { env });
    expect(add.code, add.stderr).toBe(0);
    const backup = await runCli(['backup', 'notes', '--kind', 'logical', '--json'], { env, timeoutMs: 120_000 });
    expect(backup.code, backup.stderr).toBe(0);
    const id = (JSON.parse(backup.stdout) as { backup: Manifest }).backup.id;

    process.env[PW] = pgInfo.password;
    const api = createConsoleApi(cfg.dir);
    const into = `${source}_restored`;
    dbs.push(into);
    const report = await api.startLogicalRestore('notes', { backup: id, dbname: into }).result;
    expect(report).toMatchObject({ target: 'notes', backup: id, dbname: into, matches: true });
    expect(await tableFingerprint(pgInfo, into, 'notes')).toEqual(await tableFingerprint(pgInfo, source, 'notes'));

    // The source is never the destination: one sentence, no job run.
    await expect(api.startLogicalRestore('notes', { backup: id, dbname: source }).result).rejects.toThrow(/is the target's own database/);
  }, 240_000);
});
