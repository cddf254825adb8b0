import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sharedMariadb } from './helpers/sandbox.js';

/**
 * Issue 17: an encrypted repository on a MariaDB target. Its tools (mariadb-dump, mariadb-backup,
 * the binlog archive) do not stream through age yet, so backup and binlog-sync refuse in one
 * sentence before any tool runs, and nothing lands in the repository in plain.
 */
const my = sharedMariadb();
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
const env = { DBDRILL_CONFIG_DIR: cfg.dir, ENC_MY_PW: my.password };
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });

afterAll(() => cfg.cleanup());

describe('encrypted repository (MariaDB)', { timeout: 300_000 }, () => {
  it('refuses backups and binlog sync in one sentence and stores nothing in plain', async () => {
    const keys = join(cfg.dir, 'keys');
    mkdirSync(keys, { mode: 0o700 });
    execFileSync('age-keygen', ['-o', join(keys, 'id.txt')], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', join(keys, 'id.txt')]).toString().trim();
    const add = await cli(['target', 'add', 'mye', '--engine', 'mysql', '--host', my.host, '--port', String(my.port), '--user', my.user, '--dbname', 'mysql', '--repo', repo, '--password-env', 'ENC_MY_PW', '--encrypt-to', recipient]);
    expect(add.code, add.stderr).toBe(0);
    for (const kind of ['logical', 'physical']) {
      const r = await cli(['backup', 'mye', '--kind', kind]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/encrypts its repository \(--encrypt-to\), which MySQL\/MariaDB backups do not support yet/);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('dbdrill:'))).toHaveLength(1);
    }
    const sync = await cli(['binlog-sync', 'mye']);
    expect(sync.code).not.toBe(0);
    expect(sync.stderr).toMatch(/encrypts its repository/);
    // Nothing but dbdrill's own records (repo.json, encryption.json, failed manifests) is in the repository.
    const stored = existsSync(repo) ? readdirSync(repo, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name) : [];
    expect(stored.filter((n) => !n.endsWith('.json'))).toEqual([]);
    rmSync(keys, { recursive: true, force: true });
  });
});
