import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DbdrillError } from '../errors.js';
import { HISTORY_RE, SEGMENT_RE } from '../pitr/wal-names.js';
import { walPush } from './archive.js';
import { streamDir } from './stream-dir.js';

export interface Settled {
  /** Moved into wal/ (or already there with the same bytes). */
  moved: string[];
  /** Refused by the archive's checks (different content already archived, junk): left in stream/, with the sentence. */
  refused: { name: string; reason: string }[];
}

/**
 * Moves every completed segment and history file pg_receivewal left in stream/ into wal/ with
 * walPush, then removes it from stream/. A file walPush refuses stays where it is (so nothing is
 * lost) and is reported; the caller reports each name once.
 */
export async function settleStreamed(repo: string, opts: { allowRoot?: boolean } = {}): Promise<Settled> {
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
      await walPush(repo, path, { allowRoot: opts.allowRoot ?? true });
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
