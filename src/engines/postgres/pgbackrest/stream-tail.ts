import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fetchableKind, handOver } from '../../../wal/fetch.js';
import { ArchiveFault, openArchive } from '../../../wal/stored.js';
import { openStreamPartial } from '../../../wal/stream-dir.js';
import { storedSegment } from './archive-names.js';

/**
 * The second half of a streamed pgBackRest target's restore_command (`wal-fetch --repo R
 * --pgbackrest-archive DIR %f %p`, run only when archive-get exited 1, "not in the archive"):
 * the stream's `.partial` of that segment, handed over under the segment's name as native
 * restores do, so recovery replays the last streamed seconds. Never when pgBackRest's archive
 * holds a later segment of the timeline: the missing one is then a gap, and recovery stops
 * (ArchiveFault, exit 255) instead of ending early on a partial a complete segment supersedes.
 * Loaded by wal-fetch, so it reads pgBackRest's archive by listing it and starts no tool.
 */
export async function fetchStreamTail(repo: string, archiveDir: string, name: string, target: string): Promise<boolean> {
  const kind = fetchableKind(name);
  // History, backup and partial files are pgBackRest's alone: archive-get already said it has none.
  if (kind !== 'segment') return false;
  const later = laterInPgbackrest(archiveDir, name);
  if (later) {
    throw new ArchiveFault(
      name,
      `it is missing from pgBackRest's archive ${archiveDir} while the later segment ${later} of timeline ${parseInt(name.slice(0, 8), 16)} is archived: a gap in the WAL`,
      "put the missing segment back into pgBackRest's archive, or restore to a point before it",
    );
  }
  const archive = openArchive(repo, name, { strict: true });
  try {
    const stored = openStreamPartial(archive.root, name);
    return stored ? await handOver(stored, archive.known, target) : false;
  } finally {
    archive.close();
  }
}

/**
 * The first segment of `name`'s timeline that pgBackRest's archive (one archive id's directory:
 * <timeline+log>/<segment>-<sha1>[.ext]) holds after `name`, or undefined.
 */
export function laterInPgbackrest(archiveDir: string, name: string): string | undefined {
  const tl = name.slice(0, 8);
  let dirs: string[];
  try {
    dirs = readdirSync(archiveDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // An archive that cannot be listed must stop recovery, not look like its end.
    throw new ArchiveFault(name, `pgBackRest's archive ${archiveDir} cannot be listed (${code})`, "let the server's user read pgBackRest's repository");
  }
  let first: string | undefined;
  for (const d of dirs) {
    if (!/^[0-9A-F]{16}$/.test(d) || d.slice(0, 8) !== tl || d < name.slice(0, 16)) continue;
    for (const f of readdirSync(join(archiveDir, d))) {
      const seg = storedSegment(f);
      if (seg && seg > name && (first === undefined || seg < first)) first = seg;
    }
  }
  return first;
}
