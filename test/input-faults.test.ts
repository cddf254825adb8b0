import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, type CliResult } from './helpers/cli.js';
import { sharedPostgres, withPg } from './helpers/sandbox.js';

/**
 * Faults that used to end in "internal error … this is a bug" or a hang, replayed against the
 * suite's PostgreSQL: a relative repository, a repository or WAL directory another user owns,
 * and verify's step lines against its result.
 */
const scratch = mkdtempSync(join(tmpdir(), 'dbdrill-input-faults-'));
const isRoot = process.getuid?.() === 0;
const nobody = { uid: 65534, gid: 65534 };
let env: Record<string, string>;
const cfgDir = join(scratch, 'cfg');

beforeAll(() => {
  // Another user may pass through, as through /srv; what it may write is decided below.
  chmodSync(scratch, 0o711);
  mkdirSync(cfgDir, { mode: 0o700 });
  const pg = sharedPostgres();
  env = { DBDRILL_CONFIG_DIR: cfgDir, FAULTS_PG_PW: pg.password };
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const pgFlags = () => {
  const pg = sharedPostgres();
  return ['--engine', 'postgres', '--host', pg.host, '--port', String(pg.port), '--user', pg.user, '--dbname', pg.dbname, '--password-env', 'FAULTS_PG_PW'];
};

function oneSentence(r: CliResult, pattern: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  expect(lines.at(-1)).toMatch(pattern);
  expect(r.stderr).not.toMatch(/internal error|this is a bug|\n\s+at /);
}

describe('a repository given as a relative path', () => {
  it('is stored absolute, and archiving enable finishes with an absolute archive_command', async () => {
    const cwd = join(scratch, 'workdir');
    mkdirSync(cwd);
    const add = await runCli(['target', 'add', 'rel', ...pgFlags(), '--repo', 'relrepo'], { env, cwd });
    expect(add.code, add.stderr).toBe(0);
    // Run from elsewhere: the repository is still the one under workdir.
    const r = await runCli(['archiving', 'enable', 'rel', '--json'], { env, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { archiveCommand: string };
    // Absolute everywhere: the spool the shell tests and the repository wal-push writes.
    expect(plan.archiveCommand.startsWith(`R=${join(cwd, 'relrepo')}/wal/spool/`)).toBe(true);
    expect(plan.archiveCommand.endsWith(` || ${process.execPath} ${CLI} wal-push --repo ${join(cwd, 'relrepo')} --batch %p`)).toBe(true);
    expect(r.ms).toBeLessThan(20_000);
  });
});

describe.runIf(isRoot)('a repository this user may not write', () => {
  it('backup says which path it cannot write, as whom, in one sentence (exit 1)', async () => {
    const repo = join(scratch, 'root-owned-repo');
    mkdirSync(repo, { mode: 0o755 });
    // A config of nobody's own: the one above is root's.
    const own = join(scratch, 'cfg-nobody');
    mkdirSync(own, { mode: 0o700 });
    chownSync(own, nobody.uid, nobody.gid);
    const nobodyEnv = { ...env, DBDRILL_CONFIG_DIR: own };
    const add = await runCli(['target', 'add', 'ro', ...pgFlags(), '--repo', repo], { env: nobodyEnv, as: nobody });
    expect(add.code, add.stderr).toBe(0);
    const r = await runCli(['backup', 'ro', '--kind', 'logical'], { env: nobodyEnv, as: nobody });
    expect(r.code).toBe(1);
    oneSentence(r, new RegExp(`^dbdrill: Permission denied: dbdrill \\(running as uid 65534\\) cannot create the directory ${repo}/backups; give that user access`));
    expect(readdirSync(repo)).toEqual([]);
  });

  it('wal-push into a WAL directory another user owns fails with one sentence, not "internal error"', async () => {
    const pg = sharedPostgres();
    const segment = await withPg(pg, async (c) => (await c.query<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS name')).rows[0]!.name);
    const input = join(scratch, 'in');
    mkdirSync(input, { mode: 0o755 });
    copyFileSync(join(pg.dataDir, 'pg_wal', segment), join(input, segment));
    chmodSync(join(input, segment), 0o644);
    const repo = join(scratch, 'wal-repo');
    const tlDir = join(repo, 'wal', segment.slice(0, 8));
    mkdirSync(tlDir, { recursive: true, mode: 0o755 });
    for (const d of [repo, join(repo, 'wal'), tlDir]) chmodSync(d, 0o755);
    const r = await runCli(['wal-push', '--repo', repo, join(input, segment)], { as: nobody });
    expect(r.code).not.toBe(0);
    // The sentence names the place that refuses: the timeline directory, or wal/archive.json
    // that the first push of an archive writes.
    oneSentence(r, new RegExp(`^dbdrill: .*(${tlDir}|${join(repo, 'wal', 'archive.json')})`));
    expect(r.stderr).toMatch(/permission denied|EACCES/i);
    expect(readdirSync(tlDir)).toEqual([]);
  });
});

describe('verify of a damaged backup', () => {
  it('prints FAIL for the checksum step, never "OK checksums", when the result is FAIL', async () => {
    const repo = join(scratch, 'verify-repo');
    const add = await runCli(['target', 'add', 'ver', ...pgFlags(), '--repo', repo], { env });
    expect(add.code, add.stderr).toBe(0);
    const b = await runCli(['backup', 'ver', '--kind', 'logical', '--json'], { env, timeoutMs: 120_000 });
    expect(b.code, b.stderr).toBe(0);
    const m = (JSON.parse(b.stdout) as { backup: { id: string; files: { path: string; bytes: number }[] } }).backup;
    const file = join(repo, 'backups', m.id, m.files[0]!.path);
    const bytes = readFileSync(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(file, bytes);

    const r = await runCli(['verify', 'ver', '--backup', m.id], { env, timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^FAIL checksums: 1 file\(s\) differ from the manifest$/m);
    expect(r.stderr).not.toMatch(/^OK checksums/m);
    expect(r.stdout).toMatch(/^FAIL sha256: .*checksum differs$/m);
    expect(r.stdout).toMatch(/FAILED verification\.\nIt is marked corrupt: no restore, drill or plan starts from it until verify passes again\.\n$/);
    // Every step line says what its check found: an OK line only for a check whose result is OK.
    const report = await runCli(['verify', 'ver', '--backup', m.id, '--json'], { env, timeoutMs: 120_000 });
    const checks = (JSON.parse(report.stdout) as { checks: { method: string; ok: boolean }[] }).checks;
    for (const line of report.stderr.split('\n').filter((l) => l.startsWith('OK '))) {
      const step = line.slice(3).split(':')[0]!;
      expect(checks.find((c) => c.method === step || (step === 'checksums' && c.method === 'sha256'))?.ok, line).not.toBe(false);
    }
  });
});
