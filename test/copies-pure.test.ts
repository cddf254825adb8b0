import { describe, expect, it } from 'vitest';
import { parseDest, validateCopy, validateRecipients } from '../src/config/copies.js';
import { parseHashsum } from '../src/copies/rclone.js';
import { emptyRecord, parseRecord, safeRel } from '../src/copies/record.js';
import { missingFiles, storedName } from '../src/copies/source.js';
import { heldOn, heldText } from '../src/copies/status.js';
import type { Manifest } from '../src/repo/manifest.js';

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
