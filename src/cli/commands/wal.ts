import { isDbdrillError, usage } from '../../errors.js';
import { walPush } from '../../wal/archive.js';
import { FETCH_FATAL_EXIT, walFetch } from '../../wal/fetch.js';
import { COMPRESSIONS, type Compression } from '../../wal/layout.js';
import { ArchiveFault } from '../../wal/stored.js';
import { parseCommand, str, type Parsed } from '../args.js';
import { usageLine } from '../command-table.js';

const PUSH = usageLine('wal-push');
const FETCH = usageLine('wal-fetch');

/**
 * The repository from --repo (what `archiving enable` writes into archive_command, so the server's
 * own user needs no access to dbdrill's config) or from a target's config.
 */
async function repoOf(p: Parsed, need: number, line: string): Promise<{ repo: string; rest: string[] }> {
  const repo = str(p, 'repo');
  if (repo !== undefined) {
    if (repo === '') throw usage(`--repo is empty; usage: ${line}.`);
    if (p.positionals.length !== need) throw usage(`Expected ${need} argument(s) after --repo; usage: ${line}.`);
    return { repo, rest: p.positionals };
  }
  if (p.positionals.length !== need + 1) throw usage(`Wrong number of arguments; usage: ${line}.`);
  const { TargetStore } = await import('../../config/store.js');
  const { resolveConfigDir } = await import('../../config/paths.js');
  const target = new TargetStore(resolveConfigDir(str(p, 'config'))).get(p.positionals[0]!);
  return { repo: target.repo, rest: p.positionals.slice(1) };
}

/** --compress zstd|none; none (the default) stores segments as they are. */
export function compressionOf(value: string | undefined, line: string): Compression | undefined {
  if (value === undefined || value === 'none') return undefined;
  if ((COMPRESSIONS as readonly string[]).includes(value)) return value as Compression;
  throw usage(`--compress "${value}" is not supported; use --compress zstd or --compress none; usage: ${line}.`);
}

export async function walPushCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { repo: { type: 'string' }, compress: { type: 'string' }, 'allow-root': { type: 'boolean' }, batch: { type: 'boolean' }, ahead: { type: 'string' }, skip: { type: 'string' }, 'lock-from': { type: 'string' } }, PUSH);
  const compress = compressionOf(str(p, 'compress'), PUSH);
  const ahead = str(p, 'ahead');
  if (ahead !== undefined) {
    // The worker a batching call starts (src/wal/batch.ts): --ahead PG_WAL_DIR [--skip SEGMENT]
    // [--lock-from PID], no %p.
    const repo = str(p, 'repo');
    if (!repo || p.positionals.length !== 0) throw usage(`--ahead takes the pg_wal directory and --repo, nothing else; usage: ${PUSH}.`);
    const skip = str(p, 'skip');
    const lockFrom = Number(str(p, 'lock-from'));
    const { pushAhead } = await import('../../wal/batch.js');
    const r = await pushAhead(repo, ahead, { compress, ...(skip ? { skip: [skip] } : {}), ...(Number.isSafeInteger(lockFrom) && lockFrom > 0 ? { lockFrom } : {}) });
    if (p.values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  }
  const { repo, rest } = await repoOf(p, 1, PUSH);
  const opts = { compress, allowRoot: p.values['allow-root'] === true };
  if (p.values.batch === true) {
    // Loaded only for batching calls: the plain path stays as lean as it was.
    const { walPushBatch } = await import('../../wal/batch.js');
    const b = await walPushBatch(repo, rest[0]!, opts);
    if (p.values.json) process.stdout.write(`${JSON.stringify(b)}\n`);
    return 0;
  }
  const r = await walPush(repo, rest[0]!, opts);
  if (p.values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  return 0;
}

/**
 * restore_command's contract: 0 fetched and checked, 1 only for "not archived" (PostgreSQL's
 * end of the archive, so it says nothing), FETCH_FATAL_EXIT with one sentence for everything
 * else, usage errors included: a restore_command that cannot work must stop recovery, not end it.
 */
export async function walFetchCommand(argv: string[]): Promise<number> {
  let name = '';
  try {
    const p = parseCommand(argv, { repo: { type: 'string' }, 'pgbackrest-archive': { type: 'string' } }, FETCH);
    const { repo, rest } = await repoOf(p, 2, FETCH);
    name = rest[0]!;
    const pgbackrestArchive = str(p, 'pgbackrest-archive');
    if (pgbackrestArchive !== undefined) {
      // After pgBackRest's archive-get found nothing (a streamed pgBackRest target's restore_command):
      // only the stream's .partial, loaded on this path alone.
      if (pgbackrestArchive === '') throw usage(`--pgbackrest-archive is empty; usage: ${FETCH}.`);
      const { fetchStreamTail } = await import('../../engines/postgres/pgbackrest/stream-tail.js');
      return (await fetchStreamTail(repo, pgbackrestArchive, name, rest[1]!)) ? 0 : 1;
    }
    return (await walFetch(repo, name, rest[1]!)) ? 0 : 1;
  } catch (e) {
    let sentence: string;
    if (e instanceof ArchiveFault) sentence = e.forRecovery();
    else if (isDbdrillError(e)) sentence = name ? `${name} cannot be restored: ${e.message.replace(/\.$/, '')}; recovery stops here instead of ending early.` : e.message;
    else sentence = `${name || 'the WAL file'} cannot be restored: ${(e as Error)?.message ?? String(e)}; recovery stops here instead of ending early (this is a bug; rerun with DBDRILL_DEBUG=1 and report it).`;
    process.stderr.write(`dbdrill wal-fetch: ${sentence}\n`);
    if (!isDbdrillError(e) && process.env.DBDRILL_DEBUG && (e as Error)?.stack) process.stderr.write(`${(e as Error).stack}\n`);
    return FETCH_FATAL_EXIT;
  }
}
