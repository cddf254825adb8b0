import type { ConsoleApi, TargetRow } from '../../screens/api.js';
import { formatDuration } from '../config/duration.js';
import { resolveConfigDir } from '../config/paths.js';
import { mapJob } from '../ops/job.js';
import { entryOf } from '../ops/catalog.js';
import { startNamedSandbox } from '../ops/sandbox.js';
import { listTargets } from '../ops/targets.js';
import { Repository } from '../repo/repository.js';
import { version } from '../version.js';

/** The engine as the console sees it: every screen action is one of these calls into src/ops. */
export function createConsoleApi(configDir: string): ConsoleApi {
  return {
    configDir,
    version: version(),
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
