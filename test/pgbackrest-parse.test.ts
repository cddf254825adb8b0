import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveGetCommand, archivePushCommand, readPgbackrestInventory, storedSegment } from '../src/engines/postgres/pgbackrest/archive.js';
import { catalogRows, chainOf, consistentAtOf } from '../src/engines/postgres/pgbackrest/catalog.js';
import { childEnv } from '../src/engines/postgres/pgbackrest/command.js';
import { renderConf } from '../src/engines/postgres/pgbackrest/conf.js';
import { explainFailure, parseErrorText } from '../src/engines/postgres/pgbackrest/errors.js';
import { expireArgs, expiredSets } from '../src/engines/postgres/pgbackrest/expire.js';
import { currentArchiveId, parseInfo } from '../src/engines/postgres/pgbackrest/info.js';
import { pgbackrestLayout } from '../src/engines/postgres/pgbackrest/layout.js';
import { controlSystemId, firstSocketDir } from '../src/engines/postgres/pgbackrest/local-server.js';
import { CopyProgress, parseOutputLine, parseSize } from '../src/engines/postgres/pgbackrest/output.js';
import { recoveryTargetArgs, restoreArgs } from '../src/engines/postgres/pgbackrest/restore.js';
import { judgeVerify, parseVerifyProblem, parseVerifyReport } from '../src/engines/postgres/pgbackrest/verify.js';
import { isDbdrillError } from '../src/errors.js';
import type { WalInventory } from '../src/pitr/inventory.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/pgbackrest/${name}`, import.meta.url), 'utf8');
const lines = (name: string) => fixture(name).split('\n').filter(Boolean);
const layout = pgbackrestLayout('/srv/dbdrill/prod');
const pb = { tool: { name: 'pgbackrest', path: '/usr/bin/pgbackrest', version: '2.45', major: 2 }, stanza: 'exp', layout };
const FULL = '20261206-211137F';
const DIFF = '20261206-211137F_20261206-211153D';
const INCR = '20261206-211137F_20261206-211200I';

function thrown(fn: () => unknown): { code: string; message: string; exitCode: number } {
  try {
    fn();
  } catch (e) {
    if (isDbdrillError(e)) return { code: e.code, message: e.message, exitCode: e.exitCode };
    throw e;
  }
  throw new Error('did not throw');
}

describe('pgbackrest info --output=json (captured)', () => {
  const [info] = parseInfo(fixture('info-chain.json'));

  it('keeps the 64-bit system id exact, which JSON.parse alone would round', () => {
    expect(info!.db).toEqual([{ id: 1, systemId: '7716301645412738497', version: '15' }]);
    expect(String(JSON.parse('7716301645412738497'))).not.toBe('7716301645412738497');
    expect(currentArchiveId(info!)).toBe('15-1');
    expect(info!.archive).toEqual([{ id: '15-1', databaseId: 1, min: '000000010000000000000001', max: '00000001000000000000002B' }]);
  });

  it('reads each set: type, prior, references, sizes, LSNs and WAL', () => {
    expect(info!.backup.map((b) => [b.label, b.type, b.prior])).toEqual([
      [FULL, 'full', null],
      [DIFF, 'diff', FULL],
      [INCR, 'incr', DIFF],
      ['20261206-211232F', 'full', null],
      ['20261206-211232F_20261206-211614I', 'incr', '20261206-211232F'],
    ]);
    expect(info!.backup[2]).toMatchObject({
      reference: [FULL, DIFF],
      timestamp: { start: 1796591520, stop: 1796591525 },
      archive: { start: '000000010000000000000008', stop: '000000010000000000000008' },
      lsn: { start: '0/8000028', stop: '0/8000100' },
      info: { size: 36886270, delta: 13877514, repository: { size: 8060189, delta: 5236187 } },
      error: false,
      backrestVersion: '2.45',
    });
  });

  it('maps sets onto catalog rows, newest first, with the chain a restore reads', () => {
    const rows = catalogRows(info!, 'prod');
    expect(rows.map((r) => r.id)).toEqual(['20261206-211232F_20261206-211614I', '20261206-211232F', INCR, DIFF, FULL]);
    const incr = rows.find((r) => r.id === INCR)!;
    expect(incr).toMatchObject({
      target: 'prod', engine: 'postgres', kind: 'physical', type: 'incr', status: 'complete', method: 'pgbackrest',
      prior: DIFF, reference: [FULL, DIFF], sizeBytes: 36886270, serverVersion: '15', format: 'pgbackrest',
      startedAt: '2026-12-06T21:12:00.000Z', finishedAt: '2026-12-06T21:12:05.000Z',
      tool: { name: 'pgbackrest', version: '2.45' },
      postgres: {
        systemId: '7716301645412738497', startLsn: '0/8000028', stopLsn: '0/8000100', timeline: 1,
        walStart: '000000010000000000000008', walEnd: '000000010000000000000008',
        consistentAt: '2026-12-06T21:12:06.000Z',
      },
      pgbackrest: { delta: 13877514, repoSize: 8060189, repoDelta: 5236187, archiveId: '15-1', pageChecksumError: false },
    });
    expect(rows.find((r) => r.id === FULL)!.prior).toBeUndefined();
    expect(chainOf(rows, INCR).map((r) => r.id)).toEqual([FULL, DIFF, INCR]);
  });

  it('takes the earliest restorable moment as the second after the stop time, which pgBackRest cuts to whole seconds', () => {
    expect(consistentAtOf(info!.backup[0]!)).toBe('2026-12-06T21:11:45.000Z');
  });
});

describe('pgbackrest backup/restore output (captured)', () => {
  it('reads a full backup: phases in order, start and stop points, the new label and the total', () => {
    const parsed = lines('backup-full-detail.txt').map(parseOutputLine);
    expect(parsed.flatMap((p) => (p.kind === 'phase' ? [p.phase] : []))).toEqual(['checkpoint', 'copying', 'stopping', 'archive-wait']);
    expect(parsed.find((p) => p.kind === 'start')).toEqual({ kind: 'start', segment: '000000010000000000000004', lsn: '0/4000028', timeline: 1 });
    expect(parsed.find((p) => p.kind === 'stop')).toEqual({ kind: 'stop', segment: '000000010000000000000004', lsn: '0/4000138' });
    expect(parsed.find((p) => p.kind === 'label')).toEqual({ kind: 'label', label: FULL });
    expect(parsed.find((p) => p.kind === 'done')).toEqual({ kind: 'done', what: 'full', bytes: Math.round(35 * 1024 * 1024), files: 968 });
    expect(parsed.find((p) => p.kind === 'file')).toEqual({ kind: 'file', action: 'backup', path: '/tmp/pgbr-exp/data/base/5/1255', bytes: 768 * 1024, percent: 2.14 });
  });

  it('reads an incr: the prior set and only the changed files', () => {
    const parsed = lines('backup-incr-detail.txt').map(parseOutputLine);
    expect(parsed.find((p) => p.kind === 'prior')).toEqual({ kind: 'prior', label: DIFF });
    expect(parsed.filter((p) => p.kind === 'file').map((p) => p.kind === 'file' && p.percent)).toEqual([0.05, 0.11, 0.11, 100]);
    expect(parsed.find((p) => p.kind === 'label')).toEqual({ kind: 'label', label: INCR });
  });

  it('reads a restore: per-file progress and the restored size', () => {
    const parsed = lines('restore-detail.txt').map(parseOutputLine);
    expect(parsed.filter((p) => p.kind === 'file')[0]).toEqual({ kind: 'file', action: 'restore', path: '/tmp/pgbr-exp/r3/base/5/1255', bytes: 768 * 1024, percent: 2.13 });
    expect(parsed.find((p) => p.kind === 'done')).toMatchObject({ what: 'restore', files: 968 });
  });

  it('notices pgBackRest taking a full instead of an incr', () => {
    expect(parseOutputLine('2026-12-06 21:12:00.936 P00   WARN: no prior backup exists, incr backup has been changed to full')).toEqual({
      kind: 'changed-to-full', asked: 'incr', why: 'no prior backup exists',
    });
  });

  it('turns per-file lines into bytes done and an estimated total, rate and ETA', () => {
    expect(parseSize('13.2MB')).toBe(Math.round(13.2 * 1024 * 1024));
    expect(parseSize('8B')).toBe(8);
    const p = new CopyProgress();
    expect(p.update({ bytes: 1000, percent: 10 }, 0)).toEqual({ done: 1000, total: 10000 });
    const second = p.update({ bytes: 1000, percent: 20 }, 1000);
    expect(second).toMatchObject({ done: 2000, total: 10000, rate: 1000 });
    expect(second.etaSeconds).toBeCloseTo(8);
  });
});

describe('pgbackrest verify (captured)', () => {
  const [info] = parseInfo(fixture('info-chain.json'));
  const rows = catalogRows(info!, 'exp');
  const inventory = (missing: number[] = []): WalInventory => ({
    timelines: new Map([[1, Array.from({ length: 0x2b }, (_, i) => i + 1).filter((n) => !missing.includes(n))]]),
    histories: [],
    newestArchivedAt: new Map([[1, 0]]),
  });

  it('reads a healthy report as ok with nothing to name', () => {
    const report = parseVerifyReport(fixture('verify-ok.stdout'));
    expect(report.status).toBe('ok');
    expect(report.archives).toEqual([{ archiveId: '15-1', checked: 43, valid: 43, missing: 0, checksumInvalid: 0, sizeInvalid: 0, other: 0 }]);
    expect(report.backups).toHaveLength(5);
    const problems = lines('verify-ok.stderr').map(parseVerifyProblem).filter((p) => p !== undefined);
    expect(problems).toEqual([]);
    expect(judgeVerify(report, problems, rows, inventory())).toMatchObject({ ok: true, findings: [] });
  });

  it('names every damaged file, the sets depending on them and the missing segment pgBackRest does not see (it exits 0)', () => {
    const report = parseVerifyReport(fixture('verify-corrupt.stdout'));
    expect(report.status).toBe('error');
    expect(report.backups.find((b) => b.label === FULL)).toMatchObject({ status: 'invalid', checksumInvalid: 1, checked: 968, valid: 967 });
    const problems = lines('verify-corrupt.stderr').map(parseVerifyProblem).filter((p) => p !== undefined);
    expect(problems).toEqual([
      { kind: 'other', path: '15-1/0000000100000000/000000010000000000000008-056dfc36147b0cb22fad0ca2ec266e0a0e5d3023.zst', segment: '000000010000000000000008', detail: '[29] raised from local-1 protocol: zst error: [-20] Data corruption detected' },
      { kind: 'checksum', path: `${FULL}/pg_data/base/5/1249.zst`, backup: FULL },
      { kind: 'checksum', path: `${DIFF}/pg_data/base/5/16384.zst`, backup: DIFF },
    ]);
    const v = judgeVerify(report, problems, rows, inventory([0x0c]));
    expect(v.ok).toBe(false);
    expect(v.damaged.get(FULL)).toBe('pg_data/base/5/1249 does not match its checksum');
    expect(v.damaged.get(DIFF)).toBe('pg_data/base/5/16384 does not match its checksum');
    // pgBackRest calls the incr valid; it reads the full's damaged file on restore.
    expect(report.backups.find((b) => b.label === INCR)!.status).toBe('valid');
    expect(v.damaged.get(INCR)).toBe(`it references backup ${FULL}, which is damaged`);
    // Its WAL (segment 8) is damaged too; the full's damage is named first.
    expect(v.damaged.has('20261206-211232F')).toBe(false);
    expect(v.findings).toContain('WAL segment 000000010000000000000008 in the archive cannot be read (\\[29\\] raised from local-1 protocol: zst error: [-20] Data corruption detected).'.replace(/\\/g, ''));
    expect(v.findings).toContain('The archive lacks WAL 00000001000000000000000C…00000001000000000000000C (1 segment); no restore replays past it.');
  });

  it('marks a set whose own WAL up to its stop point is missing', () => {
    const report = parseVerifyReport(fixture('verify-ok.stdout'));
    const v = judgeVerify(report, [], rows, inventory([0x1a]));
    expect(v.damaged.get('20261206-211232F')).toBe('WAL segment 00000001000000000000001A, which it needs to become consistent, is not in the archive');
    // The incr on it replays from its own start and is not affected.
    expect(v.damaged.has('20261206-211232F_20261206-211614I')).toBe(false);
  });

  it('fails a report it cannot read rather than passing it', () => {
    const v = judgeVerify(parseVerifyReport(''), [], rows, inventory());
    expect(v).toMatchObject({ ok: false, findings: ['pgBackRest verify reported status "unknown" without naming a damaged file.'] });
  });

  it('reads missing and wrong-size files', () => {
    const problems = lines('verify-missing.stderr').map(parseVerifyProblem).filter((p) => p !== undefined);
    expect(problems.map((p) => [p.kind, p.backup, p.path])).toEqual([
      ['missing', '20261206-211232F', '20261206-211232F/pg_data/base/5/1249.zst'],
      ['checksum', '20261206-211232F', '20261206-211232F/pg_data/base/5/1259.zst'],
    ]);
  });
});

describe('pgBackRest errors as one sentence (captured stderr)', () => {
  const ctx = { stanza: 'exp', layout };
  const lockDir = mkdtempSync(join(tmpdir(), 'dbdrill-pgbr-lock-'));
  afterAll(() => rmSync(lockDir, { recursive: true, force: true }));

  it('names the process holding the lock', () => {
    const file = join(lockDir, 'exp-backup.lock');
    writeFileSync(file, JSON.stringify({ execId: '1-abc', pid: process.pid }));
    const stderr = lines('error-lock.stderr').map((l) => l.replace('/tmp/pgbr-exp/state/lock/exp-backup.lock', file));
    const e = explainFailure(ctx, 'backup', stderr, 50)!;
    expect(e.code).toBe('failed');
    expect(e.message).toMatch(new RegExp(`^pgBackRest backup of stanza "exp" did not start: process ${process.pid} \\(.*node.*\\) holds its backup lock \\(${file}\\); wait for it to finish, or stop it, and run this again\\.$`));
  });

  it('names both system ids when the stanza belongs to another cluster', () => {
    const e = explainFailure(ctx, 'backup', lines('error-backup-other-system.stderr'), 51)!;
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(
      'The pgBackRest stanza "exp" in /srv/dbdrill/prod/pgbackrest belongs to another cluster (system id 7716301645412738497), not to this target\'s server (system id 7716302982654773773); give the target a repository of its own, or remove that stanza if its cluster is gone.',
    );
  });

  it('says the stanza must be created first', () => {
    expect(explainFailure(ctx, 'backup', lines('error-no-stanza.stderr'), 55)!.message).toBe(
      'The pgBackRest stanza "exp" does not exist in /srv/dbdrill/prod/pgbackrest yet; create it (stanza-create) before pgBackRest backup.',
    );
  });

  it('gives libpq\'s reason when pgBackRest cannot connect', () => {
    const e = explainFailure(ctx, 'check', lines('error-connect.stderr'), 27)!;
    expect(e.code).toBe('auth-failed');
    expect(e.message).toBe('pgBackRest could not connect to the PostgreSQL server of stanza "exp" through its Unix socket: role "nosuchuser" does not exist; check the target\'s user and password.');
  });

  it('names the damaged file a restore stopped at', () => {
    const e = explainFailure(ctx, 'restore', lines('error-restore-corrupt.stderr'), 26)!;
    expect(e.message).toBe(
      "pgBackRest stopped the restore: the repository's copy of /tmp/pgbr-exp/r4/base/5/1249 does not match its checksum (expected 2f69c99beeb8ee15d1ccbe00288d507e1b2c5998, read a80f82537f6cf888db8f1f8d04c65371430d18d8), so the repository is damaged; run verify and restore from another backup.",
    );
  });

  it('keeps the HINT of an error it has no sentence for', () => {
    expect(parseErrorText(lines('error-stanza-create-other-system.stderr'))).toMatchObject({ code: 28, hints: ['is this the correct stanza?', 'did an error occur during stanza-upgrade?'] });
    expect(explainFailure(ctx, 'stanza-create', lines('error-stanza-create-other-system.stderr'), 28)!.message).toBe(
      'pgbackrest stanza-create failed with error 28: backup and archive info files exist but do not match the database (is this the correct stanza).',
    );
  });
});

describe('the generated configuration and command lines', () => {
  const settings = {
    stanza: 'prod', layout,
    pg: { dataDir: '/var/lib/postgresql/15/main', port: 5432, socketDir: '/var/run/postgresql', user: 'backup', database: 'app' },
    processMax: 2, checkpoint: 'fast' as const,
  };

  it('writes one stanza per target with everything under the repository and no secret', () => {
    const conf = renderConf({ ...settings, cipher: true });
    expect(conf.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      '[global]',
      'repo1-path=/srv/dbdrill/prod/pgbackrest',
      'repo1-retention-full=9999999',
      'repo1-cipher-type=aes-256-cbc',
      'compress-type=zst',
      'process-max=2',
      'archive-async=y',
      'spool-path=/srv/dbdrill/prod/pgbackrest-state/spool',
      'log-path=/srv/dbdrill/prod/pgbackrest-state/log',
      'lock-path=/srv/dbdrill/prod/pgbackrest-state/lock',
      'start-fast=y',
      '[global:archive-push]',
      'compress-level=1',
      '[prod]',
      'pg1-path=/var/lib/postgresql/15/main',
      'pg1-port=5432',
      'pg1-socket-path=/var/run/postgresql',
      'pg1-user=backup',
      'pg1-database=app',
    ]);
    expect(conf).not.toContain('cipher-pass');
    expect(renderConf({ ...settings, checkpoint: 'spread' })).toContain('\nstart-fast=n\n');
  });

  it('refuses a value pgBackRest would cut at a line break or trim', () => {
    expect(thrown(() => renderConf({ ...settings, pg: { ...settings.pg, user: 'a\nrepo1-path=/tmp' } })).message).toBe('The pgBackRest setting pg1-user cannot span lines ("a⏎repo1-path=/tmp").');
    expect(thrown(() => renderConf({ ...settings, processMax: 0 })).exitCode).toBe(2);
  });

  it('hands the cipher pass over in the environment and drops inherited PGBACKREST_ variables', () => {
    expect(childEnv({ cipherPass: 's3cret' }, { PGBACKREST_REPO1_PATH: '/elsewhere', HOME: '/root' })).toEqual({
      PGBACKREST_REPO1_PATH: undefined, PGBACKREST_REPO1_CIPHER_PASS: 's3cret', LC_ALL: 'C', TZ: 'UTC',
    });
  });

  it('builds archive_command and a plain archive-get restore_command', () => {
    expect(archivePushCommand(pb)).toBe(
      '/usr/bin/pgbackrest --config=/srv/dbdrill/prod/pgbackrest-state/pgbackrest.conf --config-include-path=/srv/dbdrill/prod/pgbackrest-state/conf.d --stanza=exp archive-push %p',
    );
    expect(archiveGetCommand(pb, '/srv/restore/a b')).toBe(
      '/usr/bin/pgbackrest --config=/srv/dbdrill/prod/pgbackrest-state/pgbackrest.conf --config-include-path=/srv/dbdrill/prod/pgbackrest-state/conf.d --stanza=exp --pg1-path="/srv/restore/a b" --no-archive-async archive-get %f "%p"',
    );
    expect(thrown(() => archiveGetCommand(pb, "/srv/it's")).message).toContain('choose a directory without it');
  });

  it('turns each restore target into pgBackRest options, promote and timeline included', () => {
    const at = new Date('2026-12-06T21:11:59.612Z');
    expect(recoveryTargetArgs({ kind: 'time', at, input: '', usec: 612345 }, { timeline: 1 })).toEqual(['--type=time', '--target=2026-12-06 21:11:59.612345+00', '--target-action=promote', '--target-timeline=1']);
    expect(recoveryTargetArgs({ kind: 'time', at, input: '', usec: 612000 }, { exclusive: true })).toContain('--target-exclusive');
    expect(recoveryTargetArgs({ kind: 'latest' })).toEqual(['--type=default']);
    expect(recoveryTargetArgs({ kind: 'lsn', lsn: '0/3000028' })).toEqual(['--type=lsn', '--target=0/3000028', '--target-action=promote']);
    expect(recoveryTargetArgs({ kind: 'xid', xid: '7734' })).toEqual(['--type=xid', '--target=7734', '--target-action=promote']);
    expect(recoveryTargetArgs({ kind: 'name', name: 'before_migration' })).toEqual(['--type=name', '--target=before_migration', '--target-action=promote']);
    expect(recoveryTargetArgs({ kind: 'immediate' })).toEqual(['--type=immediate', '--target-action=promote']);
    expect(thrown(() => recoveryTargetArgs({ kind: 'gtid', gtid: '0-1-2' })).exitCode).toBe(2);
    const args = restoreArgs(pb, { set: INCR, target: { kind: 'latest' }, dataDir: '/srv/restore/x', port: 5499 });
    expect(args.slice(0, 2)).toEqual([`--set=${INCR}`, '--pg1-path=/srv/restore/x']);
    expect(args).toContain('--archive-mode=off');
    expect(args.find((a) => a.startsWith('--recovery-option='))).toBe(`--recovery-option=restore_command=${archiveGetCommand(pb, '/srv/restore/x')}`);
  });

  it('passes retention counts to expire and refuses an empty or out-of-range one', () => {
    expect(expireArgs({ full: 2, archive: 1, archiveType: 'full' })).toEqual(['--repo1-retention-full=2', '--repo1-retention-archive=1', '--repo1-retention-archive-type=full']);
    expect(expireArgs({ set: INCR })).toEqual([`--set=${INCR}`]);
    expect(thrown(() => expireArgs({})).exitCode).toBe(2);
    expect(thrown(() => expireArgs({ full: 0 })).message).toBe('Retention full 0 is out of range; keep at least 1 (at most 9999999).');
  });

  it('reads the socket directory and the system id pgBackRest needs', () => {
    expect(firstSocketDir('@abstract, "/var/run/postgresql", /tmp')).toBe('/var/run/postgresql');
    expect(firstSocketDir('')).toBeUndefined();
    const control = Buffer.alloc(16);
    control.writeBigUInt64LE(7716301645412738497n, 0);
    expect(controlSystemId(control)).toBe('7716301645412738497');
  });
});

describe('the pgBackRest archive as a WAL inventory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbdrill-pgbr-inv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts segments per timeline by name, not .backup files, history files apart', () => {
    const sha = 'a'.repeat(40);
    mkdirSync(join(dir, '0000000100000000'));
    mkdirSync(join(dir, '0000000200000000'));
    for (const f of [`000000010000000000000004-${sha}.zst`, '000000010000000000000004.00000028.backup', `000000010000000000000005-${sha}.zst`, `000000010000000000000007-${sha}.zst`]) {
      writeFileSync(join(dir, '0000000100000000', f), '');
    }
    writeFileSync(join(dir, '0000000200000000', `000000020000000000000007-${sha}.zst`), '');
    writeFileSync(join(dir, '00000002.history'), '1\t0/7000000\tno recovery target specified\n');
    const inv = readPgbackrestInventory(dir);
    expect([...inv.timelines.entries()]).toEqual([[1, [4, 5, 7]], [2, [7]]]);
    expect(inv.histories).toEqual([2]);
    expect(storedSegment(`000000010000000000000004-${sha}`)).toBe('000000010000000000000004');
    expect(storedSegment('000000010000000000000004.00000028.backup')).toBeUndefined();
  });
});

describe('expired sets from expire output', () => {
  it('reads the sets pgBackRest 2.45 and later name, with and without "set:", dry run or not', () => {
    expect(expiredSets([
      'P00   INFO: [DRY-RUN] repo1: expire full backup set 20251217-095505F, 20251217-095505F_20251217-095807I',
      'P00   INFO: [DRY-RUN] repo1: remove expired backup 20251217-095505F_20251217-095807I',
      '2023-02-09 18:44:07.822 P00   INFO: repo1: expire full backup 20230209-183850F',
      'P00   INFO: expire full backup set: 20180506-151611F, 20180506-151611F_20180506-151616D',
      'P00   INFO: repo1: 15-1 remove archive, start = 000000070000000000000008',
    ])).toEqual(['20251217-095505F', '20251217-095505F_20251217-095807I', '20230209-183850F', '20180506-151611F', '20180506-151611F_20180506-151616D']);
  });
});
