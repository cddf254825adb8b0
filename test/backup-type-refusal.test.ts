import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempConfigDir } from './helpers/cli.js';

/**
 * --type diff|incr is a fact of the target's method (EngineMethod.backupTypes): a method without
 * chains refuses it in one sentence before anything connects or is written.
 */
const cfg = tempConfigDir();
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
afterAll(() => cfg.cleanup());

describe('backup --type on a method without chains', () => {
  it('PostgreSQL native takes only full physical backups, and names the method that takes the rest', async () => {
    const add = await runCli(['target', 'add', 'pgn', '--engine', 'postgres', '--port', '1', '--dbname', 'x', '--repo', join(cfg.dir, 'repo')], { env });
    expect(add.code, add.stderr).toBe(0);
    // With or without --kind physical: --type alone means a physical backup.
    for (const [type, kind] of [['diff', ['--kind', 'physical']], ['incr', []]] as const) {
      const r = await runCli(['backup', 'pgn', ...kind, '--type', type], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `dbdrill: --type ${type} needs a method that takes ${type === 'diff' ? 'differential' : 'incremental'} backups; target "pgn" uses pg_basebackup, which takes full ones only: drop --type, or switch the target with dbdrill target edit pgn --method pgbackrest.\n`,
      );
    }
    const logical = await runCli(['backup', 'pgn', '--kind', 'logical', '--type', 'incr'], { env });
    expect(logical.stderr).toBe('dbdrill: A logical backup is always full; drop --type incr or use --kind physical.\n');
  });
});
