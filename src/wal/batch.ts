import { dirname, join, resolve } from 'node:path';
import { walPush, type PushOptions, type PushResult } from './archive.js';
import { archiveFacts } from './facts.js';
import { Dir, UnsafePath } from './safe-dir.js';
import { readySegments, removeStaleRecords, spooled, SPOOL_DIR, writeRecord } from './spool.js';

/**
 * Batched archiving, as pgBackRest's archive-async does it but without a daemon: the wal-push
 * PostgreSQL started for one segment also pushes the other segments already marked `.ready`,
 * and leaves a spool record for each, so that PostgreSQL's next calls are answered by
 * archive_command's shell fast path without starting Node (the start, not the copy, is what
 * costs: about 4x). The segment PostgreSQL asked for is pushed first and reported as before;
 * a failure among the others is left for PostgreSQL's own call to that segment to report.
 */
export interface BatchOptions extends PushOptions {
  /** Most segments to push ahead per call (DBDRILL_WAL_BATCH, default 32). */
  max?: number;
  /** Pushes at once (default 2: the copy is I/O plus a zstd child). */
  parallel?: number;
}

export interface BatchResult {
  pushed: PushResult;
  ahead: string[];
  /** Why the batch stopped early, if it did (not an error of this call). */
  stopped?: string;
}

const envMax = () => {
  const v = Number(process.env.DBDRILL_WAL_BATCH);
  return Number.isSafeInteger(v) && v >= 0 ? v : 32;
};

export async function walPushBatch(repo: string, source: string, opts: BatchOptions = {}): Promise<BatchResult> {
  const pushed = await walPush(repo, source, opts);
  const max = opts.max ?? envMax();
  // Root pushing into the server's wal/ is a manual run: no spool that the server's user then
  // could not write.
  if (max === 0 || opts.allowRoot) return { pushed, ahead: [] };
  const systemId = archiveFacts(repo).systemId;
  if (!systemId) return { pushed, ahead: [], stopped: 'the archive records no system id yet' };

  let root: Dir | undefined;
  let wal: Dir | undefined;
  let base: Dir | undefined;
  let spool: Dir | undefined;
  try {
    root = Dir.openRoot(repo);
    wal = root.child('wal');
    base = wal.child(SPOOL_DIR, { create: true });
    spool = base.child(systemId, { create: true });
  } catch (e) {
    for (const d of [base, wal, root]) d?.close();
    if (e instanceof UnsafePath) return { pushed, ahead: [], stopped: e.message };
    throw e;
  }
  try {
    const pgWal = dirname(resolve(source));
    const ready = readySegments(pgWal);
    const readySet = new Set(ready);
    removeStaleRecords(spool, readySet);
    const have = spooled(spool);
    const todo = ready.filter((n) => n !== pushed.name && !have.has(n)).slice(0, max);
    const ahead: string[] = [];
    let stopped: string | undefined;
    let next = 0;
    const worker = async () => {
      while (stopped === undefined && next < todo.length) {
        const name = todo[next++]!;
        try {
          const r = await walPush(repo, join(pgWal, name), opts);
          writeRecord(spool!, name, r.sha256);
          ahead.push(name);
        } catch (e) {
          // The segment may have been archived and recycled meanwhile, or be bad: PostgreSQL's
          // own call for it takes the normal path and reports what is wrong.
          stopped = `${name}: ${(e as Error).message}`;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? 2) }, worker));
    return { pushed, ahead: ahead.sort(), ...(stopped ? { stopped } : {}) };
  } finally {
    for (const d of [spool, base, wal, root]) d?.close();
  }
}
