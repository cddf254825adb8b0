import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { walRoot, type Compression } from './layout.js';
import { spoolPath } from './spool.js';

/** This installation's CLI entry (dist/src/cli/main.js next to this file's dist/src/wal/). */
export function cliEntry(): string {
  return process.env.DBDRILL_ENTRY || fileURLToPath(new URL('../cli/main.js', import.meta.url));
}

/** Quotes for /bin/sh, and doubles % because PostgreSQL expands %p/%f/%% in these commands. */
export function shellArg(s: string): string {
  const quoted = /^[A-Za-z0-9_./=:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
  return quoted.replace(/%/g, '%%');
}

/**
 * archive_command: `node …/main.js wal-push --repo REPO [--compress zstd] %p`. With `batch` (the
 * server's system id), a batching wal-push: a shell test of the spool record answers for
 * segments a previous call already pushed ahead, without starting Node (src/wal/batch.ts).
 */
export function archiveCommand(repo: string, opts: { compress?: Compression; batch?: { systemId: string } } = {}): string {
  const compress = opts.compress ? ` --compress ${opts.compress}` : '';
  const push = `${shellArg(process.execPath)} ${shellArg(cliEntry())} wal-push --repo ${shellArg(repo)}${compress}`;
  if (!opts.batch) return `${push} %p`;
  // While a worker pushes ahead (its lock exists), wait up to two seconds for its record:
  // PostgreSQL asks for a new segment the moment it is closed, a little before the worker has
  // stored it, and the first call of a burst hands the lock to a worker still starting Node.
  const wait = `for i in ${Array.from({ length: 40 }, (_, i) => i + 1).join(' ')}; do sleep 0.05; test -f "$R"/%f && break; done`;
  return `R=${shellArg(spoolPath(repo, opts.batch.systemId))}; test -f "$R"/%f || { test -f "$R"/.ahead.lock && ${wait}; }; test -f "$R"/%f && rm -f "$R"/%f || ${push} --batch %p`;
}

/**
 * restore_command: `node …/main.js wal-fetch --repo REPO %f %p`. A repository without wal/ holds
 * no WAL archive (backups taken without archiving): then `false`, PostgreSQL's "not archived",
 * so that recovering a base backup to its end does not need the server's user to reach a
 * repository that may be root's alone, where wal-fetch would rightly abort on EACCES.
 */
export function restoreCommand(repo: string): string {
  if (!existsSync(walRoot(repo))) return 'false';
  return `${shellArg(process.execPath)} ${shellArg(cliEntry())} wal-fetch --repo ${shellArg(repo)} %f %p`;
}

/**
 * The first directory on the way to `path` that a user (not root, not the owner) cannot enter.
 * archive_command runs as the server's user: node, dbdrill and the repository must be reachable.
 */
export function blockedFor(path: string, uid: number, gid: number): string | undefined {
  // Absolute first: dirname('.') is '.', so a relative path never reached '/' and looped forever.
  for (let p = dirname(resolve(path)); ; p = dirname(p)) {
    const st = statSync(p);
    const ok = (st.mode & 0o001) !== 0 || (st.uid === uid && (st.mode & 0o100) !== 0) || (st.gid === gid && (st.mode & 0o010) !== 0);
    if (!ok) return p;
    if (dirname(p) === p) return undefined;
  }
}
