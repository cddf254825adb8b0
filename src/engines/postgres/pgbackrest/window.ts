import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DbdrillError } from '../../../errors.js';
import { segmentName } from '../../../pitr/wal-names.js';
import type { HistoryEntry } from '../../../pitr/history.js';
import type { WalInventory } from '../../../pitr/inventory.js';
import { lastCommitsAtRunEnds } from '../../../pitr/last-commits.js';
import { computeWindow, type RecoverableWindow } from '../../../pitr/window.js';
import { streamDir, streamPartials, withStreamPartials } from '../../../wal/stream-dir.js';
import { lastCommitInSegment } from '../waldump.js';
import { archiveIdDir, readPgbackrestHistory, readPgbackrestInventory, withPlainSegmentsFromPgbackrest } from './archive.js';
import { catalogRows, type Damage, type PgbackrestBackupRow } from './catalog.js';
import type { Pgbackrest } from './command.js';
import { currentArchiveId, type StanzaInfo } from './info.js';
import { readStanzaInfo } from './stanza.js';

/**
 * Everything a window or a restore plan needs from a pgBackRest repository, in the shape the
 * native archive view has (ops/pitr.ts ArchiveView), so planRestore and computeWindow run on it
 * unchanged: the sets as catalog rows, the archive as a WalInventory, commit times at the end of
 * each set's gap-free WAL run, and the timelines' history files.
 */
export interface PgbackrestArchiveView {
  info: StanzaInfo;
  archiveId: string;
  archiveDir: string;
  manifests: PgbackrestBackupRow[];
  inventory: WalInventory;
  window: RecoverableWindow;
  lastCommit: (timeline: number, seg: number) => Date | undefined;
  history: (timeline: number) => HistoryEntry[] | undefined;
  /**
   * Set when the target streams (`dbdrill stream`, <repo>/stream/ exists): restores then fetch
   * the segment archive-get lacks from the stream's .partial (restoreArgs' streamTail).
   */
  streamTail?: { repo: string; archiveDir: string };
}

export async function readPgbackrestArchive(pb: Pgbackrest, targetName: string, opts: { damage?: Damage; signal?: AbortSignal } = {}): Promise<PgbackrestArchiveView> {
  const info = await readStanzaInfo(pb, opts.signal);
  const archiveId = info && currentArchiveId(info);
  if (!info || !archiveId) throw new DbdrillError('invalid-input', `The pgBackRest stanza "${pb.stanza}" does not exist in ${pb.layout.repoPath} yet; create it (stanza-create) first.`);
  const archiveDir = archiveIdDir(pb, archiveId);
  const manifests = catalogRows(info, targetName, opts.damage);
  // The segment `dbdrill stream` is receiving counts too, as for native targets: the window
  // ends at its last commit (pgBackRest's archive gets it once it is complete).
  const repo = pb.layout.repo;
  const inventory = withStreamPartials(readPgbackrestInventory(archiveDir), repo);
  const lastCommit = await lastCommitsAtRunEnds(
    manifests,
    inventory,
    (tl, segs, fn) => withPlainSegmentsFromPgbackrest(pb, tl, segs, (dir) => fn(withStreamPartialsIn(dir, repo, tl, segs)), opts.signal),
    // A commit record may continue into the next segment: pg_waldump reads on into it when the
    // archive has it (plain() fetched both).
    (dir, tl, segNo, major) => {
      const name = segmentName({ timeline: tl, segNo });
      const next = segmentName({ timeline: tl, segNo: segNo + 1 });
      return lastCommitInSegment(dir, name, existsSync(join(dir, next)) ? next : name, major);
    },
  );
  return {
    info,
    archiveId,
    archiveDir,
    manifests,
    inventory,
    lastCommit,
    history: (tl) => readPgbackrestHistory(archiveDir, tl),
    window: computeWindow(manifests, inventory, lastCommit),
    ...(existsSync(streamDir(repo)) ? { streamTail: { repo, archiveDir } } : {}),
  };
}

/**
 * Adds to `dir` (segments archive-get fetched) the stream's .partial of each of `segNos` that
 * pgBackRest's archive lacked, under the segment's name, for pg_waldump. A partial completed
 * and pushed meanwhile is simply absent (the next read finds it archived).
 */
function withStreamPartialsIn(dir: string, repo: string, timeline: number, segNos: number[]): string {
  const partials = streamPartials(repo);
  for (const segNo of segNos) {
    const name = segmentName({ timeline, segNo });
    if (!partials.includes(name) || existsSync(join(dir, name))) continue;
    try {
      copyFileSync(join(streamDir(repo), `${name}.partial`), join(dir, name));
    } catch {
      // completed and moved into pgBackRest's archive meanwhile
    }
  }
  return dir;
}
