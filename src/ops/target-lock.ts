import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BackupOwner } from '../repo/manifest.js';
import { fsyncDir } from '../repo/atomic.js';
import { ownerGone, thisProcessOwner } from './interrupted.js';

/**
 * One scheduled job (or prune) per target at a time: <repo>/runs/lock.json, created with O_EXCL,
 * holding the owner's pid, host and process start token. A holder that is gone (kill -9, OOM, a
 * reboot: ownerGone, as for interrupted backups) leaves a stale file that the next taker breaks,
 * so a killed run never leaves the target stuck. Breaking renames the file aside and checks by
 * inode that it moved the stale file and not a fresh one another taker had just created.
 */
export interface LockHolder extends BackupOwner {
  /** What the holder runs: "tick full", "prune". */
  job: string;
  since: string;
}

export type LockResult = { ok: true; release: () => void } | { ok: false; holder?: LockHolder };

/** A lock file whose owner was never written (a crash between create and write) is stale after this. */
const UNWRITTEN_STALE_MS = 60_000;

export function lockPath(repo: string): string {
  return join(repo, 'runs', 'lock.json');
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? (v as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** Who holds the target's lock now, if anyone alive does. */
export function lockHolder(repo: string): LockHolder | undefined {
  const h = readHolder(lockPath(repo));
  return h && !ownerGone(h) ? h : undefined;
}

export function tryLock(repo: string, job: string): LockResult {
  const path = lockPath(repo);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const me: LockHolder = { ...thisProcessOwner(), job, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const broke = breakIfStale(path);
      if (broke === 'busy') return { ok: false, holder: readHolder(path) };
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    fsyncDir(dirname(path));
    const ino = lstatSync(path).ino;
    return {
      ok: true,
      release: () => {
        // Only our own file: a lock someone broke and took over after we vanished is theirs.
        try {
          if (lstatSync(path).ino === ino) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      },
    };
  }
  return { ok: false, holder: readHolder(path) };
}

function breakIfStale(path: string): 'broken' | 'busy' | 'gone' {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 'gone';
  }
  const holder = readHolder(path);
  if (holder ? !ownerGone(holder) : Date.now() - st.mtimeMs < UNWRITTEN_STALE_MS) return 'busy';
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return 'gone';
  }
  if (lstatSync(aside).ino !== st.ino) {
    // Another taker broke the stale lock and took it between our look and our rename: give it back.
    try {
      linkSync(aside, path);
    } catch {
      // a third taker holds it now; theirs stands
    }
    rmSync(aside, { force: true });
    return 'busy';
  }
  rmSync(aside, { force: true });
  return 'broken';
}
