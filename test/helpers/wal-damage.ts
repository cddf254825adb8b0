import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { segmentStart, parseSegment, parseLsn } from '../../src/pitr/wal-names.js';
import { runTool } from '../../src/runner/run.js';
import { findTool } from '../../src/runner/tools.js';
import { DBW_HEADER_BYTES, decodeDbwHeader, encodeDbwHeader } from '../../src/wal/format.js';
import { findArchived } from '../../src/wal/layout.js';

/**
 * Damage to archived WAL, as a failing disk or a bad copy would do it. Each function returns one
 * that puts the original bytes back, so one archive serves several fault tests.
 */
function archived(repo: string, segment: string): { path: string; compressed: boolean; payloadAt: number; original: Buffer } {
  const at = findArchived(repo, segment);
  if (!at) throw new Error(`${segment} is not archived in ${repo}`);
  const original = readFileSync(at.path);
  if (at.form !== 'dbw') return { path: at.path, compressed: at.form === 'zst', payloadAt: 0, original };
  // A .dbw copy: the header, then the payload as pushed (plain or zstd).
  const h = decodeDbwHeader(original);
  if (typeof h === 'string') throw new Error(`${at.path}: ${h}`);
  return { path: at.path, compressed: h.encoding.includes('zstd'), payloadAt: DBW_HEADER_BYTES, original };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Writes damaged bytes back. `reseal` rewrites a .dbw header's checksums to match the damaged
 * payload: the segment was already bad when it was pushed (a server's bad memory or disk), so the
 * archive's own checksums agree with it and only PostgreSQL's record CRCs can tell. Without it the
 * damage happened in the archive after the push (disk rot, a bad copy), which wal-fetch catches.
 */
function writeDamaged(a: ReturnType<typeof archived>, bad: Buffer, reseal: boolean): void {
  if (reseal && a.payloadAt > 0) {
    const h = decodeDbwHeader(a.original);
    if (typeof h === 'string') throw new Error(`${a.path}: ${h}`);
    const payload = bad.subarray(a.payloadAt);
    const stored = sha256(payload);
    encodeDbwHeader({ ...h, storedSha256: stored, sha256: h.encoding.length ? h.sha256 : stored }).copy(bad, 0);
  }
  writeFileSync(a.path, bad);
}

function restorer(path: string, original: Buffer): () => void {
  return () => writeFileSync(path, original);
}

/**
 * Flips one bit inside the data of a WAL record in the middle of the segment (a record
 * pg_waldump lists there, away from page headers), so only the record's CRC can tell; in a .zst
 * copy, one bit in the middle of the compressed frame. Returns the LSN of the damaged record
 * (plain) and how to undo it. `reseal` (default): the flip predates the push (see writeDamaged).
 */
export async function flipBitInRecord(repo: string, segment: string, segmentBytes: number, opts: { reseal?: boolean } = {}): Promise<{ restore: () => void; lsn?: string }> {
  const reseal = opts.reseal ?? true;
  const a = archived(repo, segment);
  const bad = Buffer.from(a.original);
  if (a.compressed) {
    const mid = a.payloadAt + ((bad.length - a.payloadAt) >> 1);
    bad[mid] = bad[mid]! ^ 0x10;
    writeDamaged(a, bad, reseal);
    return { restore: restorer(a.path, a.original) };
  }
  const payload = a.original.subarray(a.payloadAt);
  if (payload.length !== segmentBytes) throw new Error(`${a.path} holds ${payload.length} bytes, not a ${segmentBytes}-byte segment`);
  const tool = await findTool('pg_waldump');
  // pg_waldump reads plain segments under their own names: a private copy of the payload.
  const dir = mkdtempSync(join(tmpdir(), 'dbdrill-waldump-'));
  let r: Awaited<ReturnType<typeof runTool>>;
  try {
    writeFileSync(join(dir, segment), payload);
    r = await runTool({ tool, args: ['--path', dir, segment], capture: true, okExitCodes: [0, 1] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const records = [...r.stdout.matchAll(/len \(rec\/tot\):\s*(\d+)\/\s*\d+, tx:\s*\d+, lsn: ([0-9A-F]+\/[0-9A-F]+)/g)]
    .map((m) => ({ len: Number(m[1]), lsn: m[2]! }))
    // Whole record on one page, with data past its 24-byte header.
    .filter((x) => x.len >= 40 && Number(parseLsn(x.lsn) % 8192n) + x.len < 8192);
  if (records.length < 3) throw new Error(`pg_waldump found only ${records.length} usable records in ${segment}`);
  const pick = records[records.length >> 1]!;
  const offset = a.payloadAt + Number(parseLsn(pick.lsn) - segmentStart(parseSegment(segment, segmentBytes)!.segNo, segmentBytes)) + 30;
  bad[offset] = bad[offset]! ^ 0x10;
  writeDamaged(a, bad, reseal);
  return { restore: restorer(a.path, a.original), lsn: pick.lsn };
}

/** Cuts an archived segment to half its size (a copy that ran out of space). */
export function truncateSegment(repo: string, segment: string): () => void {
  const a = archived(repo, segment);
  writeFileSync(a.path, a.original.subarray(0, a.payloadAt + ((statSync(a.path).size - a.payloadAt) >> 1)));
  return restorer(a.path, a.original);
}
