import { hostname } from 'node:os';
import type { BackupOwner, Manifest } from '../repo/manifest.js';
import type { Repository } from '../repo/repository.js';
import { isPidAlive, listProcesses, processStartToken, signalProcess, waitForPidExit } from '../runner/process.js';

/**
 * Backups whose dbdrill process died without a word (kill -9, OOM, a power cut) stay marked
 * running: nothing was left to write "failed". The next backup or catalog of the target on the
 * same host notices, finishes the job the dead process could not (stops its orphaned tool,
 * removes the partial data) and marks the manifest failed, so no one waits for it forever.
 */

export function thisProcessOwner(): BackupOwner {
  const token = processStartToken(process.pid);
  return {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    ...(token ? { processStart: token } : {}),
  };
}

/**
 * True when the owner is provably gone. Another host's process cannot be seen from here, so its
 * backups are never called gone; a live pid with a different start token is a reused pid.
 */
export function ownerGone(owner: BackupOwner | undefined, host = hostname()): boolean {
  if (!owner || owner.host !== host) return false;
  if (!isPidAlive(owner.pid)) return true;
  if (owner.processStart === undefined) return false;
  const now = processStartToken(owner.pid);
  return now !== undefined && now !== owner.processStart;
}

/**
 * Marks every running manifest of `manifests` whose owner is gone as failed, after stopping any
 * tool still writing into its directory (tools run in their own process group, so they outlive a
 * killed dbdrill). Returns the list with those manifests replaced. A repository this user cannot
 * write is left as it is: the catalog then shows such a backup as "interrupted".
 */
export async function reapInterrupted(repo: Repository, manifests: Manifest[], host = hostname()): Promise<{ manifests: Manifest[]; reaped: Manifest[] }> {
  const out: Manifest[] = [];
  const reaped: Manifest[] = [];
  for (const m of manifests) {
    if (m.status !== 'running' || !ownerGone(m.owner, host)) {
      out.push(m);
      continue;
    }
    const { owner, ...rest } = m;
    const stopped = await stopLeftoverTools(repo.backupDir(m.id));
    const failed: Manifest = {
      ...rest,
      status: 'failed',
      files: [],
      sizeBytes: 0,
      error: `interrupted: the dbdrill process ${owner!.pid} on ${owner!.host} is gone${stopped.length ? `; its leftover ${stopped.join(', ')} ${stopped.length > 1 ? 'were' : 'was'} stopped` : ''}`,
    };
    try {
      repo.quarantine(m.id);
      repo.writeManifest(failed);
      out.push(failed);
      reaped.push(failed);
    } catch {
      out.push(m);
    }
  }
  return { manifests: out, reaped };
}

/** Kills the processes whose command line names the backup's directory; returns "name (pid N)" for each. */
async function stopLeftoverTools(dir: string): Promise<string[]> {
  const needle = `${dir}/`;
  const found = listProcesses().filter((p) => p.pid !== process.pid && p.commandLine.includes(needle));
  for (const p of found) signalProcess(p.pid, 'SIGKILL', { tree: true });
  await Promise.all(found.map((p) => waitForPidExit(p.pid, 5_000)));
  return found.map((p) => `${p.name} (pid ${p.pid})`);
}
