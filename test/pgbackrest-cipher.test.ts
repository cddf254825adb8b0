import { chownSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { serverAccount } from '../src/sandbox/users.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { PgbackrestPostgres, RestoredServers } from './helpers/pgbackrest-pg.js';
import { sandboxRunDir } from './helpers/sandbox.js';

/**
 * pgBackRest's own repository cipher (issue 17) on a real PostgreSQL 15 and pgBackRest 2.45:
 * `--cipher-pass-file` makes the repository aes-256-cbc, the pass reaches pgBackRest (dbdrill's
 * commands and the server's archive_command) only through PGBACKREST_REPO1_CIPHER_PASS, a marker
 * value is in no file of the repository, a restore gives exact rows, and a wrong pass is one sentence.
 */
const NAME = 'pgx';
const PASS = 'correct-horse-battery-staple-7d1f';
const MARKER = 'dbdrill-marker-3f9c2a71e8';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

describe('pgBackRest repository cipher (real PostgreSQL 15, pgBackRest 2.45)', () => {
  let server: SandboxInstance;
  let db: PgbackrestPostgres;
  let repo: string;
  let passFile: string;
  const cfg = tempConfigDir();
  const restores = new RestoredServers(NAME);
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra }, timeoutMs: 240_000 });
  let mark: Date;

  beforeAll(async () => {
    repo = join(sandboxRunDir(), `${NAME}-repo-${process.pid}`);
    passFile = join(sandboxRunDir(), `${NAME}-cipher-${process.pid}.pass`);
    writeFileSync(passFile, `${PASS}\n`, { mode: 0o600 });
    // archive_command runs as the server's account, and reads the pass file there.
    const account = serverAccount('postgres');
    if (account) chownSync(passFile, account.uid, account.gid);
    server = await startPostgresSandbox({ sampleData: false, archive: { command: '/bin/true' } });
    db = new PgbackrestPostgres(server, { name: NAME, engine: 'postgres', host: server.host, port: server.port, user: server.user, dbname: server.dbname, repo, password: server.password });
    env = { DBDRILL_CONFIG_DIR: cfg.dir, PGX_PW: server.password };
    await db.sql('CREATE TABLE secrets (k text, n int)');
  }, 120_000);

  afterAll(async () => {
    await restores.stopAll();
    await db?.stop();
    rmSync(passFile, { force: true });
    cfg.cleanup();
  }, 120_000);

  const add = (...extra: string[]) =>
    cli(['target', 'add', NAME, '--engine', 'postgres', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', server.dbname, '--repo', repo, '--password-env', 'PGX_PW', ...extra]);

  it('refuses a cipher source without the method, both sources at once, a relative file, a bad name, an unset variable', async () => {
    const cases: [string[], string, Record<string, string>?][] = [
      [['--cipher-pass-file', passFile], 'dbdrill: cipherPassFile is a setting of the pgbackrest method; add --method pgbackrest or drop --cipher-pass-file.'],
      [['--method', 'pgbackrest', '--cipher-pass-file', passFile, '--cipher-pass-env', 'X'], 'dbdrill: cipherPassFile and cipherPassEnv are both given; the cipher pass comes from one of them, so drop one.'],
      [['--method', 'pgbackrest', '--cipher-pass-file', 'pass.txt'], 'dbdrill: cipherPassFile must be an absolute path of letters, digits and _ . / @ + , : - only, naming the file that holds the pass (never the pass itself).'],
      [['--method', 'pgbackrest', '--cipher-pass-env', 'NOT-A-NAME'], 'dbdrill: cipherPassEnv is not an environment variable name; use letters, digits and _ (like PGBR_CIPHER), never the pass itself.'],
      [['--method', 'pgbackrest', '--cipher-pass-env', 'PGX_UNSET_CIPHER'], `dbdrill: Target "${NAME}" encrypts its pgBackRest repository with the pass in $PGX_UNSET_CIPHER, which is not set; export PGX_UNSET_CIPHER before running dbdrill.`],
    ];
    for (const [args, sentence] of cases) {
      const r = await add(...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(sentence);
    }
    expect(JSON.parse((await cli(['target', 'list', '--json'])).stdout)).toEqual({ targets: [] });
  }, 120_000);

  it('target add --cipher-pass-file encrypts the repository; the pass is in no conf, setting, show output or log', async () => {
    const r = await add('--method', 'pgbackrest', '--cipher-pass-file', passFile);
    expect(r.code, r.stderr).toBe(0);
    const conf = readFileSync(join(repo, 'pgbackrest-state', 'pgbackrest.conf'), 'utf8');
    expect(conf).toContain('repo1-cipher-type=aes-256-cbc\n');
    expect(conf).not.toContain(PASS);
    const a = await cli(['archiving', 'enable', NAME, '--apply', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const command = (await db.sql<{ c: string }>(`SELECT current_setting('archive_command') AS c`))[0]!.c;
    expect(command).toBe(`PGBACKREST_REPO1_CIPHER_PASS="$(head -n 1 ${passFile})" ${(JSON.parse(a.stdout) as { archiveCommand: string }).archiveCommand.replace(/^PGBACKREST_REPO1_CIPHER_PASS="\$\(head -n 1 \S+\)" /, '')}`);
    expect(command).not.toContain(PASS);
    const show = await cli(['target', 'show', NAME]);
    expect(show.stdout).toMatch(new RegExp(`^cipher\\s+aes-256-cbc, pass in file ${passFile}$`, 'm'));
    expect(show.stdout + show.stderr).not.toContain(PASS);
  }, 180_000);

  it('no file of the repository holds a marker value; a restore gives exact rows', async () => {
    await db.sql(`INSERT INTO secrets SELECT '${MARKER}-' || g, g FROM generate_series(1, 2000) g`);
    const b = await cli(['backup', NAME, '--kind', 'physical']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout + b.stderr).not.toContain(PASS);
    // A set is restorable from the second after its stop (pgBackRest records whole seconds).
    await sleep(1100);
    await db.sql(`INSERT INTO secrets SELECT '${MARKER}-late-' || g, g FROM generate_series(1, 500) g`);
    await sleep(50);
    mark = await db.now();
    await sleep(50);
    await db.sql(`INSERT INTO secrets VALUES ('after the mark', 0)`);
    await db.sql('CHECKPOINT');
    await db.sql('SELECT pg_switch_wal()');
    for (let i = 0; i < 100; i++) {
      const w = JSON.parse((await cli(['window', NAME, '--json'])).stdout) as { to?: string };
      if (w.to && new Date(w.to).getTime() > mark.getTime()) break;
      await sleep(300);
    }

    // The grep can find the marker: the server's own files hold it in plain text.
    const marker = Buffer.from(MARKER);
    const plain = filesUnder(join(server.dataDir, 'base')).filter((f) => readFileSync(f).includes(marker));
    expect(plain.length).toBeGreaterThan(0);
    const files = filesUnder(repo);
    expect(files.filter((f) => f.includes(`${NAME}/`) && /\.zst$/.test(f)).length).toBeGreaterThan(10);
    const leaking = files.filter((f) => {
      const data = readFileSync(f);
      return data.includes(marker) || data.includes(Buffer.from(PASS));
    });
    expect(leaking).toEqual([]);

    const into = restores.dir();
    const port = await freePort();
    const r = await cli(['restore', NAME, '--to', mark.toISOString(), '--into', into, '--port', String(port), '--json']);
    expect(r.code, r.stderr).toBe(0);
    restores.track((JSON.parse(r.stdout) as { pid: number }).pid);
    const got = await db.sql<{ all: string; late: string; after: string }>(
      `SELECT count(*) AS all, count(*) FILTER (WHERE k LIKE '${MARKER}-late-%') AS late, count(*) FILTER (WHERE k = 'after the mark') AS after FROM secrets`, port);
    expect(got[0]).toEqual({ all: '2500', late: '500', after: '0' });
    expect(statSync(into).isDirectory()).toBe(true);
  }, 300_000);

  it('a wrong pass fails in one sentence', async () => {
    writeFileSync(passFile, 'not-the-pass\n');
    try {
      for (const args of [['catalog', NAME], ['backup', NAME, '--kind', 'physical']]) {
        const r = await cli(args);
        expect(r.code, r.stdout).not.toBe(0);
        const last = r.stderr.trim().split('\n').at(-1)!;
        expect(last).toBe(`dbdrill: pgBackRest cannot decrypt the repository of stanza "${NAME}" in ${join(repo, 'pgbackrest')}: the target's cipher pass is not the one the repository was encrypted with; give the target the right pass (its cipher pass file or variable).`);
        expect(r.stderr).not.toContain('not-the-pass');
      }
    } finally {
      writeFileSync(passFile, `${PASS}\n`);
    }
  }, 180_000);
});
