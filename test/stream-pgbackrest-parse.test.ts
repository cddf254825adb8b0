import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveGetCommand, streamTailRestoreCommand } from '../src/engines/postgres/pgbackrest/archive.js';
import { pgbackrestLayout } from '../src/engines/postgres/pgbackrest/layout.js';
import { restoreArgs } from '../src/engines/postgres/pgbackrest/restore.js';
import { fetchStreamTail, laterInPgbackrest } from '../src/engines/postgres/pgbackrest/stream-tail.js';
import { cliEntry } from '../src/wal/command.js';

/**
 * The pure half of streaming on a pgBackRest target: the restore_command that falls back to the
 * stream's .partial only on archive-get's exit 1, and the listing that finds a later archived
 * segment (a gap) in pgBackRest's archive. The real round trip is in stream-pgbackrest.test.ts.
 */
const layout = pgbackrestLayout('/srv/dbdrill/prod');
const pb = { tool: { name: 'pgbackrest', path: '/usr/bin/pgbackrest', version: '2.45', major: 2 }, stanza: 'prod', layout };
const tail = { repo: '/srv/dbdrill/prod', archiveDir: '/srv/dbdrill/prod/pgbackrest/archive/prod/15-1' };
const scratch = mkdtempSync(join(tmpdir(), 'dbdrill-stream-tail-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('restore_command of a streamed pgBackRest target', () => {
  it('runs archive-get, and wal-fetch --pgbackrest-archive only when archive-get exits 1; other exits pass through', () => {
    expect(streamTailRestoreCommand(pb, '/srv/restore/x', tail)).toBe(
      `${archiveGetCommand(pb, '/srv/restore/x')}; r=$?; test $r = 1 && exec ${process.execPath} ${cliEntry()} wal-fetch --repo=/srv/dbdrill/prod --pgbackrest-archive=/srv/dbdrill/prod/pgbackrest/archive/prod/15-1 %f "%p"; exit $r`,
    );
    const option = (streamTail?: typeof tail) => restoreArgs(pb, { set: '20261207-101010F', target: { kind: 'latest' }, dataDir: '/srv/restore/x', port: 5499, ...(streamTail ? { streamTail } : {}) }).find((a) => a.startsWith('--recovery-option='));
    expect(option()).toBe(`--recovery-option=restore_command=${archiveGetCommand(pb, '/srv/restore/x')}`);
    expect(option(tail)).toBe(`--recovery-option=restore_command=${streamTailRestoreCommand(pb, '/srv/restore/x', tail)}`);
    // pgBackRest writes the value between single quotes without escaping: a path that would break it is refused.
    expect(() => streamTailRestoreCommand(pb, '/srv/restore/x', { ...tail, repo: "/srv/it's" })).toThrow(/The path in "--repo=\/srv\/it's" holds a character .* choose a directory without it\./);
  });
});

describe("pgBackRest's archive as wal-fetch reads it", () => {
  const archiveDir = join(scratch, '15-1');
  mkdirSync(join(archiveDir, '0000000100000000'), { recursive: true });
  mkdirSync(join(archiveDir, '0000000100000001'), { recursive: true });
  mkdirSync(join(archiveDir, '0000000200000000'), { recursive: true });
  const sha = 'a'.repeat(40);
  for (const f of [`000000010000000000000003-${sha}.zst`, '000000010000000000000005.00000028.backup', `000000020000000000000009-${sha}.zst`]) writeFileSync(join(archiveDir, f.slice(0, 16), f), '');
  writeFileSync(join(archiveDir, '0000000100000001', `000000010000000100000002-${sha}`), '');

  it('finds the first later segment of the same timeline, in any log directory, and nothing for the newest', () => {
    expect(laterInPgbackrest(archiveDir, '000000010000000000000002')).toBe('000000010000000000000003');
    expect(laterInPgbackrest(archiveDir, '000000010000000000000004')).toBe('000000010000000100000002');
    expect(laterInPgbackrest(archiveDir, '000000010000000100000002')).toBeUndefined();
    // Timeline 2's segments and .backup files are not later segments of timeline 1.
    expect(laterInPgbackrest(archiveDir, '000000010000000100000003')).toBeUndefined();
    expect(laterInPgbackrest(join(scratch, 'missing'), '000000010000000000000002')).toBeUndefined();
  });

  it("hands over nothing but segments, and stops recovery (ArchiveFault) on a gap before touching the stream", async () => {
    expect(await fetchStreamTail(join(scratch, 'repo'), archiveDir, '00000002.history', join(scratch, 'out'))).toBe(false);
    await expect(fetchStreamTail(join(scratch, 'repo'), archiveDir, '000000010000000000000002', join(scratch, 'out'))).rejects.toThrow(
      `000000010000000000000002 cannot be read from the archive: it is missing from pgBackRest's archive ${archiveDir} while the later segment 000000010000000000000003 of timeline 1 is archived: a gap in the WAL`,
    );
    await expect(fetchStreamTail(join(scratch, 'repo'), archiveDir, '../etc/passwd', join(scratch, 'out'))).rejects.toThrow(/it is not a WAL segment/);
  });
});
