import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sharedMariadb } from './helpers/sandbox.js';

/**
 * Files dbdrill reads back, hand-edited, cut short, replaced by a directory, foreign or newer: each
 * reader answers with one sentence naming the file and the field (exit 2), never an internal error.
 */

const DAMAGED = '; the file was edited or is damaged.';
const SHA = 'a'.repeat(64);

let cfg: ReturnType<typeof tempConfigDir>;
beforeAll(() => {
  cfg = tempConfigDir();
});
afterAll(() => cfg.cleanup());

const cli = (...args: string[]) => runCli([...args, '--config', cfg.dir]);

function manifest(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    formatVersion: 1,
    id,
    target: 'pgt',
    engine: 'postgres',
    kind: 'logical',
    type: 'full',
    status: 'complete',
    tool: { name: 'pg_dump', version: '15.8', argv: ['pg_dump', '-Fc'] },
    serverVersion: '15.8',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:05.000Z',
    sizeBytes: 3,
    files: [{ path: 'dump.pgdump', bytes: 3, sha256: SHA }],
    format: 'custom',
    database: 'app',
    tables: [{ table: 'public.t', rows: 1, digest: 'x' }],
    ...extra,
  };
}

describe('backup manifests', () => {
  const repo = () => join(cfg.dir, 'repo-pg');
  const file = (id: string) => join(repo(), 'backups', id, 'manifest.json');
  /** Writes backup `id` whose manifest.json holds `content` (a string is written as it is). */
  const put = (id: string, content: unknown) => {
    mkdirSync(join(repo(), 'backups', id), { recursive: true });
    writeFileSync(file(id), typeof content === 'string' ? content : JSON.stringify(content));
  };

  // Each broken manifest, by backup id, with the sentence the catalog must list it with.
  const broken: [string, unknown, string | RegExp][] = [];
  const add = (id: string, content: unknown, problem: string | RegExp) => broken.push([id, content, problem]);

  beforeAll(async () => {
    expect((await cli('target', 'add', 'pgt', '--engine', 'postgres', '--repo', repo())).code).toBe(0);
    add('20260101T000001Z-L', manifest('20260101T000001Z-L', { files: [{ path: 'dump.pgdump', bytes: 3, sha256: 'abc' }] }), `files[0].sha256 must be 64 hex digits${DAMAGED}`);
    add('20260101T000002Z-L', manifest('20260101T000002Z-L', { formatVersion: 2 }), 'formatVersion is 2, newer than this dbdrill reads (1); it was written by a newer dbdrill — upgrade to read it.');
    add('20260101T000003Z-L', manifest('20260101T000003Z-L', { startedAt: undefined }), `startedAt is missing${DAMAGED}`);
    add('20260101T000004Z-L', manifest('20260101T000004Z-L', { sizeBytes: '12' }), `sizeBytes must be a number, not "12"${DAMAGED}`);
    add('20260101T000005Z-L', JSON.stringify(manifest('20260101T000005Z-L')).slice(0, 80), /^is not valid JSON \(.+\); the file was edited or is damaged\.$/);
    add('20260101T000006Z-L', manifest('20260101T000001Z-L'), `id is "20260101T000001Z-L", but the manifest lies in backups/20260101T000006Z-L${DAMAGED}`);
    add('20260101T000007Z-L', manifest('20260101T000007Z-L', { files: [{ path: '../../../etc/passwd', bytes: 3, sha256: SHA }] }), `files[0].path must be a path inside its directory, not "../../../etc/passwd"${DAMAGED}`);
    add('20260101T000008Z-L', manifest('20260101T000008Z-L', { status: 'weird' }), `status must be one of running, complete, failed, corrupt, expiring, not "weird"${DAMAGED}`);
    add('20260101T000009Z-L', [manifest('20260101T000009Z-L')], `must hold a JSON object (a dbdrill backup manifest), not a list${DAMAGED}`);
    add('20260101T000010Z-L', '', `is empty${DAMAGED}`);
    add('20260101T000011Z-L', manifest('20260101T000011Z-L', { tables: [{ table: 'public.t', rows: -1 }] }), `tables[0].rows must be 0 or more, not -1${DAMAGED}`);
    for (const [id, content] of broken) put(id, content);
    // A directory where the manifest belongs.
    mkdirSync(file('20260101T000012Z-L'), { recursive: true });
    broken.push(['20260101T000012Z-L', null, 'is a directory where a file belongs; move it away.']);

    // Readable: a status added by another version, fields this version does not know.
    put('20260101T000020Z-L', manifest('20260101T000020Z-L', { status: 'corrupt', error: 'dump.pgdump: checksum differs' }));
    put('20260101T000021Z-L', manifest('20260101T000021Z-L', { copies: [{ name: 'offsite', at: '2026-01-02T00:00:00Z' }] }));
    // Left running by a dbdrill that is gone: the catalog marks it failed, keeping what it does not know.
    put('20260101T000022Z-L', manifest('20260101T000022Z-L', { status: 'running', finishedAt: undefined, owner: { pid: 4_194_000, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }, chain: { parent: 'x' } }));
  });

  it('catalog lists each damaged manifest as unreadable with the file and the field', async () => {
    const r = await cli('catalog', 'pgt', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/internal error|TypeError/);
    const cat = JSON.parse(r.stdout) as { backups: { id: string; status: string }[]; unreadable: { id: string; error: string }[] };
    const errors = new Map(cat.unreadable.map((u) => [u.id, u.error]));
    for (const [id, , problem] of broken) {
      const sentence = errors.get(id);
      expect(sentence, id).toBeDefined();
      expect(sentence!.startsWith(`${file(id)}: `), sentence).toBe(true);
      const rest = sentence!.slice(file(id).length + 2);
      if (typeof problem === 'string') expect(rest).toBe(problem);
      else expect(rest).toMatch(problem);
    }
    expect(cat.unreadable).toHaveLength(broken.length);
    expect(cat.backups.map((b) => [b.id, b.status])).toEqual([
      ['20260101T000022Z-L', 'failed'],
      ['20260101T000021Z-L', 'complete'],
      ['20260101T000020Z-L', 'corrupt'],
    ]);
    // The rewrite that marked it failed kept the field this version does not know.
    const rewritten = JSON.parse(readFileSync(file('20260101T000022Z-L'), 'utf8')) as Record<string, unknown>;
    expect(rewritten).toMatchObject({ status: 'failed', chain: { parent: 'x' } });
  });

  it('catalog in text names the unreadable backups on stderr', async () => {
    const r = await cli('catalog', 'pgt');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`WARN backup 20260101T000001Z-L: manifest unreadable (${file('20260101T000001Z-L')}: files[0].sha256 must be 64 hex digits${DAMAGED})`);
    expect(r.stdout).toContain('20260101T000021Z-L');
  });

  it('verify of a damaged backup refuses with the sentence before reading anything else', async () => {
    const r = await cli('verify', 'pgt', '--backup', '20260101T000004Z-L');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`dbdrill: ${file('20260101T000004Z-L')}: sizeBytes must be a number, not "12"${DAMAGED}`);
    const away = await cli('verify', 'pgt', '--backup', '../../../../etc');
    expect(away.code).toBe(2);
    expect(away.stderr.trim()).toBe('dbdrill: "../../../../etc" is not a backup id (they look like 20261124T143000Z-F); list them with dbdrill catalog.');
  });

  it('window leaves out a manifest whose WAL position is not an LSN instead of crashing', async () => {
    const pgRepo = join(cfg.dir, 'repo-pgw');
    expect((await cli('target', 'add', 'pgw', '--engine', 'postgres', '--repo', pgRepo)).code).toBe(0);
    const id = '20260101T000030Z-F';
    mkdirSync(join(pgRepo, 'backups', id), { recursive: true });
    writeFileSync(
      join(pgRepo, 'backups', id, 'manifest.json'),
      JSON.stringify(manifest(id, { target: 'pgw', kind: 'physical', format: 'tar', postgres: { timeline: 1, startLsn: 5, stopLsn: '0/3000100', walStart: '000000010000000000000003', walEnd: '000000010000000000000003' } })),
    );
    const r = await cli('window', 'pgw', '--json');
    expect(r.stderr).not.toMatch(/internal error|TypeError/);
    expect(r.code).toBe(0);
    const w = JSON.parse(r.stdout) as { ranges: { backup: string }[] };
    expect(w.ranges.map((x) => x.backup)).not.toContain(id);
  });
});

describe('the binlog index (window of a MySQL target)', () => {
  const repo = () => join(cfg.dir, 'repo-my');
  const index = () => join(repo(), 'binlog', 'index.json');
  beforeAll(async () => {
    expect((await cli('target', 'add', 'myt', '--engine', 'mysql', '--dbname', 'shop', '--repo', repo())).code).toBe(0);
    mkdirSync(join(repo(), 'binlog'), { recursive: true });
  });

  const good = { format: 'dbdrill-binlog-index', formatVersion: 1, files: [{ file: 'mysql-bin.000001', size: 400, sha256: SHA, transactions: 0 }] };
  it.each([
    ['a wrong type', { ...good, files: [{ ...good.files[0], size: 'big' }] }, `files[0].size must be a number, not "big"${DAMAGED}`],
    ['a missing field', { ...good, files: [{ file: 'mysql-bin.000001', size: 400 }] }, `files[0].transactions is missing${DAMAGED}`],
    ['a name outside the archive', { ...good, files: [{ ...good.files[0], file: '../mysql-bin.000001' }] }, `files[0].file must be a binlog file name like mysql-bin.000042${DAMAGED}`],
    ['a newer version', { ...good, formatVersion: 2 }, 'formatVersion is 2, newer than this dbdrill reads (1); it was written by a newer dbdrill — upgrade to read it.'],
    ['a foreign file', { files: [] }, 'is not a dbdrill binlog index (format is missing, expected "dbdrill-binlog-index"); it was written by something else, or edited.'],
    ['a cut-short file', JSON.stringify(good).slice(0, 30), /^is not valid JSON \(.+\); the file was edited or is damaged\.$/],
  ])('refuses %s with the file and the field', async (_what, content, problem) => {
    writeFileSync(index(), typeof content === 'string' ? content : JSON.stringify(content));
    const r = await cli('window', 'myt');
    expect(r.code).toBe(2);
    const line = r.stderr.trim();
    expect(line.startsWith(`dbdrill: ${index()}: `), line).toBe(true);
    if (typeof problem === 'string') expect(line.slice(`dbdrill: ${index()}: `.length)).toBe(problem);
    else expect(line.slice(`dbdrill: ${index()}: `.length)).toMatch(problem);
  });

  it('reads a good index and, when there is none, rebuilds from the files as before', async () => {
    writeFileSync(index(), JSON.stringify({ ...good, files: [] }));
    expect((await cli('window', 'myt')).code).toBe(0);
    rmSync(index());
    expect((await cli('window', 'myt')).code).toBe(0);
  });
});

describe('drill reports', () => {
  const repo = () => join(cfg.dir, 'repo-dr');
  const file = (id: string) => join(repo(), 'drills', `${id}.json`);
  const report = (id: string, extra: Record<string, unknown> = {}) => ({
    formatVersion: 1,
    id,
    target: 'drt',
    engine: 'postgres',
    status: 'passed',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    requested: 'latest',
    backup: '20260101T000000Z-F',
    kind: 'physical',
    steps: [
      { name: 'pick backup', status: 'done', seconds: 0.1 },
      { name: 'restore base', status: 'done', seconds: 20, bytes: 1000 },
    ],
    checks: [{ name: 'connect', ok: true, detail: 'accepts connections' }],
    rto: { seconds: 60, transferSeconds: 20, replaySeconds: 30, objectiveSeconds: 3600, ok: true },
    // NaN (nothing archived to measure against) is stored by JSON as null.
    rpo: { seconds: null, reference: 'now minus the newest archived segment' },
    ...extra,
  });
  const write = (id: string, content: unknown) => writeFileSync(file(id), typeof content === 'string' ? content : JSON.stringify(content));

  beforeAll(async () => {
    expect((await cli('target', 'add', 'drt', '--engine', 'postgres', '--repo', repo())).code).toBe(0);
    mkdirSync(join(repo(), 'drills'), { recursive: true });
    write('20260101T000000Z', report('20260101T000000Z'));
  });

  it('lists good reports, a NaN RPO included', async () => {
    const r = await cli('drills', 'drt', '--json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { drills: { id: string }[] }).drills.map((d) => d.id)).toEqual(['20260101T000000Z']);
    const md = await cli('drill-report', 'drt', '20260101T000000Z');
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('# Restore drill 20260101T000000Z — drt: PASSED');
  });

  it.each([
    ['a wrong step status', report('20260101T000100Z', { steps: [{ name: 'pick backup', status: 'done' }, { name: 'replay', status: 'ok' }] }), `steps[1].status must be one of pending, running, done, failed, skipped, not "ok"${DAMAGED}`],
    ['a newer version', report('20260101T000100Z', { formatVersion: 2 }), 'formatVersion is 2, newer than this dbdrill reads (1); it was written by a newer dbdrill — upgrade to read it.'],
    ['another drill\'s report', report('20260101T000000Z'), `id is "20260101T000000Z", but the file is named 20260101T000100Z.json${DAMAGED}`],
    ['a missing field', report('20260101T000100Z', { checks: undefined }), `checks is missing${DAMAGED}`],
    ['a cut-short file', JSON.stringify(report('20260101T000100Z')).slice(0, 50), /^is not valid JSON \(.+\); the file was edited or is damaged\.$/],
  ])('refuses %s in the history with the file and the field', async (_what, content, problem) => {
    write('20260101T000100Z', content);
    for (const args of [['drills', 'drt'], ['drill-report', 'drt']]) {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      const prefix = `dbdrill: ${file('20260101T000100Z')}: `;
      expect(r.stderr.trim().startsWith(prefix), r.stderr).toBe(true);
      const rest = r.stderr.trim().slice(prefix.length);
      if (typeof problem === 'string') expect(rest).toBe(problem);
      else expect(rest).toMatch(problem);
    }
  });

  it('refuses a directory in place of a report', async () => {
    rmSync(file('20260101T000100Z'), { force: true });
    mkdirSync(file('20260101T000100Z'));
    const r = await cli('drills', 'drt');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`dbdrill: ${file('20260101T000100Z')}: is a directory where a file belongs; move it away.`);
  });
});

describe('training sessions', () => {
  const file = () => join(cfg.dir, 'training', 'trs.json');
  const session = (extra: Record<string, unknown> = {}) => ({
    formatVersion: 1,
    target: 'trs',
    kind: 'drop-table',
    startedAt: '2026-01-01T00:00:00.000Z',
    lastGoodAt: '2026-01-01T00:00:05.000Z',
    disasterAt: '2026-01-01T00:00:07.000Z',
    what: 'DROP TABLE order_items',
    before: { table: 'public.order_items', rows: 4000, digest: 'd' },
    baseBackup: '20260101T000000Z-F',
    objectives: { rtoSeconds: 900, rpoSeconds: 60 },
    ...extra,
  });
  const write = (content: unknown) => writeFileSync(file(), typeof content === 'string' ? content : JSON.stringify(content));

  beforeAll(async () => {
    expect((await cli('target', 'add', 'trs', '--engine', 'postgres', '--repo', join(cfg.dir, 'repo-tr'))).code).toBe(0);
    mkdirSync(join(cfg.dir, 'training'), { recursive: true });
  });

  it('reads a good session and prints the guide', async () => {
    write(session());
    const r = await cli('train', 'trs', 'status');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('DROP TABLE order_items (at 00:00:07Z');
  });

  it.each([
    ['an unknown disaster', session({ kind: 'flood' }), `kind must be one of drop-table, delete-rows, break-archiving, not "flood"${DAMAGED}`],
    ['a wrong type', session({ objectives: { rtoSeconds: '15m', rpoSeconds: 60 } }), `objectives.rtoSeconds must be a number, not "15m"${DAMAGED}`],
    ['a time that is not one', session({ disasterAt: 'yesterday' }), `disasterAt must be an ISO 8601 time with a zone, not "yesterday"${DAMAGED}`],
    ['another target\'s session', session({ target: 'other' }), `target is "other", but the file is named trs.json${DAMAGED}`],
    ['an old version', session({ formatVersion: 0 }), `formatVersion must be 1, not 0${DAMAGED}`],
    ['a cut-short file', JSON.stringify(session()).slice(0, 40), /^is not valid JSON \(.+\); the file was edited or is damaged\.$/],
  ])('refuses %s with the file and the field', async (_what, content, problem) => {
    write(content);
    const r = await cli('train', 'trs', 'status');
    expect(r.code).toBe(2);
    const prefix = `dbdrill: ${file()}: `;
    expect(r.stderr.trim().startsWith(prefix), r.stderr).toBe(true);
    const rest = r.stderr.trim().slice(prefix.length);
    if (typeof problem === 'string') expect(rest).toBe(problem);
    else expect(rest).toMatch(problem);
  });
});

describe('the config file (target list)', () => {
  const other = () => join(cfg.dir, 'other-config');
  const write = (content: string) => {
    mkdirSync(other(), { recursive: true });
    writeFileSync(join(other(), 'config.json'), content);
  };
  const list = () => runCli(['target', 'list', '--config', other()]);
  const file = () => join(other(), 'config.json');

  it.each([
    ['a list', '[]', `must hold a JSON object (the dbdrill config), not a list${DAMAGED}`],
    ['a newer version', '{"version":2,"targets":{}}', 'version is 2, newer than this dbdrill reads (1); it was written by a newer dbdrill — upgrade to read it.'],
    ['targets that are not an object', '{"version":1,"targets":["prod"]}', `targets must be an object holding each target by name, not a list${DAMAGED}`],
    ['a target that is not an object', '{"version":1,"targets":{"prod":"db1:5432"}}', `targets.prod must be an object (the target's settings), not "db1:5432"${DAMAGED}`],
  ])('refuses %s and leaves the file as it was', async (_what, content, problem) => {
    write(content);
    const r = await list();
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`dbdrill: ${file()}: ${problem}`);
    // Not read as "no targets" and then written over by the defaults.
    expect(readFileSync(file(), 'utf8')).toBe(content);
  });

  it('refuses a directory in place of the config file', async () => {
    rmSync(other(), { recursive: true, force: true });
    mkdirSync(file(), { recursive: true });
    const r = await list();
    expect(r.code).toBe(2);
    // The config store's own sentence for its file (src/config/store.ts), which also says how to choose another.
    expect(r.stderr.trim()).toBe(`dbdrill: The config file ${file()} is a directory, not a file; move it away or give --config a directory of your own (or set DBDRILL_CONFIG_DIR).`);
  });
});

describe('repo.json', () => {
  it('a damaged or foreign repo.json stops binlog-sync against a real server before it writes', async () => {
    const my = sharedMariadb();
    const repo = join(cfg.dir, 'repo-rj');
    mkdirSync(repo, { recursive: true });
    const add = await runCli(
      ['target', 'add', 'rjt', '--engine', 'mysql', '--host', my.host, '--port', String(my.port), '--user', my.user, '--dbname', my.dbname, '--repo', repo, '--password-env', 'RJT_PW', '--config', cfg.dir],
    );
    expect(add.code).toBe(0);
    const sync = () => runCli(['binlog-sync', 'rjt', '--config', cfg.dir], { env: { RJT_PW: my.password } });
    const file = join(repo, 'repo.json');
    // The last line: the steps before it (connect) are progress.
    const sentence = (r: { stderr: string }) => r.stderr.trim().split('\n').at(-1);

    writeFileSync(file, JSON.stringify({ format: 'dbdrill-repo', formatVersion: 1, engine: 'mysql', target: 5, createdAt: '2026-01-01T00:00:00.000Z' }));
    let r = await sync();
    expect(r.code).toBe(2);
    expect(sentence(r)).toBe(`dbdrill: ${file}: target must be text, not 5${DAMAGED}`);

    writeFileSync(file, JSON.stringify({ name: 'my-app', version: '1.0.0' }));
    r = await sync();
    expect(r.code).toBe(2);
    expect(sentence(r)).toBe(
      `dbdrill: ${file}: is not a dbdrill repository file (format is missing, expected "dbdrill-repo"); the directory belongs to something else: give the target an empty directory or a dbdrill repository as its repo.`,
    );
    // Nothing was archived next to the foreign file.
    expect(readdirSync(repo)).toEqual(['repo.json']);
  });
});
