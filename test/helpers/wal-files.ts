import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEGMENT_RE } from '../../src/pitr/wal-names.js';
import { DBW_HEADER_BYTES, decodeDbwHeader, type DbwHeader } from '../../src/wal/format.js';
import { sharedPostgres, withPg } from './sandbox.js';

/**
 * Real WAL segments for tests that push and fetch: the suite's shared PostgreSQL archives every
 * segment (plain cp) into its archiveDir. Switching WAL is harmless to the other tests.
 */
export async function sharedSegments(count: number, into: string): Promise<string[]> {
  const info = sharedPostgres();
  const archive = info.archiveDir!;
  const full = () => readdirSync(archive).filter((n) => SEGMENT_RE.test(n)).sort();
  const run = () => {
    // The newest `count` consecutive ones (names of one timeline, 16 MB segments).
    const names = full();
    for (let end = names.length; end >= count; end--) {
      const pick = names.slice(end - count, end);
      const seq = pick.every((n, i) => i === 0 || (n.slice(0, 8) === pick[0]!.slice(0, 8) && parseInt(n.slice(8), 16) === parseInt(pick[i - 1]!.slice(8), 16) + 1));
      if (seq && pick.every((n) => statSync(join(archive, n)).size === 16 * 1024 * 1024)) return pick;
    }
    return undefined;
  };
  let picked = run();
  for (let i = 0; !picked && i < count + 2; i++) {
    const before = full().length;
    await withPg(info, async (c) => {
      // Some WAL to switch away from, without a table that parallel test files would race to create.
      await c.query(`SELECT pg_logical_emit_message(false, 'dbdrill-test', repeat('x', 1000))`);
      await c.query('SELECT pg_switch_wal()');
    });
    for (let w = 0; w < 100 && full().length <= before; w++) await new Promise((r) => setTimeout(r, 100));
    picked = run();
  }
  if (!picked) throw new Error(`the shared PostgreSQL did not archive ${count} consecutive segments into ${archive}`);
  mkdirSync(into, { recursive: true, mode: 0o755 });
  chmodSync(into, 0o755);
  return picked.map((n) => {
    const to = join(into, n);
    copyFileSync(join(archive, n), to);
    chmodSync(to, 0o644);
    return to;
  });
}

/** A stored `.dbw` file split into its header and payload. */
export function readDbw(path: string): { header: DbwHeader; payload: Buffer } {
  const buf = readFileSync(path);
  const header = decodeDbwHeader(buf);
  if (typeof header === 'string') throw new Error(`${path}: ${header}`);
  return { header, payload: buf.subarray(DBW_HEADER_BYTES) };
}

/** Flips one bit in the middle of a file's bytes after `from` (a .dbw's payload: from = 512). */
export function flipMiddle(path: string, from = 0): void {
  flipByte(path, from + Math.floor((statSync(path).size - from) / 2));
}

/** Flips one bit at `offset` of a file (negative: from the end), in place. */
export function flipByte(path: string, offset: number): void {
  const buf = readFileSync(path);
  if (offset < 0) offset += buf.length;
  if (offset < 0 || offset >= buf.length) throw new Error(`${path} has ${buf.length} bytes, no byte at ${offset}`);
  buf[offset] = buf[offset]! ^ 0x01;
  // writeFileSync on an existing file keeps its mode and owner.
  writeFileSync(path, buf);
}
