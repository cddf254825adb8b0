import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sealedInPrimary } from '../src/copies/sealed-source.js';
import { missingFiles } from '../src/copies/source.js';
import { emptyRecord, parseRecord } from '../src/copies/record.js';
import { encodeDbwHeader } from '../src/wal/format.js';

const dir = mkdtempSync(join(tmpdir(), 'dbdrill-sealed-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dbw = (name: string, encoding: ('zstd' | 'age')[]) =>
  Buffer.concat([encodeDbwHeader({ name, bytes: 16, sha256: 'a'.repeat(64), encoding, storedBytes: 16, storedSha256: 'b'.repeat(64) }), Buffer.alloc(16, 1)]);

describe('a copy of an encrypted repository stores its ciphertext as it is', () => {
  it('tells age ciphertext and age-encoded WAL from plain files', () => {
    const put = (name: string, data: Buffer | string) => {
      writeFileSync(join(dir, name), data);
      return join(dir, name);
    };
    expect(sealedInPrimary(put('dump.sql', 'age-encryption.org/v1\n-> X25519 abc\n'))).toBe(true);
    expect(sealedInPrimary(put('manifest.json', '{"id":"x"}'))).toBe(false);
    expect(sealedInPrimary(put('000000010000000000000003.dbw', dbw('000000010000000000000003', ['zstd', 'age'])))).toBe(true);
    expect(sealedInPrimary(put('000000010000000000000004.dbw', dbw('000000010000000000000004', ['zstd'])))).toBe(false);
    // A damaged header is not taken for ciphertext: the copy's own layer still covers it.
    expect(sealedInPrimary(put('000000010000000000000005.dbw', 'dbdrill-wal 1\n{broken'))).toBe(false);
    expect(sealedInPrimary(join(dir, 'missing'))).toBe(false);
  });

  it('an encrypted copy holding a sealed file under its own name does not send it again', () => {
    const rec = emptyRecord('nas', '/nas', 'prod', 'postgres');
    const file = { bytes: 10, sha256: 'c'.repeat(64), mtimeMs: 1, storedBytes: 10, storedSha256: 'c'.repeat(64), copiedAt: 'x', verifiedAt: 'y' };
    rec.files['wal/00000001/000000010000000000000003.dbw'] = { ...file, stored: 'wal/00000001/000000010000000000000003.dbw', sealed: true };
    rec.files['backups/b1/manifest.json'] = { ...file, stored: 'backups/b1/manifest.json.age' };
    rec.files['repo.json'] = { ...file, stored: 'repo.json' };
    const src = Object.keys(rec.files).map((rel) => ({ rel, bytes: 10, mtimeMs: 1 }));
    // repo.json was stored plain before encryption was turned on: it goes again, encrypted.
    expect(missingFiles(src, rec, true).map((f) => f.rel)).toEqual(['repo.json']);
  });

  it('a copy index that stores a file under another file\'s name is refused', () => {
    const rec = emptyRecord('nas', '/nas', 'prod', 'postgres');
    const bad = { ...rec, files: { 'repo.json': { bytes: 1, sha256: 'c'.repeat(64), mtimeMs: 1, stored: 'backups/b1/base.tar', storedBytes: 1, storedSha256: 'c'.repeat(64), copiedAt: 'x' } } };
    expect(() => parseRecord(bad, '/nas/dbdrill-copy.json')).toThrow(/is stored as "backups\/b1\/base.tar", which is not its name/);
  });
});
