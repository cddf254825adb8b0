import { runTool, type RunResult } from '../runner/run.js';
import { findTool } from '../runner/tools.js';
import { DbdrillError, isDbdrillError } from '../errors.js';

/**
 * rclone, the one way dbdrill reaches a remote (SFTP, S3, GCS, Azure, …): through the project's
 * spawner (runTool), with the config file given by path (--config), never a secret in argv.
 */
export interface RcloneSpec {
  remote: string;
  path: string;
  config?: string;
}

export function remoteRoot(r: RcloneSpec): string {
  return `${r.remote}:${r.path}`;
}

export async function rclone(r: Pick<RcloneSpec, 'config'>, args: string[], opts: { signal?: AbortSignal; capture?: boolean; okExitCodes?: number[] } = {}): Promise<RunResult> {
  const tool = await findTool('rclone');
  const base = [...(r.config ? ['--config', r.config] : []), '--retries', '2', '--low-level-retries', '3', '--contimeout', '15s', '--timeout', '60s'];
  try {
    return await runTool({ tool, args: [...args.slice(0, 1), ...base, ...args.slice(1)], capture: opts.capture ?? false, signal: opts.signal, okExitCodes: opts.okExitCodes });
  } catch (e) {
    if (isDbdrillError(e) && e.code === 'tool-failed') {
      throw new DbdrillError('failed', `rclone ${args[0]} on ${args.find((a) => a.includes(':')) ?? 'the remote'} failed: ${lastLine(e.message)}`);
    }
    throw e;
  }
}

function lastLine(message: string): string {
  return message.replace(/\s+/g, ' ').slice(0, 400);
}

/** The remotes an rclone config defines (`listremotes`), without the trailing colon. */
export async function listRemotes(config: string | undefined): Promise<string[]> {
  const r = await rclone({ config }, ['listremotes'], { capture: true });
  return r.stdout.split('\n').map((l) => l.trim().replace(/:$/, '')).filter(Boolean);
}

/**
 * sha256 of files on the remote: hashed there when the backend can (local, S3 with metadata, …),
 * otherwise by downloading them (`--download`, e.g. SFTP in rclone 1.60 has only md5/sha1).
 */
export async function remoteSha256(r: RcloneSpec, listFile: string, signal?: AbortSignal): Promise<{ sums: Map<string, string>; how: 'remote' | 'download' }> {
  const args = ['hashsum', 'sha256', '--files-from', listFile, remoteRoot(r)];
  let out: RunResult | undefined;
  let how: 'remote' | 'download' = 'remote';
  try {
    out = await rclone(r, args, { capture: true, signal });
  } catch (e) {
    if (isDbdrillError(e) && e.code === 'aborted') throw e;
    out = undefined;
  }
  let sums = out ? parseHashsum(out.stdout) : new Map<string, string>();
  if (!out || [...sums.values()].some((h) => !/^[0-9a-f]{64}$/.test(h)) || sums.size === 0) {
    how = 'download';
    out = await rclone(r, [...args.slice(0, 2), '--download', ...args.slice(2)], { capture: true, signal });
    sums = parseHashsum(out.stdout);
  }
  return { sums, how };
}

/** `rclone hashsum` lines: "<hash>  <path>"; an unsupported hash shows as spaces or UNSUPPORTED. */
export function parseHashsum(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const hit = /^(\S*)\s{2,}(\S.*)$/.exec(line);
    if (hit) m.set(hit[2]!, hit[1]!.toLowerCase());
  }
  return m;
}
