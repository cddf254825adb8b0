import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/command-table.js';
import { runCli, tempConfigDir, type CliResult } from './helpers/cli.js';

/**
 * Bad input through the CLI as an operator types it: every case exits 2 (or 1 for a failed run)
 * with one "dbdrill: …" sentence, never "internal error" or a stack trace.
 */
const cfg = tempConfigDir();
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
const scratch = mkdtempSync(join(tmpdir(), 'dbdrill-cli-input-'));
const isRoot = process.getuid?.() === 0;
const nobody = { uid: 65534, gid: 65534 };
afterAll(() => {
  cfg.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

function oneSentence(r: CliResult, pattern: RegExp | string): void {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  if (typeof pattern === 'string') expect(lines[0]).toBe(pattern);
  else expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

describe('help, typos and a console that cannot open', () => {
  it('prints dbdrill --help within 80 columns', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => [...l].length > 80)).toEqual([]);
    expect(r.stdout).toContain('dbdrill backup NAME --kind logical|physical');
  });

  it('prints each command\'s own usage for COMMAND --help and -h, exit 0', async () => {
    // Every command's text comes from one function; the entry that prints it is run for a few.
    const { commandHelp } = await import('../src/cli/help.js');
    for (const c of COMMANDS) {
      const text = commandHelp(c.name);
      expect(text.replace(/\s+/g, ' '), c.name).toContain(`dbdrill ${c.forms[0]!.line}`);
      expect(text.split('\n').filter((l) => [...l].length > 80), c.name).toEqual([]);
    }
    const [backup, verify, add, help] = await Promise.all([
      runCli(['backup', '--help'], { env }),
      runCli(['verify', '--help'], { env }),
      runCli(['target', 'add', '-h'], { env }),
      runCli(['help', 'restore'], { env }),
    ]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toBe(commandHelp('backup'));
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^Usage:\n {2}dbdrill verify NAME \[--from COPY\] \[--identity FILE\]\n {8}every backup, chain link and archived file\n {2}dbdrill verify NAME --backup ID \[--restore\] \[--from COPY\] \[--identity FILE\]\n/);
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('dbdrill target add NAME');
    expect(add.stdout).not.toContain('dbdrill target list');
    expect(help.stdout).toContain('dbdrill restore NAME --to TIME|latest');
  });

  it('suggests the command a typo meant', async () => {
    const r = await runCli(['restor'], { env });
    expect(r.code).toBe(2);
    oneSentence(r, 'dbdrill: Unknown command "restor"; did you mean restore?');
  });

  it('says in one stderr line why no console opened on a pipe, and still prints the target list', async () => {
    const r = await runCli([], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^No targets yet|^NAME/);
    oneSentence(r, /^dbdrill: not a terminal \(stdin and stdout are not a TTY\); showing the target list — run `ssh -t`/);
    const json = await runCli(['--json'], { env });
    expect(json.stderr).toBe('');
  });

  it('takes global options before the command', async () => {
    const r = await runCli(['--config', cfg.dir, 'target', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('targets');
  });
});

describe('values that start with "-" and times that do not exist', () => {
  it('reads --to -1h and --to -15m as values, as the README writes them', async () => {
    const drill = await runCli(['drill', 'ghost', '--to', '-1h'], { env });
    expect(drill.code).toBe(2);
    oneSentence(drill, /^dbdrill: There is no target named "ghost"/);
    const restore = await runCli(['restore', 'ghost', '--to', '-15m', '--into', join(scratch, 'x'), '--port', '5999'], { env });
    expect(restore.code).toBe(2);
    // The restore states the time it read first, then the refusal.
    expect(restore.stderr).toMatch(/^restore target: \S+ \(UTC; given as "-15m"\)\ndbdrill: There is no target named "ghost"[^\n]*\n$/);
  });

  it.concurrent.each([
    ['--to=-99999999999h', /^dbdrill: The time "-99999999999h" reaches back before 1970/],
    ['--to=2026-02-30T10:00:00Z', 'dbdrill: The time "2026-02-30T10:00:00Z" is not a date: February 2026 has 28 days, so day 30 does not exist.'],
    ['--to=2026-13-45T10:00:00Z', /has month 13, which does not exist/],
    ['--to=2026-01-01T10:00:00+25:00', /has the offset \+25:00, which no time zone has/],
    ['--to=2026-01-01T10:00:00 EST', /names the zone EST; zone abbreviations are ambiguous/],
    ['--to=2026-01-01T10:00:00.1234567Z', /has 7 digits after the second/],
  ])('refuses %s with its own sentence', async (to, pattern) => {
    const r = await runCli(['restore', 'ghost', to, '--into', join(scratch, 'x'), '--port', '5999'], { env });
    expect(r.code).toBe(2);
    oneSentence(r, pattern);
  });
});

describe('target add refuses what would be accepted but wrong', () => {
  const file = join(scratch, 'not-a-dir');
  beforeAll(() => writeFileSync(file, 'x'));
  const add = (name: string, ...flags: string[]) => ['target', 'add', name, '--engine', 'postgres', '--repo', join(scratch, `repo-${name}`), ...flags];
  const huge = 'a'.repeat(5000);

  it.concurrent.each(([
    // repository
    [['target', 'add', 'r1', '--engine', 'postgres', '--repo', file], /^dbdrill: The repository path .*not-a-dir is a file, not a directory/],
    [['target', 'add', 'r2', '--engine', 'postgres', '--repo', '/'], /^dbdrill: repo is the root directory \/; give the target a directory of its own/],
    [['target', 'add', 'r3', '--engine', 'postgres', '--repo', '/srv/a\nb'], /^dbdrill: repo contains a newline or another control character/],
    [['target', 'add', 'r4', '--engine', 'postgres', '--repo', ''], /^dbdrill: --repo is empty; give it a value or leave --repo out/],
    [['target', 'add', 'r5', '--engine', 'postgres', '--repo', `/${huge}`], /^dbdrill: repo is 5001 characters long; at most 4095 are allowed\.$/],
    [['target', 'add', 'r6', '--engine', 'postgres', '--repo', '../../../../../../../../etc/passwd'], /^dbdrill: The repository path \/etc\/passwd is a file, not a directory/],
    // host
    [add('h1', '--host', ''), /^dbdrill: --host is empty/],
    [add('h2', '--host', 'db1\nevil'), /^dbdrill: host contains a newline or another control character/],
    [add('h3', '--host', huge), /^dbdrill: host is 5000 characters long; at most 253 are allowed\.$/],
    [add('h4', '--host', '../../etc'), /^dbdrill: host "\.\.\/\.\.\/etc" is neither a host name nor a socket directory/],
    [add('h5', '--host', 'db1;rm -rf'), /^dbdrill: host "db1;rm -rf" contains spaces/],
    [add('h6', '--host', '-5'), /^dbdrill: host "-5" starts with "-", which no host name does/],
    // port
    [add('p1', '--port', ''), /^dbdrill: --port is empty/],
    [add('p2', '--port', '-5'), /^dbdrill: port "-5" is out of range/],
    [add('p3', '--port', '99999999999999999999'), /^dbdrill: port "99999999999999999999" is out of range/],
    [add('p4', '--port', 'abc'), /^dbdrill: port "abc" is out of range/],
    [add('p5', '--port', '5432\n'), /^dbdrill: port "5432\\n" is out of range/],
    // user, dbname
    [add('u1', '--user', 'a\nb'), /^dbdrill: user contains a newline/],
    [add('u2', '--user', huge), /^dbdrill: user is 5000 characters long/],
    [add('u3', '--user', '../../root'), /^dbdrill: user "\.\.\/\.\.\/root" contains "\/" or "\\"/],
    [add('d1', '--dbname', '../../etc'), /^dbdrill: dbname "\.\.\/\.\.\/etc" contains "\/" or "\\"/],
    [add('d2', '--dbname', 'a'.repeat(64)), /^dbdrill: dbname is 64 characters long; PostgreSQL database names have at most 63\.$/],
    // passwords
    [add('w1', '--password-env', 'PW', '--password-file', file), /^dbdrill: passwordEnv and passwordFile are both given; a target reads its password from one place, so keep only one of them\.$/],
    [add('w2', '--password-file', join(scratch, '..', 'no-such-pw-file')), /^dbdrill: The password file .*no-such-pw-file cannot be read \(it does not exist\)/],
    [add('w3', '--password-env', 'A\nB'), /^dbdrill: passwordEnv contains a newline/],
    [add('w4', '--password-file', scratch), /^dbdrill: The password file .* is not a regular file/],
    // objectives
    [add('o1', '--rto', '99999999999999999h'), /^dbdrill: rto "99999999999999999h" is longer than ten years/],
    [add('o2', '--rpo', '-5m'), /^dbdrill: rpo "-5m" must be longer than zero/],
    [add('o3', '--rpo', '0m'), /^dbdrill: rpo "0m" must be longer than zero/],
    [add('o4', '--rto', 'soon'), /^dbdrill: rto "soon" is not a duration/],
    [add('o5', '--rto', ''), /^dbdrill: --rto is empty/],
    // name, engine
    [['target', 'add', '../etc', '--engine', 'postgres', '--repo', '/srv/x'], /^dbdrill: name "\.\.\/etc" is not a valid target name/],
    [['target', 'add', huge, '--engine', 'postgres', '--repo', '/srv/x'], /^dbdrill: name is 5000 characters long/],
    [['target', 'add', 'e1', '--engine', '', '--repo', '/srv/x'], /^dbdrill: --engine is empty/],
  ] as [string[], RegExp][]).map(([args, pattern]) => [JSON.stringify(args).replace(/a{20,}/g, (a) => `a×${a.length}`), args, pattern] as const))('%s → exit 2, one sentence', async (_label, args, pattern) => {
    const r = await runCli(args as string[], { env });
    expect(r.code, r.stderr).toBe(2);
    oneSentence(r, pattern);
  });

  it('stores paths absolute, resolved where target add ran', async () => {
    const cwd = join(scratch, 'cwd');
    mkdirSync(join(cwd, 'pw'), { recursive: true });
    writeFileSync(join(cwd, 'pw', 'secret'), 'pw\n', { mode: 0o600 });
    const r = await runCli(['target', 'add', 'relative', '--engine', 'postgres', '--repo', 'relrepo', '--password-file', 'pw/secret'], { env, cwd });
    expect(r.code, r.stderr).toBe(0);
    const show = await runCli(['target', 'show', 'relative', '--json'], { env });
    expect(JSON.parse(show.stdout).target).toMatchObject({ repo: join(cwd, 'relrepo'), passwordFile: join(cwd, 'pw', 'secret') });
  });

  it('refuses a relative repository in a hand-edited config, naming the file and target', async () => {
    const dir = join(scratch, 'cfg-relative');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ version: 1, targets: { rel: { engine: 'postgres', repo: 'relrepo' } } }));
    const r = await runCli(['catalog', 'rel', '--config', dir]);
    expect(r.code).toBe(2);
    oneSentence(r, /^dbdrill: .*config\.json: target "rel": repo "relrepo" is a relative path/);
  });
});

describe('backup options that would be ignored', () => {
  beforeAll(async () => {
    // Port 1: nothing listens, and none of these may get as far as connecting.
    for (const [name, engine] of [['bk-pg', 'postgres'], ['bk-my', 'mysql']] as const) {
      const r = await runCli(['target', 'add', name, '--engine', engine, '--port', '1', '--dbname', 'x', '--repo', join(scratch, `repo-${name}`)], { env });
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it.concurrent.each([
    [['backup', 'bk-pg'], /^dbdrill: --kind is missing; choose --kind logical \(pg_dump, mariadb-dump\) or --kind physical \(pg_basebackup, mariadb-backup\); usage: dbdrill backup NAME/],
    [['backup', 'bk-pg', '--kind', 'logical', '--checkpoint', 'spread'], /^dbdrill: --checkpoint applies to physical backups/],
    [['backup', 'bk-pg', '--kind', 'physical', '--jobs', '2'], /^dbdrill: --jobs does not apply to a physical PostgreSQL backup: pg_basebackup copies over one connection/],
    [['backup', 'bk-my', '--kind', 'logical', '--jobs', '4'], /^dbdrill: --jobs does not apply to a MySQL\/MariaDB logical backup/],
    [['backup', 'bk-my', '--kind', 'physical', '--checkpoint', 'fast'], /^dbdrill: --checkpoint is for PostgreSQL \(pg_basebackup\)/],
  ])('%j is refused before anything runs', async (args, pattern) => {
    const r = await runCli(args, { env });
    expect(r.code).toBe(2);
    oneSentence(r, pattern);
  });
});

describe('a config directory or repository the file system refuses', () => {
  it('names a config directory that is a file', async () => {
    const file = join(scratch, 'config-is-a-file');
    writeFileSync(file, 'x');
    const r = await runCli(['target', 'list', '--config', file]);
    expect(r.code).toBe(2);
    oneSentence(r, `dbdrill: The config directory ${file} cannot be used: ${file} is a file, not a directory; move it away or give --config a directory of your own (or set DBDRILL_CONFIG_DIR).`);
    const below = await runCli(['target', 'list', '--config', join(file, 'sub')]);
    oneSentence(below, new RegExp(`^dbdrill: The config directory ${file}/sub cannot be used: ${file} is a file`));
  });

  it.runIf(isRoot)('says who cannot read or write the config, without "fix the JSON"', async () => {
    // Others may pass through the scratch directory, as through /etc or a home directory.
    chmodSync(scratch, 0o711);
    const dir = join(scratch, 'cfg-root-only');
    const add = await runCli(['target', 'add', 'x', '--engine', 'postgres', '--repo', '/srv/x', '--config', dir]);
    expect(add.code, add.stderr).toBe(0);
    chmodSync(dir, 0o755);
    const read = await runCli(['target', 'list', '--config', dir], { as: nobody });
    expect(read.code).toBe(2);
    oneSentence(read, `dbdrill: The config file ${dir}/config.json cannot be read by uid 65534 (permission denied); run dbdrill as the user who owns it, or give --config a directory of your own (or set DBDRILL_CONFIG_DIR).`);

    const shared = join(scratch, 'cfg-readable');
    mkdirSync(shared, { mode: 0o755 });
    writeFileSync(join(shared, 'config.json'), JSON.stringify({ version: 1, targets: {} }), { mode: 0o644 });
    const write = await runCli(['target', 'add', 'y', '--engine', 'postgres', '--repo', '/srv/y', '--config', shared], { as: nobody });
    expect(write.code).toBe(2);
    oneSentence(write, /^dbdrill: The config directory .*cfg-readable is not writable by uid 65534 \(permission denied\)/);
    expect(readFileSync(join(shared, 'config.json'), 'utf8')).toBe(JSON.stringify({ version: 1, targets: {} }));

    const parent = join(scratch, 'cfg-parent');
    mkdirSync(parent, { mode: 0o755 });
    const create = await runCli(['target', 'list', '--config', join(parent, 'new')], { as: nobody });
    oneSentence(create, /^dbdrill: The config directory .*cfg-parent\/new cannot be created or entered by uid 65534 \(permission denied\)/);
  });

  it('names a repository path that is a file in catalog, window, verify and health', async () => {
    const dir = join(scratch, 'cfg-file-repo');
    const file = join(scratch, 'repo-is-a-file');
    writeFileSync(file, 'x');
    mkdirSync(dir);
    // Hand-edited (target add refuses it): the file may also appear after the target was added.
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ version: 1, targets: { f: { engine: 'postgres', port: 1, repo: file } } }));
    const sentence = `dbdrill: The repository path ${file} is a file, not a directory; move the file away or give the target a directory for its repository.`;
    for (const cmd of ['catalog', 'window', 'verify']) {
      const r = await runCli([cmd, 'f', '--config', dir]);
      expect(r.code, cmd).toBe(2);
      oneSentence(r, sentence);
    }
    const health = await runCli(['health', 'f', '--json', '--config', dir]);
    expect(health.code).toBe(4);
    const checks = (JSON.parse(health.stdout) as { checks: { name: string; status: string; reason: string }[] }).checks;
    expect(checks.find((c) => c.name === 'repository')).toEqual({ name: 'repository', status: 'CRIT', reason: sentence.replace('dbdrill: ', '') });
  });
});
