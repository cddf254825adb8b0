import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runTool, type RunEvent } from '../src/runner/run.js';
import { findTool } from '../src/runner/tools.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sharedMariadb, sharedPostgres } from './helpers/sandbox.js';

const pg = sharedPostgres();
const my = sharedMariadb();

/** What any user on the machine can read of a process: its argv. */
function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

async function runWatchingArgv(spec: Parameters<typeof runTool>[0]) {
  const events: RunEvent[] = [];
  let argvSeen = '';
  const result = await runTool({
    ...spec,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'start' && e.pid) argvSeen = cmdline(e.pid);
    },
  });
  return { events, argvSeen, result };
}

describe('secrets never reach argv or logs', () => {
  it('PostgreSQL tools get the password only through their environment', async () => {
    const psql = await findTool('psql', { serverMajor: 15 });
    const { events, argvSeen, result } = await runWatchingArgv({
      tool: psql,
      args: ['--host', pg.host, '--port', String(pg.port), '--username', pg.user, '--no-password', '--dbname', pg.dbname, '-Atc', 'select pg_sleep(0.3), current_user'],
      secret: { kind: 'pg', password: pg.password },
      capture: true,
    });
    // The login worked, so the password was delivered...
    expect(result.stdout.trim()).toBe(`|${pg.user}`);
    // ...but not through argv, and not into any event a log or screen could show.
    expect(argvSeen).toContain('--no-password');
    expect(argvSeen).not.toContain(pg.password);
    expect(JSON.stringify(events)).not.toContain(pg.password);
  });

  it('MariaDB tools read a 0600 option file that is gone afterwards', async () => {
    const client = await findTool(['mariadb', 'mysql']);
    const { events, argvSeen, result } = await runWatchingArgv({
      tool: client,
      args: ['--host', my.host, '--port', String(my.port), '--user', my.user, '--batch', '--skip-column-names', '-e', 'select sleep(0.3), current_user()'],
      secret: { kind: 'mysql', password: my.password },
      capture: true,
    });
    const optionFile = /--defaults-extra-file=(\S+)/.exec(argvSeen)?.[1] ?? '';
    expect(result.stdout).toMatch(new RegExp(`^0\\s+${my.user}@`));
    expect(argvSeen).not.toContain(my.password);
    expect(argvSeen.split(' ')[1]).toMatch(/^--defaults-extra-file=/);
    expect(optionFile).not.toBe('');
    expect(existsSync(optionFile)).toBe(false);
    expect(JSON.stringify(events)).not.toContain(my.password);
  });

  it('the option file is private while the tool runs', async () => {
    const client = await findTool(['mariadb', 'mysql']);
    let seenMode = -1;
    let file = '';
    await runTool({
      tool: client,
      args: ['--host', my.host, '--port', String(my.port), '--user', my.user, '-e', 'select sleep(0.3)'],
      secret: { kind: 'mysql', password: my.password },
      onEvent: (e) => {
        if (e.type === 'start' && e.pid) {
          file = /--defaults-extra-file=(\S+)/.exec(cmdline(e.pid))?.[1] ?? '';
          seenMode = statSync(file).mode & 0o777;
        }
      },
    });
    expect(seenMode).toBe(0o600);
    expect(existsSync(file)).toBe(false);
  });
});

describe('dbdrill target test against real servers', () => {
  const cfg = tempConfigDir();
  const env = { DBDRILL_CONFIG_DIR: cfg.dir, PG_PW: pg.password, MY_PW: my.password, BAD_PW: 'not-the-password' };
  afterAll(() => cfg.cleanup());

  it('reports version, archiving and privileges for PostgreSQL and MariaDB, never the password', async () => {
    for (const args of [
      ['target', 'add', 'p', '--engine', 'postgres', '--port', String(pg.port), '--user', pg.user, '--dbname', pg.dbname, '--repo', `${cfg.dir}/r1`, '--password-env', 'PG_PW'],
      ['target', 'add', 'm', '--engine', 'mysql', '--port', String(my.port), '--user', my.user, '--dbname', my.dbname, '--repo', `${cfg.dir}/r2`, '--password-env', 'MY_PW'],
      ['target', 'add', 'pbad', '--engine', 'postgres', '--port', String(pg.port), '--user', pg.user, '--dbname', pg.dbname, '--repo', `${cfg.dir}/r3`, '--password-env', 'BAD_PW'],
      ['target', 'add', 'mbad', '--engine', 'mysql', '--port', String(my.port), '--user', my.user, '--dbname', my.dbname, '--repo', `${cfg.dir}/r4`, '--password-env', 'BAD_PW'],
    ]) {
      const r = await runCli(args, { env });
      expect(r.code, r.stderr).toBe(0);
    }
    const p = await runCli(['target', 'test', 'p', '--json'], { env });
    expect(p.code, p.stderr).toBe(0);
    const probe = JSON.parse(p.stdout).probe;
    expect(probe).toMatchObject({ engine: 'postgres', flavor: 'postgresql', serverMajor: 15, archiving: { enabled: true } });
    expect(probe.privileges.every((c: { ok: boolean }) => c.ok)).toBe(true);
    const m = await runCli(['target', 'test', 'm'], { env });
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/^OK {3}connected to m in \d+ ms: MariaDB 10\.11\.\d+/);
    expect(m.stdout).toContain('OK   binary log on (log_bin=ON');
    for (const out of [p.stdout, p.stderr, m.stdout, m.stderr]) {
      expect(out).not.toContain(pg.password);
      expect(out).not.toContain(my.password);
    }
    expect(readFileSync(`${cfg.dir}/config.json`, 'utf8')).not.toContain(pg.password);
  });

  it('a wrong password gets exit 2 and a sentence naming where the password comes from', async () => {
    for (const name of ['pbad', 'mbad']) {
      const r = await runCli(['target', 'test', name], { env });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(/^dbdrill: 127\.0\.0\.1:\d+ refused user "dbdrill" \(wrong password or no access\); check the password in \$BAD_PW\.$/);
      expect(r.stderr).not.toContain('not-the-password');
    }
  });

  it('an unset password variable is named before any connection is tried', async () => {
    const r = await runCli(['target', 'test', 'p'], { env: { ...env, PG_PW: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('dbdrill: Target "p" reads its password from $PG_PW, which is not set; export PG_PW before running dbdrill.');
  });
});
