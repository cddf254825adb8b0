import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { spawnDetached } from '../runner/detached.js';
import { isPidAlive } from '../runner/process.js';
import { walPush, type PushOptions, type PushResult } from './archive.js';
import { cliEntry } from './command.js';
import { archiveFacts } from './facts.js';
import { CREATE_FLAGS, Dir, UnsafePath } from './safe-dir.js';
import { readySegments, removeStaleRecords, replaceFile, spooled, SPOOL_DIR, writeRecord } from './spool.js';

/**
 * Batched archiving, as pgBackRest's archive-async does it but without a daemon: the wal-push
 * PostgreSQL starts for one segment also starts a detached worker that pushes the other segments
 * marked `.ready` and leaves a spool record for each, so that PostgreSQL's next calls are
 * answered by archive_command's shell fast path without starting Node (the start, not the copy,
 * is what costs: about 4x). The segment PostgreSQL asked for is pushed by its own call and
 * reported as before; a failure among the others is left for PostgreSQL's own call to that
 * segment to report. The worker keeps looking for new segments until none came for a while, so a
 * steady stream of segments keeps finding records instead of a Node start each.
 */
export interface BatchOptions extends PushOptions {
  /** Pushes at once (default 2: the copy is I/O plus a zstd child). */
  parallel?: number;
  /** How long the worker waits for a new .ready file before it exits (DBDRILL_WAL_AHEAD_IDLE_MS, 5 s). */
  idleMs?: number;
}

export interface BatchResult {
  pushed: PushResult;
  /** Whether a worker pushing ahead was started by this call, already ran, or is not used. */
  ahead: 'started' | 'running' | 'off';
  why?: string;
}

const AHEAD_LOCK = '.ahead.lock';

interface Spool {
  dirs: Dir[];
  spool: Dir;
}

function openSpool(repo: string, systemId: string): Spool {
  const dirs: Dir[] = [];
  try {
    const root = Dir.openRoot(repo);
    dirs.push(root);
    const wal = root.child('wal');
    dirs.push(wal);
    const base = wal.child(SPOOL_DIR, { create: true });
    dirs.push(base);
    const spool = base.child(systemId, { create: true });
    dirs.push(spool);
    return { dirs, spool };
  } catch (e) {
    for (const d of dirs.reverse()) d.close();
    throw e;
  }
}

const closeSpool = (s: Spool) => {
  for (const d of [...s.dirs].reverse()) d.close();
};

/** The pid holding the worker lock, when that process still runs. */
function aheadRunning(spool: Dir): number | undefined {
  const pid = lockHolder(spool);
  return pid !== undefined && isPidAlive(pid) ? pid : undefined;
}

/**
 * The call archive_command makes: make sure a worker pushes the other waiting segments ahead,
 * then push the segment PostgreSQL asked for (reported as before). The worker is started first,
 * so that its Node start overlaps this push instead of following it, and the lock is handed to
 * it before this call returns: PostgreSQL's next call then finds the lock and waits for the
 * worker's record (archive_command's shell loop) instead of starting Node a second time. The
 * bench measured both: a cold start of a burst cost two Node starts in a row before.
 */
export async function walPushBatch(repo: string, source: string, opts: BatchOptions = {}): Promise<BatchResult> {
  const ahead = startAhead(repo, source, opts);
  const pushed = await walPush(repo, source, opts);
  // The first push into an archive records its system id: only then is there a spool to use.
  if (ahead.why === NO_SYSTEM_ID) return { pushed, ...startAhead(repo, source, opts) };
  return { pushed, ...ahead };
}

const NO_SYSTEM_ID = 'the archive records no system id yet';

/** Starts the worker unless one runs or the spool cannot be used. */
function startAhead(repo: string, source: string, opts: BatchOptions): Omit<BatchResult, 'pushed'> {
  // Root pushing into the server's wal/ is a manual run: no spool the server's user could not write.
  if (opts.allowRoot) return { ahead: 'off', why: 'a root push for the server (--allow-root)' };
  const systemId = archiveFacts(repo).systemId;
  if (!systemId) return { ahead: 'off', why: NO_SYSTEM_ID };
  let s: Spool;
  try {
    s = openSpool(repo, systemId);
  } catch (e) {
    if (e instanceof UnsafePath) return { ahead: 'off', why: e.message };
    throw e;
  }
  try {
    if (aheadRunning(s.spool)) return { ahead: 'running' };
    const pgWal = dirname(resolve(source));
    const own = basename(source);
    const ready = readySegments(pgWal);
    // Records no .ready file asks for are dropped now, never answered (the worker does it too).
    removeStaleRecords(s.spool, new Set(ready));
    // Started even when nothing else waits yet: the first segment of a burst is the one whose
    // call can start the worker soonest; a server that archives one segment a minute pays a
    // Node start and a few seconds of an idle worker for it.
    const args = [cliEntry(), 'wal-push', '--repo', repo, ...(opts.compress ? ['--compress', opts.compress] : []), '--ahead', pgWal, '--skip', own, '--lock-from', String(process.pid)];
    return handOver(s.spool, () => spawnDetached(process.execPath, args)) ? { ahead: 'started' } : { ahead: 'running' };
  } finally {
    closeSpool(s);
  }
}

/**
 * Takes the worker lock for a worker about to start and writes its pid into it. The worker
 * accepts a lock holding its own pid or its starter's (`lockFrom`: the moment between its start
 * and the rewrite); any other live holder means another worker runs.
 */
function handOver(spool: Dir, spawn: () => number | undefined): boolean {
  if (!takeLock(spool)) return false;
  const pid = spawn();
  if (pid === undefined) {
    releaseLock(spool);
    return false;
  }
  replaceFile(spool, AHEAD_LOCK, `${pid}\n`);
  return true;
}

export interface AheadOptions extends BatchOptions {
  /** The segment the starting call pushes itself: not pushed twice. */
  skip?: readonly string[];
  /** The pid of the call that started this worker and handed it the lock. */
  lockFrom?: number;
}

/**
 * The worker: while segments wait in `pgWal` without a spool record, push them (each fsynced,
 * no overwrite, the same checks as any push) and write their records; exit after `idleMs` with
 * nothing new. One per spool (a lock file with its pid; a dead holder's lock is taken over).
 * A segment that fails is left to PostgreSQL's own call, which reports why.
 */
export async function pushAhead(repo: string, pgWal: string, opts: AheadOptions = {}): Promise<{ pushed: string[]; failed: string[] }> {
  const systemId = archiveFacts(repo).systemId;
  if (!systemId) return { pushed: [], failed: [] };
  const s = openSpool(repo, systemId);
  const out = { pushed: [] as string[], failed: [] as string[] };
  try {
    if (!takeLock(s.spool, opts.lockFrom)) return out;
    try {
      const idleMs = opts.idleMs ?? envNumber('DBDRILL_WAL_AHEAD_IDLE_MS', 5000);
      const r = await pushReady(repo, pgWal, s.spool, opts, new Set(opts.skip ?? []), idleMs);
      out.pushed.push(...r.pushed);
      out.failed.push(...r.failed);
    } finally {
      releaseLock(s.spool);
    }
  } finally {
    closeSpool(s);
  }
  return out;
}

/**
 * Pushes every waiting segment without a record (and not in `skip`), then records it, and keeps
 * looking for new ones until none came for `idleMs`. A pipeline, not rounds: each of the `parallel` pushers takes the oldest
 * segment nobody holds the moment it is free, so one slow fsync never holds the others back and
 * a segment closed meanwhile starts at once instead of after the round.
 */
async function pushReady(repo: string, pgWal: string, spool: Dir, opts: BatchOptions, skip: ReadonlySet<string>, idleMs: number): Promise<{ pushed: string[]; failed: string[] }> {
  const out = { pushed: [] as string[], failed: [] as string[] };
  /** Pushed, failed or being pushed by this call: never started twice. */
  const taken = new Set<string>();
  const inFlight = new Set<string>();
  let queue: string[] = [];
  let lastWork = Date.now();
  /** The oldest waiting segment nobody took yet; rescans pg_wal when the known ones are taken. */
  const next = (): string | undefined => {
    const pick = () => queue.find((n) => !taken.has(n));
    let name = pick();
    if (name === undefined) {
      const ready = readySegments(pgWal);
      removeStaleRecords(spool, new Set(ready));
      const have = spooled(spool);
      queue = ready.filter((n) => !have.has(n) && !skip.has(n));
      // A worker can live for days: forget names PostgreSQL no longer lists (a failed one that is
      // still listed stays taken, for PostgreSQL's own call to report).
      const listed = new Set(ready);
      for (const n of taken) if (!listed.has(n) && !inFlight.has(n)) taken.delete(n);
      name = pick();
    }
    if (name !== undefined) taken.add(name);
    return name;
  };
  const pusher = async () => {
    for (;;) {
      const name = next();
      if (name === undefined) {
        if (Date.now() - lastWork >= idleMs) return;
        await sleep(20);
        continue;
      }
      inFlight.add(name);
      try {
        const r = await walPush(repo, join(pgWal, name), opts);
        writeRecord(spool, name, r.sha256);
        out.pushed.push(name);
      } catch {
        // Archived and recycled meanwhile, or bad: PostgreSQL's own call for it reports why.
        out.failed.push(name);
      } finally {
        inFlight.delete(name);
      }
      lastWork = Date.now();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? 2) }, pusher));
  return out;
}

function lockHolder(spool: Dir): number | undefined {
  try {
    const pid = Number(readFileSync(spool.at(AHEAD_LOCK), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the worker lock; a lock handed over (this pid, or `lockFrom`'s: the starter) is taken as it is. */
function takeLock(spool: Dir, lockFrom?: number): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(spool.at(AHEAD_LOCK), CREATE_FLAGS, 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = lockHolder(spool);
      if (holder === process.pid || (lockFrom !== undefined && holder === lockFrom)) return true;
      if (aheadRunning(spool)) return false;
      // Left by a worker that was killed: take it over.
      rmSync(spool.at(AHEAD_LOCK), { force: true });
    }
  }
  return false;
}

/** Removes the lock if this process holds it: a successor's lock is not ours to remove. */
function releaseLock(spool: Dir): void {
  const holder = lockHolder(spool);
  if (holder === undefined || holder === process.pid) rmSync(spool.at(AHEAD_LOCK), { force: true });
}

function envNumber(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isSafeInteger(v) && v >= 0 ? v : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
