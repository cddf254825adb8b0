import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { decryptFailure } from '../crypto/age-args.js';
import { repositoryIdentity } from '../crypto/identity.js';
import { DbdrillError, isDbdrillError } from '../errors.js';
import { filterStream } from '../runner/filter.js';
import { findTool } from '../runner/tools.js';
import { binlogRoot, sizeProblem, type ArchivedBinlog } from './archive.js';
import { BinlogWalker, type BinlogEvent, type BinlogScan } from './events.js';

/**
 * Archived binlogs of an encrypted repository: each file is age ciphertext under the binlog's own
 * name, and its index entry keeps the ciphertext's size and sha256 (checked without a key) beside
 * `plain`, the binlog's own (checked when it is decrypted). Times, transactions and the server
 * come from the plain bytes as binlog-sync encrypted them, so window, catalog and health read the
 * index and need no key; only reading events again (replay, GTID and position lookups, commit
 * moments) does.
 */
export function isSealed(entry: ArchivedBinlog): boolean {
  return entry.plain !== undefined;
}

/** An encrypted binlog is needed and no identity was given. */
export function binlogNeedsKey(file: string): DbdrillError {
  return new DbdrillError('failed', `The archived binlog ${file} is encrypted with age; give --identity FILE (or DBDRILL_AGE_IDENTITY) with the private key matching the target's --encrypt-to recipient.`, { file });
}

/**
 * Reads an archived binlog's plain bytes into `use` (chunk by chunk), decrypting an encrypted one
 * through `age -d -i IDENTITY` (by path only). Returns why the file cannot be trusted — stored
 * size or sha256 differs from the index, age could not decrypt it, or the plain bytes differ from
 * the plain sums — or undefined when it is intact. The stored hash is the ciphertext's.
 */
export async function readArchivedPlain(
  repo: string,
  entry: ArchivedBinlog,
  use: (chunk: Buffer) => void,
  signal?: AbortSignal,
): Promise<{ problem?: string; storedSha256: string; storedBytes: number; plainBytes: number }> {
  const path = join(binlogRoot(repo), entry.file);
  const stored = createHash('sha256');
  let storedBytes = 0;
  if (!isSealed(entry)) {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) {
      stored.update(chunk as Buffer);
      storedBytes += (chunk as Buffer).length;
      use(chunk as Buffer);
    }
    const storedSha256 = stored.digest('hex');
    const problem = storedProblem(entry, storedBytes, storedSha256);
    return { ...(problem ? { problem } : {}), storedSha256, storedBytes, plainBytes: storedBytes };
  }
  const count = new Transform({
    transform(chunk: Buffer, _e, done) {
      stored.update(chunk);
      storedBytes += chunk.length;
      done(null, chunk);
    },
  });
  const identity = repositoryIdentity();
  if (!identity) throw binlogNeedsKey(entry.file);
  const age = await findTool('age');
  const source = createReadStream(path, { highWaterMark: 1 << 20, signal });
  source.pipe(count);
  source.once('error', (e) => count.destroy(e));
  const filter = filterStream({ tool: age, args: ['-d', '-i', identity] }, count, signal);
  const plain = createHash('sha256');
  let plainBytes = 0;
  for await (const chunk of filter.output) {
    plain.update(chunk as Buffer);
    plainBytes += (chunk as Buffer).length;
    use(chunk as Buffer);
  }
  let ageProblem: string | undefined;
  try {
    await filter.done;
  } catch (e) {
    if (!(isDbdrillError(e) && e.code === 'tool-failed')) throw e;
    ageProblem = `it could not be decrypted: ${decryptFailure(e.message, identity)}`;
  }
  const storedSha256 = stored.digest('hex');
  const want = entry.plain!;
  const plainSha = plain.digest('hex');
  const problem =
    storedProblem(entry, storedBytes, storedSha256) ??
    ageProblem ??
    (plainBytes !== want.bytes || plainSha !== want.sha256
      ? `it decrypts to ${plainBytes} bytes with sha256 ${plainSha}, not the ${want.bytes} bytes with sha256 ${want.sha256} recorded when it was archived`
      : undefined);
  return { ...(problem ? { problem } : {}), storedSha256, storedBytes, plainBytes };
}

/**
 * An encrypted binlog's ciphertext against its index entry, without the key (verify): a flipped
 * byte at rest is found and named; whether the events inside are whole needs the identity.
 */
export async function checkSealedStored(repo: string, entry: ArchivedBinlog, signal?: AbortSignal): Promise<string | undefined> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(join(binlogRoot(repo), entry.file), { highWaterMark: 1 << 20, signal })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return storedProblem(entry, bytes, hash.digest('hex'));
}

/** The stored bytes against the index: size first (cut short or grown), then sha256. */
function storedProblem(entry: ArchivedBinlog, bytes: number, sha256: string): string | undefined {
  if (bytes !== entry.size) return sizeProblem(bytes, entry.size);
  if (entry.sha256 !== undefined && entry.sha256 !== sha256) return `its sha256 ${sha256} differs from the one recorded when it was archived, ${entry.sha256}`;
  return undefined;
}

/**
 * Decrypts archived binlogs for a replay into `dir` (the restore's own scratch directory, 0700):
 * mariadb-binlog reads files by name, with --start-position in the first and --stop-position in
 * the last. Each is checked on the way; a damaged one stops the restore, named.
 */
export async function decryptBinlogInto(repo: string, entry: ArchivedBinlog, dir: string, signal?: AbortSignal): Promise<string> {
  const dest = join(dir, entry.file);
  // Written synchronously chunk by chunk: age's output waits for the disk, never piles up in memory.
  const fd = openSync(dest, 'wx', 0o600);
  let r: Awaited<ReturnType<typeof readArchivedPlain>>;
  try {
    r = await readArchivedPlain(repo, entry, (c) => writeSync(fd, c), signal);
  } finally {
    closeSync(fd);
  }
  if (r.problem) throw new DbdrillError('failed', `The archived binlog ${entry.file} is damaged (${r.problem}); the restore stopped before replaying it.`, { file: entry.file });
  return dest;
}

/** scanBinlogFile for an archived binlog, decrypting an encrypted one on the way. */
export async function scanArchived(repo: string, entry: ArchivedBinlog, signal?: AbortSignal, onEvent?: (e: BinlogEvent) => void): Promise<BinlogScan> {
  const w = new BinlogWalker(onEvent);
  const r = await readArchivedPlain(repo, entry, (c) => w.push(c), signal);
  if (r.problem && isSealed(entry)) throw new DbdrillError('failed', `The archived binlog ${entry.file} is damaged (${r.problem}); put an intact copy back (dbdrill binlog-sync copies it again while the server still has it).`, { file: entry.file });
  return w.result();
}
