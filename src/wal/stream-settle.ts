import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DbdrillError } from '../errors.js';
import { HISTORY_RE, SEGMENT_RE } from '../pitr/wal-names.js';
import { walPush } from './archive.js';
import { streamDir } from './stream-dir.js';

export interface Settled {
  /** Moved into the archive (or already there with the same bytes). */
  moved: string[];
  /** Refused by the archive's checks (different content already archived, junk): left in stream/, with the sentence. */
  refused: { name: string; reason: string }[];
}

/**
 * Hands every completed segment and history file pg_receivewal left in stream/ to `push` (which
 * stores it in an archive, or throws a DbdrillError saying why not), then removes it from stream/.
 * A file `push` refuses stays where it is (so nothing is lost) and is reported; the caller reports
 * each name once. Only after a push returned is the stream's copy removed.
 */
export async function settleStreamedWith(repo: string, push: (path: string) => Promise<unknown>): Promise<Settled> {
  const out: Settled = { moved: [], refused: [] };
  let entries: string[];
  try {
    entries = readdirSync(streamDir(repo));
  } catch {
    return out;
  }
  // History files first: a segment of a new timeline is checked against its history.
  const names = entries.filter((e) => HISTORY_RE.test(e)).sort().concat(entries.filter((e) => SEGMENT_RE.test(e)).sort());
  for (const name of names) {
    const path = join(streamDir(repo), name);
    try {
      await push(path);
    } catch (e) {
      if (!(e instanceof DbdrillError)) throw e;
      out.refused.push({ name, reason: e.message });
      continue;
    }
    rmSync(path, { force: true });
    out.moved.push(name);
  }
  return out;
}

/** The native method: completed files go into dbdrill's wal/ through walPush (its checks, no overwrite). */
export function settleStreamed(repo: string, opts: { allowRoot?: boolean } = {}): Promise<Settled> {
  return settleStreamedWith(repo, (path) => walPush(repo, path, { allowRoot: opts.allowRoot ?? true }));
}
