import { runTool } from '../../runner/run.js';
import { findTool, type Tool } from '../../runner/tools.js';
import { parseClientVersion } from './dump-args.js';

/**
 * mariadb-backup (or its old name) and the MariaDB release it was built from: the tool reads and
 * prepares only its own series' InnoDB files, and its first --version line names the server
 * release ("based on MariaDB server 10.11.18-MariaDB"), which the generic lookup may not parse.
 */
export async function findBackupTool(signal?: AbortSignal): Promise<{ tool: Tool; version: string }> {
  const tool = await findTool(['mariadb-backup', 'mariabackup']);
  const said = await runTool({ tool, args: ['--version'], capture: true, ...(signal ? { signal } : {}), timeoutMs: 10_000 });
  return { tool, version: parseClientVersion(`${said.stdout}\n${said.stderrTail.join('\n')}`)?.version ?? tool.version };
}
