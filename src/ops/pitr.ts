import { TargetStore } from '../config/store.js';
import { engineFor, secondNotFor } from '../engines/registry.js';
import type { PitrReport, PitrRequest } from '../engines/restore-types.js';
import { invalid } from '../errors.js';
import type { RecoverableWindow } from '../pitr/window.js';
import { startJob, type Job } from './job.js';
import { recordRestoredServer, restoredServerName } from './restored-servers.js';
import { resolve } from 'node:path';

export type { PitrReport, PitrRequest } from '../engines/restore-types.js';

export async function readWindow(configDir: string, name: string): Promise<RecoverableWindow & { target: string }> {
  const target = new TargetStore(configDir).get(name);
  return { target: target.name, ...(await (await engineFor(target)).readWindow(target)) };
}

/**
 * Point-in-time restore into a new directory and port (see EngineModule.pointInTimeRestore): the
 * plan refuses unsafe targets before anything is written; the source server is never contacted.
 */
export function startPitrRestore(configDir: string, name: string, req: PitrRequest, signal?: AbortSignal): Job<PitrReport> {
  const stored = new TargetStore(configDir).get(name);
  // --from COPY: backups and WAL are read from the copy fetched into a temp repository.
  const target = req.repo ? { ...stored, repo: req.repo } : stored;
  const refused = req.second !== undefined ? secondNotFor(target) : undefined;
  if (refused) throw invalid(refused);
  // Named after what it is (ps shows it), and recorded once it runs: the console lists and stops
  // it, and sandbox stop finds what the sandbox's restores left.
  const serverName = req.serverName ?? restoredServerName(stored.name, req.target);
  return startJob(async (ctx) => {
    const report = await (await engineFor(target)).pointInTimeRestore(ctx, target, { ...req, serverName });
    recordRestoredServer(configDir, serverName, report, resolve(req.into), describeTarget(req));
    return report;
  }, signal);
}

function describeTarget(req: PitrRequest): string {
  const t = req.target;
  return t.kind === 'time' ? t.at.toISOString() : t.kind;
}
