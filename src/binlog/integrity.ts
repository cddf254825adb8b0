import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { binlogRoot, sizeProblem, type ArchivedBinlog } from './archive.js';
import { BinlogWalker, whyNotClosed, type BinlogEvent, type BinlogScan } from './events.js';

/**
 * Reads an archived binlog once before a replay trusts it: its size and SHA-256 against those the
 * index recorded when binlog-sync archived it, and its events to the end (whole, with good CRCs,
 * closed by a Rotate or Stop event). A file that fails any of these is damaged: a replay must
 * never take where it breaks off for the end of the archive.
 */
export interface BinlogCheck {
  scan: BinlogScan;
  sha256: string;
  /** Why the file cannot be replayed; absent when it is intact. */
  problem?: string;
}

export async function checkArchivedBinlog(
  repo: string,
  entry: ArchivedBinlog,
  onEvent?: (e: BinlogEvent) => void,
  opts: { bodies?: boolean; signal?: AbortSignal } = {},
): Promise<BinlogCheck> {
  const hash = createHash('sha256');
  const walker = new BinlogWalker(onEvent, { bodies: opts.bodies === true });
  try {
    for await (const chunk of createReadStream(join(binlogRoot(repo), entry.file), { highWaterMark: 1 << 20, signal: opts.signal })) {
      hash.update(chunk as Buffer);
      walker.push(chunk as Buffer);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ABORT_ERR' || opts.signal?.aborted) throw e;
    return { scan: walker.result(), sha256: '', problem: `it cannot be read (${code ?? (e as Error).message})` };
  }
  const scan = walker.result();
  const sha256 = hash.digest('hex');
  const problem =
    scan.bytes !== entry.size
      ? sizeProblem(scan.bytes, entry.size)
      : entry.sha256 !== undefined && entry.sha256 !== sha256
        ? `its sha256 ${sha256} differs from the one recorded when it was archived, ${entry.sha256}`
        : whyNotClosed(scan);
  return { scan, sha256, ...(problem ? { problem } : {}) };
}
