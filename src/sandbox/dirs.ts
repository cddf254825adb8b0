import {
  chmodSync, chownSync, closeSync, existsSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readSync,
  readdirSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DbdrillError } from '../errors.js';
import type { Account } from './users.js';

/** Every sandbox directory name starts with this, so leftovers are easy to find and attribute. */
export const SANDBOX_PREFIX = 'dbdrill-sandbox-';

/**
 * Written into every instance root. Stop removes a directory named in a JSON file recursively;
 * the marker keeps a damaged or hand-edited file from pointing that at something else.
 */
const MARKER = '.dbdrill-sandbox';

/**
 * The file a restore claims its destination with (src/engines/restore-destination.ts) before a
 * server is set up there: a baseDir holding only it counts as empty.
 */
export const RESTORE_CLAIM = 'dbdrill-restore.json';

/** Where sandboxes go when no baseDir is given; a test run points it at its own directory. */
export const SANDBOX_PARENT_ENV = 'DBDRILL_SANDBOX_PARENT';

export function sandboxParent(): string {
  return process.env[SANDBOX_PARENT_ENV] || tmpdir();
}

/** Creates the instance root (0700, owned by the server's account) and returns its real path. */
export function makeInstanceDir(tag: string, baseDir: string | undefined, account: Account | undefined): string {
  let dir: string;
  if (baseDir === undefined) {
    dir = mkdtempSync(join(sandboxParent(), `${SANDBOX_PREFIX}${tag}-`));
  } else {
    dir = resolve(baseDir);
    if (existsSync(dir) && readdirSync(dir).some((e) => e !== RESTORE_CLAIM)) {
      throw new DbdrillError('sandbox', `The sandbox directory ${dir} is not empty; give an empty or new directory so nothing in it is overwritten.`, { dir });
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, MARKER), 'This directory is a dbdrill sandbox; `dbdrill sandbox stop` removes it.\n', { mode: 0o600 });
  if (account) {
    try {
      assertReachable(dir, account);
    } catch (e) {
      if (baseDir === undefined) rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    chownSync(dir, account.uid, account.gid);
  }
  return dir;
}

/**
 * The server runs as another user and must be able to walk down to its directory. Caught here,
 * a /root/... path gets a sentence instead of initdb's "Permission denied" deep in a log.
 */
function assertReachable(dir: string, account: Account): void {
  for (let p = dirname(dir); ; p = dirname(p)) {
    const st = statSync(p);
    const ok = (st.mode & 0o001) !== 0
      || (st.uid === account.uid && (st.mode & 0o100) !== 0)
      || (st.gid === account.gid && (st.mode & 0o010) !== 0);
    if (!ok) {
      throw new DbdrillError(
        'sandbox',
        `The ${account.name} user cannot reach ${dir} because ${p} is not searchable by it; put the sandbox under a directory others may enter, such as /tmp or /var/tmp.`,
        { dir, blockedAt: p },
      );
    }
    if (p === dirname(p)) return;
  }
}

/** A directory inside the instance root, owned like the root. */
export function makeOwnedDir(path: string, account: Account | undefined): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (account) chownSync(path, account.uid, account.gid);
  return path;
}

/**
 * Gives a tree that something else wrote (a restored backup) dbdrill's modes, 0700 directories
 * and 0600 files, and the server's account as owner. Symbolic links are left as they are.
 */
export function ownTree(root: string, account: Account | undefined): void {
  const walk = (p: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      chmodSync(p, 0o700);
      for (const e of readdirSync(p)) walk(join(p, e));
    } else {
      chmodSync(p, 0o600);
    }
    if (account) chownSync(p, account.uid, account.gid);
  };
  walk(root);
}

/** A 0600 file owned by the server's account (log files, password files). */
export function writeOwnedFile(path: string, content: string, account: Account | undefined): void {
  writeFileSync(path, content, { mode: 0o600, flag: 'a' });
  chmodSync(path, 0o600);
  if (account) chownSync(path, account.uid, account.gid);
}

/** Removes an instance root, but only one that carries the sandbox marker (or is gone already). */
export function removeSandboxDir(dir: string): void {
  if (existsSync(dir) && !existsSync(join(dir, MARKER))) {
    throw new DbdrillError(
      'sandbox',
      `${dir} does not look like a dbdrill sandbox (it has no ${MARKER} file), so it was not removed; check the sandbox description and remove the directory by hand if it really is one.`,
      { dir },
    );
  }
  removeDir(dir);
}

export function removeDir(dir: string): void {
  // A server killed a moment ago may still be finishing a write; one retry covers that.
  rmSync(dir, { recursive: true, force: true, maxRetries: 2, retryDelay: 100 });
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last lines of a log written after `from` (a byte offset), at most the last 16 KiB. */
export function logLinesSince(path: string, from = 0, maxLines = 20): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - 16 * 1024);
    const buf = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8').split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').slice(-maxLines);
  } finally {
    closeSync(fd);
  }
}

/**
 * The few log lines that explain a failed start, for a one-sentence error. The first error line
 * is usually the cause, and PostgreSQL names the detail one line earlier ("invalid value for
 * parameter ..." before "FATAL: configuration file ... contains errors"). Timestamp/pid
 * prefixes are dropped.
 */
export function explainLog(lines: string[], max = 3): string {
  const useful = lines.filter((l) => !/database system is shut down|\[ERROR\] Aborting|\[Note\]/.test(l));
  const first = useful.findIndex((l) => /\b(FATAL|PANIC|ERROR)\b|\[ERROR\]/.test(l));
  const chosen = first < 0 ? useful.slice(-max) : useful.slice(Math.max(0, first - 1), Math.max(0, first - 1) + max);
  return chosen
    .map((l) => l.replace(/^\d{4}-\d\d-\d\d[ T][\d:.]+(?: [A-Z]{2,5})?\s+(?:\[\d+\]\s*)?(?:\d+\s+)?/, '').replace(/\s+/g, ' ').trim())
    .join(' | ');
}
