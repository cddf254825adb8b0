import { isDbdrillError, usage } from '../../errors.js';
import { walFetch, walPush } from '../../wal/archive.js';
import { COMPRESSIONS, type Compression } from '../../wal/layout.js';
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
  if (repo) {
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
  const p = parseCommand(argv, { repo: { type: 'string' }, compress: { type: 'string' } }, PUSH);
  const compress = compressionOf(str(p, 'compress'), PUSH);
  const { repo, rest } = await repoOf(p, 1, PUSH);
  const r = await walPush(repo, rest[0]!, { compress });
  if (p.values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  return 0;
}

export async function walFetchCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { repo: { type: 'string' } }, FETCH);
  const { repo, rest } = await repoOf(p, 2, FETCH);
  try {
    // Not found is routine (recovery probes for files that do not exist): exit 1, say nothing.
    return walFetch(repo, rest[0]!, rest[1]!) ? 0 : 1;
  } catch (e) {
    if (isDbdrillError(e)) throw e;
    process.stderr.write(`dbdrill: could not restore ${rest[0]} from ${repo}: ${(e as Error).message}\n`);
    return 1;
  }
}
