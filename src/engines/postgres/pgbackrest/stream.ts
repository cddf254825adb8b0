import type { Target } from '../../../config/target.js';
import { DbdrillError, isDbdrillError } from '../../../errors.js';
import { settleStreamedWith } from '../../../wal/stream-settle.js';
import type { StreamSink } from '../stream.js';
import { runPgbackrest, type Pgbackrest } from './command.js';
import { parseErrorText } from './errors.js';
import { stanzaArchiveDir } from './layout.js';
import { pgbackrestOf } from './method.js';

/**
 * `dbdrill stream` on a pgBackRest target: pg_receivewal still writes into <repo>/stream/ (the
 * method changes nothing there), and each completed segment or history file goes into
 * pgBackRest's archive of the stanza with a plain archive-push of that path. pgBackRest itself
 * compares it with what archive_command may have pushed already: the same checksum is a warning
 * and exit 0 (the stream's copy goes), a different one is its error 45 (the copy stays and is
 * reported). The receiver and stream/ belong to pgBackRest's run-as user (the server's), so a
 * restored server's restore_command can read the .partial.
 */
export async function pgbackrestStreamSink(target: Target): Promise<StreamSink> {
  const pb = await pgbackrestOf(target);
  return {
    ...(pb.runAs ? { owner: pb.runAs } : {}),
    archive: `pgBackRest's archive of stanza "${pb.stanza}" (${stanzaArchiveDir(pb.layout, pb.stanza)})`,
    settle: () => settleStreamedWith(pb.layout.repo, (path) => pushStreamed(pb, path)),
    notes: [`completed segments go into pgBackRest's archive of stanza "${pb.stanza}" with archive-push`],
  };
}

/** Tries of a push that failed for another reason than different contents (see pushStreamed). */
const PUSH_TRIES = 3;

/**
 * archive-push of a file outside pg_wal: --no-archive-async, because the async push takes only
 * what sits in pg_wal/archive_status and would answer from its spool. pgBackRest 2.45 accepts any
 * absolute path for a plain push (tried by hand before this was written). archive_command pushes
 * the same segments at about the same moment, and two pushes of one file can collide in the
 * repository (error 104 wrapping the file's own error): such a failure is tried again at once; a
 * different checksum (error 45) is final.
 */
export async function pushStreamed(pb: Pgbackrest, path: string): Promise<void> {
  const name = path.slice(path.lastIndexOf('/') + 1);
  for (let attempt = 1; ; attempt++) {
    try {
      await runPgbackrest(pb, 'archive-push', ['--no-archive-async'], { positional: [path] });
      return;
    } catch (e) {
      if (!isDbdrillError(e)) throw e;
      if (e.detail?.pgbackrestError === 45) {
        throw new DbdrillError('failed', `${name} is already in pgBackRest's archive of stanza "${pb.stanza}" with different contents (pgBackRest error 45); the stream's copy was not pushed`, e.detail);
      }
      if (attempt < PUSH_TRIES) {
        await new Promise((r) => setTimeout(r, 200 * attempt));
        continue;
      }
      const more = parseErrorText((e.detail?.stderrTail as string[] | undefined) ?? [])?.more ?? [];
      throw new DbdrillError('failed', `${name} could not be pushed into pgBackRest's archive of stanza "${pb.stanza}" (${[e.message.replace(/\.$/, ''), ...more].join('; ')}); it stays in stream/ and is tried again`, e.detail);
    }
  }
}
