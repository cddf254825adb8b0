import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInventory } from '../src/pitr/inventory.js';
import { archivedHistory, archivedSegment, storedWalName } from '../src/pitr/wal-names.js';
import { checkBackupLabel, checkBranchSegment, checkHistory, checkSegmentHead, segmentStart } from '../src/wal/content.js';
import { restoreCommand } from '../src/wal/command.js';
import { DBW_HEADER_BYTES, decodeDbwHeader, encodeDbwHeader, type DbwHeader } from '../src/wal/format.js';
import { sandboxRunDir } from './helpers/sandbox.js';
import { sharedSegments } from './helpers/wal-files.js';

/** The pure pieces of the archive: the .dbw header, WAL content checks on a real segment's first page, stored names. */
const work = join(sandboxRunDir(), `wal-format-${process.pid}`);
let name = '';
let head: Buffer;

beforeAll(async () => {
  const [seg] = await sharedSegments(1, work);
  name = basename(seg!);
  head = readFileSync(seg!).subarray(0, 8192);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the .dbw header', () => {
  const h: DbwHeader = { name: '000000010000000A000000FF.partial', bytes: 1 << 30, sha256: 'a'.repeat(64), encoding: ['zstd'], storedBytes: 12345, storedSha256: 'b'.repeat(64) };

  it('is 512 bytes of text, decodes to what was encoded, and the longest name fits', () => {
    const buf = encodeDbwHeader(h);
    expect(buf.length).toBe(DBW_HEADER_BYTES);
    expect(buf.toString('latin1')).toMatch(/^dbdrill-wal 1\n\{.*\} +\n$/);
    expect(decodeDbwHeader(buf)).toEqual(h);
  });

  it('says why bytes are not a header', () => {
    const good = encodeDbwHeader(h);
    expect(decodeDbwHeader(good.subarray(0, 100))).toBe('it is 100 bytes, shorter than its 512-byte header');
    expect(decodeDbwHeader(Buffer.alloc(512, ' '))).toBe('it does not start with a dbdrill-wal 1 header (an unfinished or foreign file)');
    const bad = Buffer.from(good);
    bad.write('X', 20);
    expect(decodeDbwHeader(bad)).toBe('its header is not valid JSON');
    const age = Buffer.from(good.toString('latin1').replace('"zstd"', '"age1"'), 'latin1');
    expect(decodeDbwHeader(age)).toBe('it is encoded with "age1", which this dbdrill cannot decode');
    const noSha = Buffer.from(good.toString('latin1').replace('a'.repeat(64), 'a'.repeat(63) + 'g'), 'latin1');
    expect(decodeDbwHeader(noSha)).toBe('its header lacks the checksums');
  });
});

describe('WAL content checks on a real PostgreSQL 15 segment', () => {
  it('reads the long page header: magic 0xD110, this timeline, 16 MB segments, 8 kB pages', () => {
    const r = checkSegmentHead(name, head);
    expect(r).toMatchObject({ major: 15, timeline: 1, segmentBytes: 16 * 1024 * 1024, pageBytes: 8192 });
    expect(typeof r === 'object' && /^\d+$/.test(r.systemId)).toBe(true);
  });

  it('names what is wrong with a damaged or misnamed head', () => {
    const edit = (off: number, write: (b: Buffer) => void) => {
      const b = Buffer.from(head);
      write(b.subarray(off));
      return b;
    };
    expect(checkSegmentHead(name, Buffer.alloc(0))).toBe('it is empty (0 bytes)');
    expect(checkSegmentHead(name, head.subarray(0, 30))).toBe('it is 30 bytes, shorter than a WAL page header');
    expect(checkSegmentHead(name, edit(0, (b) => b.writeUInt16LE(0x1234)))).toBe('its first page has magic 0x1234, which is not a WAL page of PostgreSQL 10 to 17');
    expect(checkSegmentHead(name, edit(0, (b) => b.writeUInt16LE(0xd113)))).toMatchObject({ major: 16 });
    expect(checkSegmentHead(name, edit(2, (b) => b.writeUInt16LE(0x0001)))).toBe('its first page has flags 0x1, not the long header a segment starts with');
    expect(checkSegmentHead(name, edit(32, (b) => b.writeUInt32LE(3_000_000)))).toBe('its header declares a segment size of 3000000 bytes, not a power of two from 1 MB to 1 GB');
    expect(checkSegmentHead(name, edit(36, (b) => b.writeUInt32LE(100)))).toBe('its header declares a WAL page size of 100 bytes, which PostgreSQL cannot have');
    expect(checkSegmentHead(name, edit(4, (b) => b.writeUInt32LE(2)))).toBe('it holds WAL of timeline 2, but its name says timeline 1');
    expect(checkSegmentHead(`00000003${name.slice(8)}`, head)).toMatchObject({ timeline: 1 });
    // Misnamed: the name of the next segment, and of a 1 MB segment number that 16 MB cannot have.
    const next = `${name.slice(0, 16)}${(parseInt(name.slice(16), 16) + 1).toString(16).toUpperCase().padStart(8, '0')}`;
    expect(checkSegmentHead(next, head)).toMatch(/^it starts at WAL position [0-9A-F]+\/[0-9A-F]+, but its name means [0-9A-F]+\/[0-9A-F]+: these are another segment's bytes$/);
    expect(checkSegmentHead('0000000100000000000001FF', head)).toBe('its name cannot exist with the 16777216-byte segments its header declares');
  });

  it('accepts an older timeline under a newer name only in the segment where the history says it began', () => {
    const h = checkSegmentHead(`00000002${name.slice(8)}`, head);
    if (typeof h === 'string') throw new Error(h);
    const start = segmentStart(name, 16 * 1024 * 1024)!;
    const lsn = (p: bigint) => `${(p >> 32n).toString(16).toUpperCase()}/${(p & 0xffffffffn).toString(16).toUpperCase()}`;
    expect(checkBranchSegment(`00000002${name.slice(8)}`, h, [{ parent: 1, switchpoint: lsn(start + 0x3000n) }])).toBeUndefined();
    expect(checkBranchSegment(`00000002${name.slice(8)}`, h, undefined)).toBeUndefined();
    expect(checkBranchSegment(`00000002${name.slice(8)}`, h, [{ parent: 1, switchpoint: lsn(start + 0x2000000n) }])).toBe(
      `it holds WAL of timeline 1 under a timeline 2 name, but 00000002.history says timeline 2 began at ${lsn(start + 0x2000000n)}, outside this segment`,
    );
  });

  it('checks history and backup history files', () => {
    expect(checkHistory('00000003.history', Buffer.from('1\t0/3000000\tno recovery target specified\n\n2\t0/5000000\tbefore 2026-11-25\n'))).toBeUndefined();
    expect(checkHistory('00000002.history', Buffer.from('2\t0/3000000\tx\n'))).toBe('it lists timeline 2 out of order for the history of timeline 2');
    expect(checkHistory('00000001.history', Buffer.from('1\t0/3000000\tx\n'))).toBe('timeline 1 has no history file');
    expect(checkHistory('00000002.history', Buffer.from('# only a comment\n'))).toBe('it names no parent timeline');
    const label = 'START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nSTOP WAL LOCATION: 0/2000100 (file 000000010000000000000002)\nCHECKPOINT LOCATION: 0/2000060\n';
    expect(checkBackupLabel('000000010000000000000002.00000028.backup', Buffer.from(label))).toBeUndefined();
    expect(checkBackupLabel('000000010000000000000002.00000028.backup', Buffer.from(label.split('\n')[0]! + '\n'))).toBe('it has no "STOP WAL LOCATION" line');
    expect(checkBackupLabel('000000010000000000000002.00000028.backup', Buffer.from('hello'))).toMatch(/^it does not start with "START WAL LOCATION/);
  });
});

describe('stored names', () => {
  it('maps every stored form to its WAL file name and nothing else', () => {
    expect(storedWalName('000000010000000000000005.dbw')).toBe('000000010000000000000005');
    expect(storedWalName('000000010000000000000005.zst')).toBe('000000010000000000000005');
    expect(storedWalName('000000010000000000000005')).toBe('000000010000000000000005');
    expect(storedWalName('000000010000000000000005.partial.dbw')).toBe('000000010000000000000005.partial');
    expect(storedWalName('000000010000000000000005.00000028.backup.dbw')).toBe('000000010000000000000005.00000028.backup');
    expect(storedWalName('00000002.history.dbw')).toBe('00000002.history');
    for (const junk of ['.000000010000000000000005.dbw.1a2b3c4d.tmp', 'archive.json', '00000002.history.zst', '000000010000000000000005.dbw.dbw', '../00000002.history.dbw']) {
      expect(storedWalName(junk), junk).toBeUndefined();
    }
    expect(archivedSegment('000000010000000000000005.partial.dbw')).toBeUndefined();
    expect(archivedHistory('00000002.history.dbw')).toBe(2);
    expect(archivedHistory('00000002.history')).toBe(2);
  });

  it('the inventory counts .dbw segments and histories, once per segment, and ignores a symlinked timeline directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'dbdrill-inv-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'dbdrill-inv-other-'));
    try {
      mkdirSync(join(root, '00000001'));
      for (const f of ['000000010000000000000002.dbw', '000000010000000000000003', '000000010000000000000003.dbw', '000000010000000000000004.zst', '000000010000000000000006.partial.dbw', '.000000010000000000000007.dbw.1a2b3c4d.tmp']) {
        writeFileSync(join(root, '00000001', f), 'x');
      }
      writeFileSync(join(root, '00000002.history.dbw'), 'x');
      writeFileSync(join(root, '00000003.history'), 'x');
      writeFileSync(join(elsewhere, '000000040000000000000009.dbw'), 'x');
      symlinkSync(elsewhere, join(root, '00000004'));
      const i = readInventory(root);
      expect(i.timelines).toEqual(new Map([[1, [2, 3, 4]]]));
      expect(i.histories).toEqual([2, 3]);
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('restore_command', () => {
  it('points at wal-fetch when the repository has a WAL archive, and is `false` (not archived) when it has none', () => {
    const repo = mkdtempSync(join(tmpdir(), 'dbdrill-rc-'));
    try {
      expect(restoreCommand(repo)).toBe('false');
      mkdirSync(join(repo, 'wal'));
      expect(restoreCommand(repo)).toMatch(new RegExp(` wal-fetch --repo ${repo} %f %p$`));
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
