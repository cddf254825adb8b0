import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStartToken } from '../src/runner/process.js';
import { TargetStore } from '../src/config/store.js';
import type { DrillReport } from '../src/drill/report.js';
import { ArchivedPostgres, PitrRestores } from './helpers/archived-pg.js';
import { CLI, runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';
import { TestSshd } from './helpers/sshd.js';
import { filesUnder } from './helpers/files.js';

/**
 * Issue 17, stage 1: copies of a repository on other media (a second directory, and SFTP through
 * rclone on a real sshd of the test's own), restore from a copy alone with the primary gone,
 * resumable copies, corruption named, and copies encrypted with age.
 */
const cfg = tempConfigDir();
let db: ArchivedPostgres;
let sshd: TestSshd;
let env: Record<string, string>;
let restores: PitrRestores;
const dirs: string[] = [];
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra }, timeoutMs: 180_000 });

/** A fresh directory for a copy (outside the primary repository). */
function copyDir(tag: string): string {
  const d = join(sandboxRunDir(), `copies-${tag}-${process.pid}`);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true, mode: 0o700 });
  dirs.push(d);
  return d;
}

const MARKER = `copies-marker-${process.pid}-7f3a9c`;
let markedAt = '';
let sftpRoot = '';
let keysDir = '';

beforeAll(async () => {
  db = await ArchivedPostgres.start('copies');
  sshd = await TestSshd.start();
  env = { DBDRILL_CONFIG_DIR: cfg.dir, COPIES_PW: db.server.password };
  restores = new PitrRestores((a) => cli(a), 'copies-restored');
  const add = await cli(['target', 'add', 'cp', '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', 'COPIES_PW']);
  expect(add.code, add.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await restores?.stopAll();
  await sshd?.stop();
  if (db && !existsSync(db.repo) && existsSync(`${db.repo}.gone`)) renameSync(`${db.repo}.gone`, db.repo);
  await db?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  cfg.cleanup();
});

describe('copies: configuration', { timeout: 400_000 }, () => {
  it('refuses hostile COPY names and dests with one sentence, exit 2', async () => {
    const nas = copyDir('refuse');
    const cases: [string[], RegExp][] = [
      [['cp', '../evil', '--dest', nas], /copy name "\.\.\/evil" is not usable/],
      [['cp', 'local', '--dest', nas], /not "local"/],
      [['cp', 'a;rm -rf', '--dest', nas], /is not usable/],
      [['cp', 'nas', '--dest', 'relative/dir'], /neither an absolute directory nor an rclone remote/],
      [['cp', 'nas', '--dest', join(db.repo, 'sub')], /inside the primary repository/],
      [['cp', 'nas', '--dest', '/'], /root directory/],
      [['cp', 'nas', '--dest', `${nas}/../../x/..`], /contains the primary repository/],
      [['cp', 'nas', '--dest', join(nas, 'does-not-exist')], /does not exist/],
      [['cp', 'nas', '--dest', 'nosuch:path', '--rclone-config', sshd.rcloneConfig('other')], /remote "nosuch" is not configured/],
      [['cp', 'nas', '--dest', 'x:path', '--rclone-config', join(nas, 'missing.conf')], /rclone config .* cannot be read/],
      [['cp', 'nas', '--dest', nas, '--rclone-config', '/etc/hostname'], /only used with an rclone remote/],
      [['cp', 'nas', '--dest', `${nas}\nx`], /control character/],
    ];
    for (const [args, sentence] of cases) {
      const r = await cli(['target', 'copy-add', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(sentence);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // A dest that is a symlink into the repository is the repository.
    const link = join(nas, 'link');
    execFileSync('ln', ['-s', db.repo, link]);
    const viaLink = await cli(['target', 'copy-add', 'cp', 'nas', '--dest', link]);
    expect(viaLink.code).toBe(2);
    expect(viaLink.stderr).toMatch(/through a link/);
    // Nothing was stored.
    const show = await cli(['target', 'show', 'cp', '--json']);
    expect((JSON.parse(show.stdout) as { target: { copies?: unknown[] } }).target.copies).toBeUndefined();
  });

  it('refuses a recipient that is not an age public key, and never echoes a private key', async () => {
    const bad = await cli(['target', 'edit', 'cp', '--encrypt-to', 'ssh-ed25519 AAAA']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not an age public key/);
    const secret = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ';
    const priv = await cli(['target', 'edit', 'cp', '--encrypt-to', secret]);
    expect(priv.code).toBe(2);
    expect(priv.stderr).toMatch(/private key/);
    expect(priv.stderr).not.toContain(secret);
  });
});

describe('copies: send, verify, restore with the primary gone', { timeout: 400_000 }, () => {
  it('sends backups and WAL to a directory and to SFTP, verified; catalog and target show say where', async () => {
    const backup = await cli(['backup', 'cp', '--kind', 'physical', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    const logical = await cli(['backup', 'cp', '--kind', 'logical', '--json']);
    expect(logical.code, logical.stderr).toBe(0);
    await db.sql('CREATE TABLE marks (n int PRIMARY KEY, note text)');
    await db.sql(`INSERT INTO marks VALUES (1, '${MARKER}')`);
    await new Promise((r) => setTimeout(r, 300));
    markedAt = await db.now();
    await new Promise((r) => setTimeout(r, 300));
    await db.sql(`INSERT INTO marks VALUES (2, 'after the mark')`);
    await db.switchAndArchive();

    const nas = copyDir('nas');
    sftpRoot = copyDir('sftp-remote');
    expect((await cli(['target', 'copy-add', 'cp', 'nas', '--dest', nas])).code).toBe(0);
    const conf = sshd.rcloneConfig('offsite');
    const add = await cli(['target', 'copy-add', 'cp', 'offsite', '--dest', `offsite:${sftpRoot}/cp`, '--offsite', '--rclone-config', conf]);
    expect(add.code, add.stderr).toBe(0);

    const r = await cli(['copy', 'cp', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { ok: boolean; copies: { copy: string; files: number; sent: number; verified: number; verifiedBy: string; failed: unknown[] }[] };
    expect(rep.ok).toBe(true);
    const [c1, c2] = rep.copies;
    expect(c1).toMatchObject({ copy: 'nas', verifiedBy: 'read back', failed: [] });
    expect(c1!.sent).toBe(c1!.files);
    expect(c1!.verified).toBe(c1!.files);
    // rclone 1.60's sftp backend has no sha256: the files are read back through rclone instead.
    expect(c2).toMatchObject({ copy: 'offsite', verifiedBy: 'download', failed: [] });
    expect(c2!.verified).toBe(c2!.files);
    // The copies hold exactly the primary's bytes.
    const tar = filesUnder(join(db.repo, 'backups')).find((f) => f.endsWith('base.tar') || f.endsWith('.tar'))!;
    const rel = tar.slice(db.repo.length + 1);
    expect(readFileSync(join(nas, rel)).equals(readFileSync(tar))).toBe(true);
    expect(readFileSync(join(sftpRoot, 'cp', rel)).equals(readFileSync(tar))).toBe(true);

    // Only what is missing: a second run sends no backup file again.
    const again = await cli(['copy', 'cp', '--to', 'nas', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const a = JSON.parse(again.stdout) as { copies: { sent: number; sentBytes: number }[] };
    expect(a.copies[0]!.sentBytes).toBeLessThan(statSync(tar).size);

    const cat = await cli(['catalog', 'cp', '--json']);
    const backups = (JSON.parse(cat.stdout) as { backups: { id: string; held: { where: string; state: string }[] }[] }).backups;
    expect(backups[1]!.held.map((h) => `${h.where}:${h.state}`)).toEqual(['local:ok', 'nas:ok', 'offsite:ok']);
    expect(backups[0]!.held.map((h) => `${h.where}:${h.state}`)).toEqual(['local:ok', 'nas:ok', 'offsite:ok']);
    const text = await cli(['catalog', 'cp']);
    expect(text.stdout).toContain('local ✓ nas ✓ offsite ✓');
    const show = await cli(['target', 'show', 'cp', '--json']);
    const view = (JSON.parse(show.stdout) as { copies: { rule321: { copies: number; media: number; offsite: boolean; ok: boolean } } }).copies;
    expect(view.rule321).toMatchObject({ copies: 3, offsite: true, ok: true });
    expect((await cli(['target', 'show', 'cp'])).stdout).toMatch(/3-2-1 .*held 3x/);

    // Health watches 3-2-1 for a target with copies. Here the repository shares the test server's
    // filesystem, so only the copies survive that disk: WARN naming them, not CRIT.
    const h = await cli(['health', 'cp', '--json']);
    const rule = (JSON.parse(h.stdout) as { checks: { name: string; status: string; reason: string }[] }).checks.find((c) => c.name === '3-2-1');
    expect(rule, h.stdout).toMatchObject({ status: 'WARN' });
    expect(rule!.reason).toMatch(/is on the same filesystem as the server's data \(.+\); only the copies nas, offsite survive that disk \(newest backup \S+ held 3x/);
  });

  it('restores to a point in time from each copy alone, with the primary repository gone', async () => {
    renameSync(db.repo, `${db.repo}.gone`);
    try {
      for (const copy of ['nas', 'offsite']) {
        const r = await restores.restore('cp', ['--from', copy, '--to', markedAt]);
        expect(r.code, `${copy}: ${r.stderr}`).toBe(0);
        expect(r.stderr).toMatch(new RegExp(`fetched copy ${copy}`));
        const marks = await db.sql<{ n: number; note: string }>('SELECT n, note FROM marks ORDER BY n', r.port);
        expect(marks).toEqual([{ n: 1, note: MARKER }]);
        const items = await db.sql<{ count: string }>('SELECT count(*) FROM order_items', r.port);
        expect(Number(items[0]!.count)).toBe(4000);
        await restores.stop(r.report!.pid);
      }
      // A logical backup from the copy, into a new database on the source server.
      const l = await cli(['restore', 'cp', '--from', 'nas', '--dbname', 'shop_from_copy', '--json']);
      expect(l.code, l.stderr).toBe(0);
      expect((JSON.parse(l.stdout) as { from: { copy: string } }).from.copy).toBe('nas');
      const items = await db.sql<{ count: string }>('SELECT count(*) FROM order_items', db.server.port, 'shop_from_copy');
      expect(Number(items[0]!.count)).toBe(4000);

      // The drill whose scenario is "the primary repository is lost": it reads the copy alone,
      // its fetch is a timed step counted in the RTO's transfer, and its checks run on what the
      // copy restored (the marker row, and not the row written after the mark).
      const store = new TargetStore(cfg.dir);
      const t = store.get('cp');
      store.update('cp', {
        ...t,
        checks: [
          { name: 'marker row restored', sql: `SELECT count(*) FROM marks WHERE note = '${MARKER}'`, expect: '= 1' },
          { name: 'nothing after the mark', sql: 'SELECT count(*) FROM marks', expect: '= 1' },
        ],
      });
      const d = await cli(['drill', 'cp', '--from', 'nas', '--to', markedAt, '--json']);
      expect(d.code, d.stderr).toBe(0);
      const rep = JSON.parse(d.stdout) as DrillReport;
      expect(rep.status).toBe('passed');
      expect(rep.from).toMatchObject({ copy: 'nas' });
      expect(rep.from!.files).toBeGreaterThan(0);
      const fetchStep = rep.steps.find((s) => s.name === 'fetch copy')!;
      expect(fetchStep).toMatchObject({ status: 'done' });
      expect(rep.steps[0]!.name).toBe('fetch copy');
      expect(rep.rto!.transferSeconds).toBeGreaterThanOrEqual(fetchStep.seconds!);
      expect(rep.rto!.seconds).toBeGreaterThan(fetchStep.seconds!);
      expect(rep.checks.filter((c) => c.name === 'marker row restored' || c.name === 'nothing after the mark').map((c) => [c.name, c.ok]))
        .toEqual([['marker row restored', true], ['nothing after the mark', true]]);
      // The report stays in the target's own repository (made again for it), not in the temp copy.
      const history = await cli(['drill-report', 'cp', rep.id]);
      expect(history.stdout).toContain('read from copy **nas** alone');

      // verify --from: the copy checked as the primary would be, with the primary still gone.
      const v = await cli(['verify', 'cp', '--from', 'nas', '--json']);
      expect(v.code, v.stderr).toBe(0);
      const vr = JSON.parse(v.stdout) as { ok: boolean; backups: { id: string; ok: boolean }[] };
      expect(vr.ok).toBe(true);
      expect(vr.backups.length).toBe(2);
    } finally {
      rmSync(db.repo, { recursive: true, force: true });
      renameSync(`${db.repo}.gone`, db.repo);
    }
  });

  it('names a corrupt file in a copy, refuses to restore from it, and the next copy repairs it', async () => {
    const nas = dirs.find((d) => d.includes('copies-nas-'))!;
    const tar = filesUnder(join(nas, 'backups')).find((f) => f.endsWith('.tar'))!;
    const bytes = readFileSync(tar);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(tar, bytes);
    const rel = tar.slice(nas.length + 1);

    const v = await cli(['copy', 'cp', '--verify', '--to', 'nas']);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(rel);
    expect(v.stdout).toMatch(/corrupt on the copy/);
    const r = await restores.restore('cp', ['--from', 'nas', '--to', markedAt]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(rel);
    expect(r.stderr).toMatch(/cannot be restored from/);
    // verify --from names the same file and fails, as a verify of the primary would.
    const vf = await cli(['verify', 'cp', '--from', 'nas']);
    expect(vf.code).toBe(1);
    expect(vf.stderr).toContain(rel);
    expect(existsSync(join(r.into, 'PG_VERSION'))).toBe(false);

    const cat = await cli(['catalog', 'cp']);
    expect(cat.stdout).toMatch(/nas failed/);
    const fix = await cli(['copy', 'cp', '--to', 'nas', '--json']);
    expect(fix.code, fix.stderr).toBe(0);
    expect((await cli(['copy', 'cp', '--verify', '--to', 'nas'])).code).toBe(0);
  });

  it('a copy killed mid-way (kill -9) completes on the next run', async () => {
    const dir = copyDir('killed');
    expect((await cli(['target', 'copy-add', 'cp', 'killed', '--dest', dir])).code).toBe(0);
    const child = spawn(process.execPath, [CLI, 'copy', 'cp', '--to', 'killed'], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !existsSync(join(dir, 'backups')) && !existsSync(join(dir, 'wal'))) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // What the killed run got to record (the index is rewritten every 2 s and at the end).
    const indexFile = join(dir, 'dbdrill-copy.json');
    const before = existsSync(indexFile) ? Object.keys((JSON.parse(readFileSync(indexFile, 'utf8')) as { files: object }).files).length : 0;

    // A live run holds the copy: a second is refused. The killed run's lock (its pid gone) is taken over.
    const lock = join(db.repo, 'copies', 'killed.lock');
    writeFileSync(lock, `${process.pid} ${processStartToken(process.pid)}\n`);
    const busy = await cli(['copy', 'cp', '--to', 'killed']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/Another dbdrill copy to killed is running \(pid \d+\)/);
    writeFileSync(lock, `${child.pid} ${processStartToken(process.pid)}\n`);

    const r = await cli(['copy', 'cp', '--to', 'killed', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
    const rep = (JSON.parse(r.stdout) as { copies: { files: number; sent: number }[] }).copies[0]!;
    // It died before it finished, and the second run sent exactly what the first had not recorded.
    expect(before).toBeLessThan(rep.files);
    expect(rep.sent).toBe(rep.files - before);
    expect(filesUnder(dir).filter((f) => f.endsWith('.copy-tmp'))).toEqual([]);
    const v = await cli(['copy', 'cp', '--verify', '--to', 'killed', '--json']);
    expect(v.code, v.stdout).toBe(0);
    expect((await cli(['target', 'copy-remove', 'cp', 'killed'])).code).toBe(0);
  });

  it('an unreachable remote or a missing dest is one sentence, exit 1; one failing copy does not stop the next', async () => {
    await sshd.stop();
    const one = await cli(['copy', 'cp', '--to', 'offsite']);
    expect(one.code).toBe(1);
    expect(one.stderr.trim().split('\n').at(-1)).toMatch(/^dbdrill: rclone cat on offsite:.* failed: /);
    const from = await restores.restore('cp', ['--from', 'offsite', '--to', markedAt]);
    expect(from.code).toBe(1);
    expect(from.stderr).toMatch(/rclone copy on offsite:.* failed/);
    const nas = dirs.find((d) => d.includes('copies-nas-'))!;
    renameSync(nas, `${nas}.unmounted`);
    try {
      const all = await cli(['copy', 'cp', '--json']);
      expect(all.code).toBe(1);
      const rep = JSON.parse(all.stdout) as { copies: { copy: string; failed: { why: string }[] }[] };
      expect(rep.copies.find((c) => c.copy === 'nas')!.failed[0]!.why).toMatch(/does not exist \(a disk that is not mounted\?\)/);
      expect(rep.copies.find((c) => c.copy === 'offsite')!.failed[0]!.why).toMatch(/rclone/);
      expect(existsSync(nas)).toBe(false);
    } finally {
      renameSync(`${nas}.unmounted`, nas);
    }
  });

  it('the policy sends each backup it takes to every copy; a copy that fails is recorded, the backup stands', async () => {
    // sshd is stopped by the previous test: offsite fails, nas works.
    expect((await cli(['policy', 'set', 'cp', '--full', '* * * * *'])).code).toBe(0);
    try {
      const t = await cli(['tick', '--wait', '--json']);
      // The backup is taken, but a copy failed: cron hears of it.
      expect(t.code, t.stderr).toBe(1);
      const runs = (JSON.parse(t.stdout) as { targets: { runs?: { job: string; status: string; result?: { backup?: string; copies?: { copy: string; ok: boolean; sent: number; error?: string }[] } }[] }[] }).targets[0]!.runs!;
      expect(runs.map((r) => [r.job, r.status])).toEqual([['full', 'ok']]);
      const { backup, copies } = runs[0]!.result!;
      expect(copies!.map((c) => [c.copy, c.ok])).toEqual([['nas', true], ['offsite', false]]);
      expect(copies![0]!.sent).toBeGreaterThan(0);
      expect(copies![1]!.error).toMatch(/rclone/);
      // The new backup is held on nas, verified; not on offsite.
      const cat = await cli(['catalog', 'cp', '--json']);
      const held = (JSON.parse(cat.stdout) as { backups: { id: string; held: { where: string; state: string }[] }[] }).backups.find((b) => b.id === backup)!.held;
      expect(held.map((h) => `${h.where}:${h.state}`)).toEqual(['local:ok', 'nas:ok', 'offsite:missing']);
    } finally {
      expect((await cli(['policy', 'set', 'cp', '--full', 'off'])).code).toBe(0);
    }
  });
});

describe('copies: encrypted with age', { timeout: 400_000 }, () => {
  it('stores no plaintext, restores with the identity, refuses without it or with another key', async () => {
    const keys = copyDir('keys');
    keysDir = keys;
    execFileSync('age-keygen', ['-o', join(keys, 'id.txt')], { stdio: 'ignore' });
    execFileSync('age-keygen', ['-o', join(keys, 'other.txt')], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', join(keys, 'id.txt')]).toString().trim();
    const dir = copyDir('sealed');
    expect((await cli(['target', 'copy-add', 'cp', 'sealed', '--dest', dir])).code).toBe(0);
    const edit = await cli(['target', 'edit', 'cp', '--encrypt-to', recipient]);
    expect(edit.code, edit.stderr).toBe(0);
    const r = await cli(['copy', 'cp', '--to', 'sealed', '--json']);
    expect(r.code, r.stderr).toBe(0);

    // The marker row is in the primary's files (so this check can fail) and in none of the copy's.
    const hasMarker = (f: string) => readFileSync(f).includes(Buffer.from(MARKER));
    expect(filesUnder(db.repo).some(hasMarker)).toBe(true);
    const sealed = filesUnder(dir);
    expect(sealed.filter((f) => !f.endsWith('dbdrill-copy.json')).every((f) => f.endsWith('.age'))).toBe(true);
    expect(sealed.filter(hasMarker)).toEqual([]);

    const index = JSON.parse(readFileSync(join(dir, 'dbdrill-copy.json'), 'utf8')) as { encryption: { recipients: string[] } };
    expect(index.encryption.recipients).toEqual([recipient]);
    expect(readFileSync(join(dir, 'dbdrill-copy.json'), 'utf8')).not.toContain('AGE-SECRET-KEY');

    const none = await restores.restore('cp', ['--from', 'sealed', '--to', markedAt]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/encrypted with age; give --identity FILE/);
    const wrong = await restores.restore('cp', ['--from', 'sealed', '--to', markedAt, '--identity', join(keys, 'other.txt')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/could not be decrypted: the identity .* is not one of the keys/);
    expect(wrong.stderr).not.toContain('AGE-SECRET-KEY');

    const ok = await restores.restore('cp', ['--from', 'sealed', '--to', markedAt, '--identity', join(keys, 'id.txt')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await db.sql('SELECT n, note FROM marks ORDER BY n', ok.port)).toEqual([{ n: 1, note: MARKER }]);
    await restores.stop(ok.report!.pid);

    const v = await cli(['copy', 'cp', '--verify', '--to', 'sealed', '--identity', join(keys, 'id.txt'), '--json']);
    expect(v.code, v.stdout).toBe(0);
    expect((JSON.parse(v.stdout) as { copies: { decrypted: boolean }[] }).copies[0]!.decrypted).toBe(true);

    // Through rclone (a `local` remote, which hashes sha256 itself): ciphertext staged, sent, hashed remotely.
    const remoteDir = copyDir('sealed-remote');
    const conf = join(keys, 'rclone.conf');
    writeFileSync(conf, '[vault]\ntype = local\n', { mode: 0o600 });
    expect((await cli(['target', 'copy-add', 'cp', 'vault', '--dest', `vault:${remoteDir}`, '--rclone-config', conf])).code).toBe(0);
    const viaRclone = await cli(['copy', 'cp', '--to', 'vault', '--json']);
    expect(viaRclone.code, viaRclone.stderr).toBe(0);
    const vr = (JSON.parse(viaRclone.stdout) as { copies: { verifiedBy: string; verified: number; files: number }[] }).copies[0]!;
    expect(vr.verifiedBy).toBe('remote hash');
    expect(vr.verified).toBe(vr.files);
    expect(filesUnder(remoteDir).filter(hasMarker)).toEqual([]);
    const vv = await cli(['copy', 'cp', '--verify', '--to', 'vault', '--identity', join(keys, 'id.txt'), '--json']);
    expect(vv.code, vv.stdout).toBe(0);
    // No staging left behind, no plaintext anywhere under the temp directory we used.
    expect(readdirSync(join(db.repo, 'copies')).filter((n) => !n.endsWith('.json'))).toEqual([]);
  });
});

describe('copies: retention follows prune', { timeout: 400_000 }, () => {
  it('a copy drops what prune removed from the primary, and only that; it still restores', async () => {
    // The encrypted copies of the test before: a local directory, and an rclone remote (drops by rclone delete).
    const sealed = dirs.find((d) => d.includes('copies-sealed-'))!;
    const vault = dirs.find((d) => d.includes('copies-sealed-remote-'))!;
    const indexOf = (dir: string) => (JSON.parse(readFileSync(join(dir, 'dbdrill-copy.json'), 'utf8')) as { files: Record<string, { stored: string }> }).files;
    const physical = () => indexOf(sealed);
    const before = Object.keys(physical());
    const cat = JSON.parse((await cli(['catalog', 'cp', '--json'])).stdout) as { backups: { id: string; kind: string }[] };
    const fulls = cat.backups.filter((b) => b.kind === 'physical').map((b) => b.id).sort();
    expect(fulls.length).toBeGreaterThanOrEqual(2);
    const oldest = fulls[0]!;
    expect(before.some((rel) => rel.startsWith(`backups/${oldest}/`))).toBe(true);

    expect((await cli(['policy', 'set', 'cp', '--keep-full', '1'])).code).toBe(0);
    const pr = await cli(['prune', 'cp', '--json']);
    expect(pr.code, pr.stderr).toBe(0);
    const removed = (JSON.parse(pr.stdout) as { removed: { backups: string[]; archiveFiles: number } }).removed;
    expect(removed.backups).toContain(oldest);
    expect(removed.archiveFiles).toBeGreaterThan(0);

    // A file that merely vanished from the primary (not pruned) stays on the copy: it may be the last one.
    const walFiles = filesUnder(join(db.repo, 'wal')).filter((f) => /\/[0-9A-F]{24}(\.[a-z]+)*$/.test(f));
    const lost = walFiles.at(-1)!;
    const lostRel = lost.slice(db.repo.length + 1);
    const away = `${db.repo}-lost-segment`;
    renameSync(lost, away);
    try {
      for (const copy of ['sealed', 'vault']) {
        const r = await cli(['copy', 'cp', '--to', copy, '--json']);
        expect(r.code, r.stderr).toBe(0);
        const rep = (JSON.parse(r.stdout) as { copies: { dropped: number }[] }).copies[0]!;
        expect(rep.dropped, copy).toBeGreaterThan(0);
      }
    } finally {
      renameSync(away, lost);
    }
    const after = physical();
    expect(Object.keys(after).some((rel) => rel.startsWith(`backups/${oldest}/`))).toBe(false);
    expect(existsSync(join(sealed, 'backups', oldest))).toBe(false);
    expect(after[lostRel], 'a file gone from the primary without prune stays on the copy').toBeDefined();
    expect(existsSync(join(sealed, after[lostRel]!.stored))).toBe(true);
    // The remote copy: its index and its files.
    const remote = indexOf(vault);
    expect(Object.keys(remote).some((rel) => rel.startsWith(`backups/${oldest}/`))).toBe(false);
    expect(filesUnder(vault).some((f) => f.includes(`/backups/${oldest}/`))).toBe(false);
    expect(remote[lostRel]).toBeDefined();
    // Every file the primary's archive lost to prune is gone from the copy too; none of the kept.
    const keptWal = new Set(filesUnder(join(db.repo, 'wal')).map((f) => f.slice(db.repo.length + 1)));
    const copyWal = Object.keys(after).filter((rel) => rel.startsWith('wal/') && !rel.startsWith('wal/spool/'));
    expect(copyWal.filter((rel) => !keptWal.has(rel))).toEqual([]);
    expect([...keptWal].filter((rel) => !rel.includes('/spool/') && after[rel] === undefined)).toEqual([]);

    // The pruned copy restores what the primary's new window holds, exactly.
    const latest = await restores.restore('cp', ['--from', 'vault', '--to', 'latest', '--identity', join(keysDir, 'id.txt')]);
    expect(latest.code, latest.stderr).toBe(0);
    const marks = await db.sql<{ n: number }>('SELECT n FROM marks ORDER BY n', latest.port);
    expect(marks.map((m) => m.n)).toEqual([1, 2]);
    await restores.stop(latest.report!.pid);
    expect((await cli(['policy', 'set', 'cp', '--keep-full', 'off'])).code).toBe(0);
  });
});
