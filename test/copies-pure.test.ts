import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDest, validateCopy, validateRecipients } from '../src/config/copies.js';
import { parseHashsum } from '../src/copies/rclone.js';
import { emptyRecord, parseRecord, safeRel } from '../src/copies/record.js';
import { missingFiles, storedName } from '../src/copies/source.js';
import { heldOn, heldText } from '../src/copies/status.js';
import type { Manifest } from '../src/repo/manifest.js';
import { copiesCheck, sharedDiskOf } from '../src/health/copies-check.js';
import type { Rule321 } from '../src/copies/status.js';
import { addPruned, prunedEntries, readPruned, tidyPruned } from '../src/copies/prune.js';

const SHA = 'a'.repeat(64);
const repo = '/srv/dbdrill/prod';

describe('copy settings (pure)', () => {
  it('tells a directory from an rclone remote, and neither from a relative path', () => {
    expect(parseDest('/mnt/nas/x/')).toEqual({ kind: 'local', dir: '/mnt/nas/x' });
    expect(parseDest('offsite:bucket/dbdrill')).toEqual({ kind: 'rclone', remote: 'offsite', path: 'bucket/dbdrill' });
    expect(parseDest('relative/dir')).toBeUndefined();
    expect(parseDest(':nope')).toBeUndefined();
  });

  it('refuses a dest inside or around the repository, names that are not names, and rclone config on a directory', () => {
    const bad = (input: Record<string, unknown>) => {
      try {
        validateCopy(input, 'copy', repo);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(input)}`);
    };
    expect(bad({ name: 'nas', dest: `${repo}/copy` })).toMatch(/inside the primary repository/);
    expect(bad({ name: 'nas', dest: '/srv' })).toMatch(/contains the primary repository/);
    expect(bad({ name: '-x', dest: '/mnt' })).toMatch(/not usable/);
    expect(bad({ name: 'PRIMARY', dest: '/mnt' })).toMatch(/not usable/);
    expect(bad({ name: 'n'.repeat(33), dest: '/mnt' })).toMatch(/at most 32/);
    expect(bad({ name: 'nas', dest: 'r:a/../b' })).toMatch(/\.\./);
    expect(bad({ name: 'nas', dest: '/mnt', rcloneConfig: '/etc/rclone.conf' })).toMatch(/only used with an rclone remote/);
    expect(bad({ name: 'nas', dest: 'r:x', rcloneConfig: 'rel.conf' })).toMatch(/relative path/);
    expect(bad({ name: 'nas', dest: '/mnt', offsite: 'yes' })).toMatch(/true or false/);
    expect(validateCopy({ name: 'nas', dest: '/mnt/nas/', offsite: true }, 'copy', repo)).toEqual({ name: 'nas', dest: '/mnt/nas', offsite: true });
  });

  it('takes age public keys only', () => {
    const key = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
    expect(validateRecipients([key], '--encrypt-to')).toEqual([key]);
    expect(() => validateRecipients(['age1short'], '--encrypt-to')).toThrow(/not an age public key/);
    expect(() => validateRecipients(['AGE-SECRET-KEY-1XYZ'], '--encrypt-to')).toThrow(/private key/);
  });
});

describe('copy records (pure)', () => {
  const file = (over: Record<string, unknown> = {}) => ({ bytes: 10, sha256: SHA, mtimeMs: 5, stored: 'backups/x/f', storedBytes: 10, storedSha256: SHA, copiedAt: '2026-12-01T00:00:00Z', verifiedAt: '2026-12-01T00:00:01Z', ...over });

  it('sends what is not held verified, what changed, what failed, and all again when encryption changes', () => {
    const r = emptyRecord('nas', '/mnt', 't', 'postgres');
    r.files['a'] = file({ stored: 'a' });
    r.files['b'] = file({ stored: 'b', verifiedAt: undefined });
    r.files['c'] = file({ stored: 'c', mtimeMs: 4 });
    r.files['d'] = file({ stored: 'd' });
    r.failed['d'] = 'corrupt on the copy';
    const src = ['a', 'b', 'c', 'd', 'e'].map((rel) => ({ rel, bytes: 10, mtimeMs: 5, sha256: SHA }));
    expect(missingFiles(src, r, false).map((f) => f.rel)).toEqual(['b', 'c', 'd', 'e']);
    expect(missingFiles(src, r, true).map((f) => f.rel)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(storedName('wal/x', true)).toBe('wal/x.age');
  });

  it('refuses an index whose paths leave the copy', () => {
    expect(safeRel('backups/x/../../etc/passwd')).toBe(false);
    expect(safeRel('/etc/passwd')).toBe(false);
    expect(safeRel('wal/00000001/A.dbw')).toBe(true);
    const raw = { ...emptyRecord('nas', '/mnt', 't', 'postgres'), files: { '../x': file() } };
    expect(() => parseRecord(raw, 'idx.json')).toThrow(/not a path inside a repository/);
    const stored = { ...emptyRecord('nas', '/mnt', 't', 'postgres'), files: { a: file({ stored: '../../x' }) } };
    expect(() => parseRecord(stored, 'idx.json')).toThrow(/lacks its size, sha256 or stored name/);
  });

  it('says per backup where it is held', () => {
    const m = { id: '20261201T000000Z-F', status: 'complete', files: [{ path: 'base/base.tar', bytes: 1, sha256: SHA }] } as unknown as Manifest;
    const r = emptyRecord('nas', '/mnt', 't', 'postgres');
    expect(heldOn(m, undefined).state).toBe('missing');
    r.files[`backups/${m.id}/base/base.tar`] = file();
    expect(heldOn(m, r).state).toBe('partial');
    r.files[`backups/${m.id}/manifest.json`] = file();
    expect(heldOn(m, r).state).toBe('ok');
    r.failed[`backups/${m.id}/base/base.tar`] = 'corrupt';
    expect(heldOn(m, r).state).toBe('failed');
    expect(heldText([{ where: 'local', state: 'ok' }, { where: 'nas', state: 'failed' }])).toBe('local ✓ nas failed');
  });

  it('reads rclone hashsum output, including an unsupported hash', () => {
    const m = parseHashsum(`${SHA}  backups/x/a\n                                                                  wal/b\n`);
    expect(m.get('backups/x/a')).toBe(SHA);
    expect(m.get('wal/b')).toBe('');
  });
});

describe('3-2-1 in health', () => {
  const rule = (over: Partial<Rule321>): Rule321 => ({
    copies: 3, media: 2, offsite: true, newestHeldBy: ['local', 'nas', 'offsite'], ok: true,
    text: 'OK   3-2-1: newest backup B held 3x (local, nas, offsite), 2 kind(s) of storage, one off-site', ...over,
  });
  const elsewhere = { shared: false, serverPath: '/var/lib/postgresql/15/main' };
  const together = { shared: true, serverPath: '/var/lib/postgresql/15/main' };

  it('is CRIT when the repository shares the server\'s disk and no copy holds the newest backup', () => {
    const c = copiesCheck(rule({ copies: 1, newestHeldBy: ['local'], ok: false, offsite: false }), together, '/srv/repo');
    expect(c.status).toBe('CRIT');
    expect(c.reason).toMatch(/^the repository \/srv\/repo is on the same filesystem as the server's data \(\/var\/lib\/postgresql\/15\/main\) and no copy holds the newest backup: one disk failure loses the database and every backup/);
  });
  it('is WARN on a shared disk once a copy elsewhere holds the newest backup, naming the copies', () => {
    const c = copiesCheck(rule({}), together, '/srv/repo');
    expect(c.status).toBe('WARN');
    expect(c.reason).toContain('only the copies nas, offsite survive that disk');
  });
  it('says what 3-2-1 lacks: copies, kinds of storage, off-site', () => {
    const c = copiesCheck(rule({ copies: 2, media: 1, offsite: false, newestHeldBy: ['local', 'nas'], ok: false }), elsewhere, '/srv/repo');
    expect(c).toMatchObject({ status: 'WARN' });
    expect(c.reason).toMatch(/^3-2-1 not met \(2 of 3 copies, one kind of storage, none off-site\): /);
    expect(copiesCheck(rule({}), elsewhere, '/srv/repo')).toMatchObject({ status: 'OK', reason: 'newest backup B held 3x (local, nas, offsite), 2 kind(s) of storage, one off-site.' });
  });
  it('says "cannot be told" for a server on another machine, without calling it shared', () => {
    const disk = sharedDiskOf({ unknown: 'the server at db1 is not on this machine' }, (p) => p, 1, () => 1);
    const c = copiesCheck(rule({}), disk, '/srv/repo');
    expect(c.status).toBe('OK');
    expect(c.reason).toContain("whether the repository shares the server's disk cannot be told (the server at db1 is not on this machine)");
  });
  it('compares the devices of the server\'s data directory and the repository', () => {
    const dev = (p: string) => (p.startsWith('/data') ? 7 : 9);
    expect(sharedDiskOf({ path: '/data/pg/pg_wal', freeBytes: 1, totalBytes: 2 }, (p) => p.replace(/\/pg_wal$/, ''), 7, dev)).toEqual({ shared: true, serverPath: '/data/pg' });
    expect(sharedDiskOf({ path: '/data/pg/pg_wal', freeBytes: 1, totalBytes: 2 }, (p) => p, 9, dev)).toEqual({ shared: false, serverPath: '/data/pg/pg_wal' });
  });
});

describe('copies follow prune, and only prune', () => {
  const f = (stored: string) => ({ bytes: 1, sha256: 'a'.repeat(64), mtimeMs: 1, stored, storedBytes: 1, storedSha256: 'a'.repeat(64), copiedAt: '2026-12-07T00:00:00Z', verifiedAt: '2026-12-07T00:00:00Z' });
  const record = () => ({
    ...emptyRecord('nas', '/mnt/nas', 'prod', 'postgres'),
    files: {
      'backups/B1/base/base.tar': f('backups/B1/base/base.tar'),
      'backups/B1/manifest.json': f('backups/B1/manifest.json'),
      'backups/B2/manifest.json': f('backups/B2/manifest.json'),
      'wal/00000001/000000010000000000000001.dbw': f('wal/00000001/000000010000000000000001.dbw'),
      'wal/00000001/000000010000000000000002.dbw': f('wal/00000001/000000010000000000000002.dbw'),
    },
  });
  it('drops the files of pruned backups and pruned archive files, nothing else', () => {
    const gone = prunedEntries(record(), { formatVersion: 1, backups: ['B1'], files: ['wal/00000001/000000010000000000000001.dbw'] });
    expect(gone.sort()).toEqual(['backups/B1/base/base.tar', 'backups/B1/manifest.json', 'wal/00000001/000000010000000000000001.dbw']);
    // A backup id that is a prefix of another's is not confused with it.
    expect(prunedEntries(record(), { formatVersion: 1, backups: ['B'], files: [] })).toEqual([]);
  });
  it('keeps a pruned entry listed until no copy holds it', () => {
    const repo = mkdtempSync(join(tmpdir(), 'dbdrill-pruned-'));
    try {
      mkdirSync(join(repo, 'copies'));
      addPruned(repo, { backups: ['B1'], files: ['wal/00000001/000000010000000000000001.dbw'] });
      addPruned(repo, { backups: ['B1', 'B0'], files: [] });
      expect(readPruned(repo)).toEqual({ formatVersion: 1, backups: ['B1', 'B0'], files: ['wal/00000001/000000010000000000000001.dbw'] });
      tidyPruned(repo, [record()]);
      expect(readPruned(repo)).toEqual({ formatVersion: 1, backups: ['B1'], files: ['wal/00000001/000000010000000000000001.dbw'] });
      tidyPruned(repo, [{ ...record(), files: {} }]);
      expect(existsSync(join(repo, 'copies', 'pruned.json'))).toBe(false);
      writeFileSync(join(repo, 'copies', 'pruned.json'), '{"formatVersion":1,"backups":"B1","files":[]}');
      expect(() => readPruned(repo)).toThrow(/pruned\.json.*backups must be a list of text/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
