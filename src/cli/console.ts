import { tmpdir } from 'node:os';
import type { ConsoleApi, RestoreRequest, TargetRow } from '../../screens/api.js';
import { formatDuration } from '../config/duration.js';
import { resolveConfigDir } from '../config/paths.js';
import { TargetStore } from '../config/store.js';
import { startBackup } from '../ops/backup.js';
import { entryOf, readCatalog } from '../ops/catalog.js';
import { mapJob, startJob, type Job } from '../ops/job.js';
import { readWindow, startPitrRestore, type PitrReport } from '../ops/pitr.js';
import { startNamedSandbox } from '../ops/sandbox.js';
import { listTargets } from '../ops/targets.js';
import { startVerify } from '../ops/verify.js';
import { parseRestoreTarget } from '../pitr/time.js';
import { Repository } from '../repo/repository.js';
import { freePort } from '../sandbox/ports.js';
import { version } from '../version.js';

/**
 * A job that cannot even start (unknown target, a time that does not parse) still reports through
 * the same Job, so the screen shows its one sentence where the run would have been.
 */
function jobOrFailure<R>(start: () => Job<R>): Job<R> {
  try {
    return start();
  } catch (e) {
    return startJob<R>(() => Promise.reject(e));
  }
}

/** The engine as the console sees it: every screen action is one of these calls into src/ops. */
export function createConsoleApi(configDir: string): ConsoleApi {
  const pitr = (name: string, req: RestoreRequest, dryRun: boolean): Job<PitrReport> =>
    jobOrFailure(() =>
      startPitrRestore(configDir, name, {
        target: parseRestoreTarget({ to: req.to }),
        into: req.into,
        port: req.port,
        ...(req.backup !== undefined ? { backup: req.backup } : {}),
        dryRun,
      }),
    );
  return {
    configDir,
    version: version(),
    tempDir: tmpdir(),
    async listTargets(): Promise<TargetRow[]> {
      return listTargets(configDir).map((t) => {
        const row: TargetRow = { ...t };
        const newest = new Repository(t.repo).catalog().manifests.map((m) => entryOf(m)).find((e) => e.status === 'complete');
        if (newest) row.newestBackupAge = formatDuration((Date.now() - Date.parse(newest.startedAt)) / 1000);
        return row;
      });
    },
    startSandbox() {
      return mapJob(startNamedSandbox(configDir, 'postgres'), (r) => r.target);
    },
    async listBackups(name) {
      return readCatalog(configDir, name);
    },
    async readManifest(name, id) {
      const target = new TargetStore(configDir).get(name);
      return new Repository(target.repo).readManifest(id);
    },
    startBackup(name, kind) {
      // Interactive: someone is watching, so a fast checkpoint (DESIGN: "Restore pitfalls").
      return jobOrFailure(() => startBackup(configDir, name, { kind, type: 'full', jobs: 1, checkpoint: 'fast' }));
    },
    startVerify(name, id, restore) {
      return jobOrFailure(() => startVerify(configDir, name, { backup: id, restore }));
    },
    async readWindow(name) {
      const { target: _t, ...w } = await readWindow(configDir, name);
      return w;
    },
    planRestore: (name, req) => pitr(name, req, true),
    startRestore: (name, req) => pitr(name, req, false),
    freePort,
  };
}

export async function openConsole(configFlag: string | undefined): Promise<number> {
  const configDir = resolveConfigDir(configFlag);
  // Ink renders nothing but the last frame when it believes it runs in CI (is-in-ci reads CI at
  // import). The console only opens when stdin and stdout are terminals: someone is watching.
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  const { runConsole } = await import('../../screens/render.js');
  await runConsole({ api: createConsoleApi(configDir) });
  return 0;
}
