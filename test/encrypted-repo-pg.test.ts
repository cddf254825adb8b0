import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchivedPostgres, PitrRestores } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';
import { filesUnder, flipByte, sentences } from './helpers/files.js';

/**
 * Issue 17: the primary repository encrypted with age (target --encrypt-to). pg_basebackup and
 * pg_dump stream through age, wal-push encrypts each segment; no marker row value is found in any
 * file under the repository; point-in-time restore with the identity is exact, without it or with
 * another key it fails in one sentence naming the backup; verify without a key still finds a
 * flipped byte; no key material ever appears on a process's argv.
 */
const cfg = tempConfigDir();
let db: ArchivedPostgres;
let restores: PitrRestores;
let env: Record<string, string>;
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra }, timeoutMs: 240_000 });
const keys = join(sandboxRunDir(), `enc-keys-${process.pid}`);
const MARKER = `sealed-marker-${process.pid}-4e1b7d`;
let recipient = '';
let markedAt = '';
let physicalId = '';
let logicalId = '';

const hasMarker = (f: string) => readFileSync(f).includes(Buffer.from(MARKER));

beforeAll(async () => {
  rmSync(keys, { recursive: true, force: true });
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  execFileSync('age-keygen', ['-o', join(keys, 'id.txt')], { stdio: 'ignore' });
  execFileSync('age-keygen', ['-o', join(keys, 'other.txt')], { stdio: 'ignore' });
  recipient = execFileSync('age-keygen', ['-y', join(keys, 'id.txt')]).toString().trim();
  db = await ArchivedPostgres.start('enc');
  env = { DBDRILL_CONFIG_DIR: cfg.dir, ENC_PW: db.server.password };
  restores = new PitrRestores((a) => cli(a), 'enc-restored');
}, 120_000);

afterAll(async () => {
  await restores?.stopAll();
  await db?.stop();
  rmSync(keys, { recursive: true, force: true });
  cfg.cleanup();
});

describe('encrypted repository (PostgreSQL)', { timeout: 600_000 }, () => {
  it('target add refuses anything but an age public key in one sentence', async () => {
    const base = ['target', 'add', 'enc', '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', 'ENC_PW'];
    const secret = readFileSync(join(keys, 'id.txt'), 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY'))!;
    for (const [bad, sentence] of [
      ['ssh-ed25519 AAAA', /--encrypt-to "ssh-ed25519 AAAA" is not an age public key/],
      [secret, /is a private key/],
    ] as const) {
      const r = await cli([...base, '--encrypt-to', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(sentence);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toContain('AGE-SECRET-KEY-1');
    }
    const ok = await cli([...base, '--encrypt-to', recipient]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/encrypted with age to 1 recipient/);
    // wal-push (as the server's user) reads the public keys from the repository.
    expect(JSON.parse(readFileSync(join(db.repo, 'encryption.json'), 'utf8'))).toEqual({ with: 'age', recipients: [recipient] });
  });

  it('backs up and archives with no plaintext in any file under the repository', async () => {
    await db.sql('CREATE TABLE marks (n int PRIMARY KEY, note text)');
    await db.sql(`INSERT INTO marks VALUES (1, '${MARKER}')`);
    const phys = await cli(['backup', 'enc', '--kind', 'physical', '--json']);
    expect(phys.code, phys.stderr).toBe(0);
    physicalId = (JSON.parse(phys.stdout) as { backup: { id: string } }).backup.id;
    const logical = await cli(['backup', 'enc', '--kind', 'logical', '--json']);
    expect(logical.code, logical.stderr).toBe(0);
    logicalId = (JSON.parse(logical.stdout) as { backup: { id: string } }).backup.id;
    await new Promise((r) => setTimeout(r, 300));
    markedAt = await db.now();
    await new Promise((r) => setTimeout(r, 300));
    await db.sql(`INSERT INTO marks VALUES (2, 'after the mark')`);
    await db.switchAndArchive().catch((e: unknown) => {
      // wal-push's own sentence (archive_command) says why, e.g. the recipients could not be read.
      throw new Error(`${(e as Error).message}\n${readFileSync(db.server.logFile, 'utf8').split('\n').filter((l) => /dbdrill/i.test(l)).slice(-4).join('\n')}`);
    });

    // The marker is in the server's own WAL in plain (so the grep below can find it)...
    const live = filesUnder(join(db.server.dataDir, 'pg_wal')).filter((f) => /\/[0-9A-F]{24}$/.test(f));
    expect(live.some(hasMarker)).toBe(true);
    // ...and in no file of the repository: backups and archived WAL.
    const files = filesUnder(db.repo);
    expect(files.some((f) => f.includes(`/backups/${physicalId}/base/base.tar`))).toBe(true);
    expect(files.some((f) => f.endsWith('.dbw'))).toBe(true);
    expect(files.filter(hasMarker)).toEqual([]);

    // The manifests keep both the stored (ciphertext) sums and the plain ones.
    const m = JSON.parse(readFileSync(join(db.repo, 'backups', physicalId, 'manifest.json'), 'utf8')) as { encryption: { recipients: string[] }; files: { path: string; sha256: string; plain?: { sha256: string } }[] };
    expect(m.encryption.recipients).toEqual([recipient]);
    expect(m.files.map((f) => f.path)).toEqual(['base/base.tar']);
    expect(m.files[0]!.plain!.sha256).not.toBe(m.files[0]!.sha256);
    expect(readFileSync(join(db.repo, 'backups', physicalId, 'base', 'base.tar')).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    const seg = files.find((f) => /\/[0-9A-F]{24}\.dbw$/.test(f))!;
    expect(readFileSync(seg).subarray(0, 512).toString()).toMatch(/"encoding":\["age"\]/);
  });

  it('restore without the identity, or with another key, fails in one sentence naming the backup', async () => {
    const none = await restores.restore('enc', ['--to', markedAt]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/The repository .* is encrypted with age; give --identity FILE/);
    expect(sentences(none.stderr)).toHaveLength(1);
    expect(existsSync(join(none.into, 'PG_VERSION'))).toBe(false);

    const wrong = await restores.restore('enc', ['--to', markedAt, '--identity', join(keys, 'other.txt')]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(new RegExp(`Backup ${physicalId} could not be decrypted: the identity .*other.txt is not one of the keys`));
    expect(sentences(wrong.stderr)).toHaveLength(1);
    expect(wrong.stderr).not.toContain('AGE-SECRET-KEY');

    const logicalNone = await cli(['restore', 'enc', '--backup', logicalId, '--dbname', 'enc_none']);
    expect(logicalNone.code).not.toBe(0);
    expect(logicalNone.stderr).toMatch(new RegExp(`Backup ${logicalId} is encrypted with age`));
  });

  it('point-in-time restore with the identity gives exact rows; no key material on any argv', async () => {
    let seen = '';
    let polling = true;
    const poll = (async () => {
      while (polling) {
        seen += execFileSync('ps', ['-eo', 'args']).toString();
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const ok = await restores.restore('enc', ['--to', markedAt, '--identity', join(keys, 'id.txt')]);
    polling = false;
    await poll;
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.report!.plan.backup).toBe(physicalId);
    expect(ok.report!.segmentsRestored).toBeGreaterThan(0);
    expect(await db.sql('SELECT n, note FROM marks ORDER BY n', ok.port)).toEqual([{ n: 1, note: MARKER }]);
    await restores.stop(ok.report!.pid);
    // age ran (the identity by its path), and no private key ever reached a command line.
    expect(seen).toMatch(/age -d -i /);
    expect(seen).not.toContain('AGE-SECRET-KEY');
    // The copy of the identity made for the restored server's wal-fetch is gone.
    expect(readdirSync('/tmp').filter((f) => f.startsWith('dbdrill-identity-'))).toEqual([]);

    // The logical backup, decrypted as a stream into pg_restore (DBDRILL_AGE_IDENTITY this time).
    const logical = await cli(['restore', 'enc', '--backup', logicalId, '--dbname', 'enc_logical'], { DBDRILL_AGE_IDENTITY: join(keys, 'id.txt') });
    expect(logical.code, logical.stderr).toBe(0);
    expect(await db.sql('SELECT n, note FROM marks ORDER BY n', db.server.port, 'enc_logical')).toEqual([{ n: 1, note: MARKER }]);
  });

  it('a drill of the encrypted repository refuses without the identity and passes with it', async () => {
    const none = await cli(['drill', 'enc', '--to', markedAt]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/is encrypted with age; give --identity FILE/);
    const d = await cli(['drill', 'enc', '--to', markedAt, '--identity', join(keys, 'id.txt'), '--json']);
    expect(d.code, d.stderr).toBe(0);
    const rep = JSON.parse(d.stdout) as { status: string; backup?: string };
    expect(rep.status).toBe('passed');
  });

  it('verify without the key passes, then names a flipped byte in a backup and in a WAL segment', async () => {
    const clean = await cli(['verify', 'enc']);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    const withKey = await cli(['verify', 'enc', '--backup', physicalId, '--identity', join(keys, 'id.txt'), '--json']);
    expect(withKey.code, withKey.stdout + withKey.stderr).toBe(0);
    expect(withKey.stdout).toMatch(/pg_verifybackup/);

    const tar = join(db.repo, 'backups', physicalId, 'base', 'base.tar');
    const undo = flipByte(tar, 4096);
    const bad = await cli(['verify', 'enc']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/base\/base\.tar/);
    undo();
    // verify marked it corrupt; a clean pass sets it back.
    expect((await cli(['verify', 'enc', '--backup', physicalId])).code).toBe(0);

    const seg = filesUnder(join(db.repo, 'wal')).find((f) => /\/[0-9A-F]{24}\.dbw$/.test(f))!;
    const undoSeg = flipByte(seg, 512 + 2000);
    const badWal = await cli(['verify', 'enc']);
    expect(badWal.code).not.toBe(0);
    expect(badWal.stdout + badWal.stderr).toContain(seg.split('/').pop()!.replace(/\.dbw$/, ''));
    undoSeg();
  });
});
