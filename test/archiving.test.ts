import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { runCli, tempConfigDir, CLI } from './helpers/cli.js';
import { sandboxRunDir, withPg } from './helpers/sandbox.js';

const cfg = tempConfigDir();
let server: SandboxInstance;
let env: Record<string, string>;
const repo = join(sandboxRunDir(), `archiving-repo-${process.pid}`);

beforeAll(async () => {
  server = await startPostgresSandbox({});
  env = { DBDRILL_CONFIG_DIR: cfg.dir, ARCH_PW: server.password };
  const add = await runCli(['target', 'add', 'a', '--engine', 'postgres', '--port', String(server.port), '--user', server.user, '--dbname', server.dbname, '--repo', repo, '--password-env', 'ARCH_PW'], { env });
  expect(add.code, add.stderr).toBe(0);
});
afterAll(async () => {
  await server?.stop();
  rmSync(repo, { recursive: true, force: true });
  cfg.cleanup();
});

describe('dbdrill archiving enable', () => {
  it('shows the ALTER SYSTEM statements and that a restart is needed, changing nothing', async () => {
    const r = await runCli(['archiving', 'enable', 'a'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ALTER SYSTEM SET archive_mode = 'on';`);
    // Batching by default: the shell answers from the spool, else wal-push --batch runs.
    const id = (await withPg(server, (c) => c.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()'))).rows[0]!.id;
    expect(r.stdout).toContain(`ALTER SYSTEM SET archive_command = 'R=${repo}/wal/spool/${id}; test -f "$R"/%f || `);
    expect(r.stdout).toContain(`; test -f "$R"/%f && rm -f "$R"/%f || ${process.execPath} ${CLI} wal-push --repo ${repo} --batch %p';`);
    const plain = await runCli(['archiving', 'enable', 'a', '--batch', 'off'], { env });
    expect(plain.stdout).toContain(`ALTER SYSTEM SET archive_command = '${process.execPath} ${CLI} wal-push --repo ${repo} %p';`);
    expect(r.stdout).toContain(`ALTER SYSTEM SET archive_timeout = '60s';`);
    expect(r.stdout).toContain('wal_level/archive_mode take effect only after a server restart.');
    const mode = await withPg(server, (c) => c.query<{ archive_mode: string }>('SHOW archive_mode'));
    expect(mode.rows[0]!.archive_mode).toBe('off');
  });

  it('with --compress zstd puts the option into archive_command', async () => {
    const r = await runCli(['archiving', 'enable', 'a', '--compress', 'zstd'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(` || ${process.execPath} ${CLI} wal-push --repo ${repo} --compress zstd --batch %p';`);
    const bad = await runCli(['archiving', 'enable', 'a', '--compress', 'gzip'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^dbdrill: --compress "gzip" is not supported; use --compress zstd or --compress none; usage: dbdrill archiving enable/);
  });

  it('with --apply sets them and names what waits for a restart', async () => {
    const r = await runCli(['archiving', 'enable', 'a', '--apply', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { applied: boolean; pendingRestart: string[]; archiveCommand: string };
    expect(out.applied).toBe(true);
    expect(out.pendingRestart).toContain('archive_mode');
    // archive_mode is still off until the restart, so SHOW says "(disabled)"; the file holds it.
    const cmd = await withPg(server, (c) => c.query<{ setting: string }>(`SELECT setting FROM pg_file_settings WHERE name = 'archive_command' AND applied`));
    expect(cmd.rows.at(-1)!.setting).toBe(out.archiveCommand);
    const again = await runCli(['archiving', 'enable', 'a'], { env });
    expect(again.stdout).not.toContain('archive_command');
    expect(again.stdout).toContain(`ALTER SYSTEM SET archive_mode = 'on';`);
  });
});
