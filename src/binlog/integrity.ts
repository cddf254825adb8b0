import { DbdrillError } from '../errors.js';
import type { ArchivedBinlog } from './archive.js';
import { readArchivedPlain } from './sealed.js';
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
  const walker = new BinlogWalker(onEvent, { bodies: opts.bodies === true });
  let read: Awaited<ReturnType<typeof readArchivedPlain>>;
  try {
    // An encrypted file is decrypted on the way (the identity is needed; see sealed.ts).
    read = await readArchivedPlain(repo, entry, (c) => walker.push(c), opts.signal);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ABORT_ERR' || opts.signal?.aborted || e instanceof DbdrillError) throw e;
    return { scan: walker.result(), sha256: '', problem: `it cannot be read (${code ?? (e as Error).message})` };
  }
  const scan = walker.result();
  const problem = read.problem ?? whyNotClosed(scan);
  return { scan, sha256: read.storedSha256, ...(problem ? { problem } : {}) };
}
