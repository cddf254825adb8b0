import { isDbdrillError } from '../../../errors.js';
import { runTool, type RunEvent, type RunResult, type RunSpec } from '../../../runner/run.js';
import type { Secret } from '../../../runner/secrets.js';
import type { Tool } from '../../../runner/tools.js';
import { explainFailure } from './errors.js';
import type { PgbackrestLayout } from './layout.js';

/** Everything needed to run pgBackRest for one target. */
export interface Pgbackrest {
  tool: Tool;
  stanza: string;
  layout: PgbackrestLayout;
  /** Set when dbdrill runs as root: pgBackRest runs as the data directory's owner. */
  runAs?: { uid: number; gid: number };
  /** The database password (libpq reads PGPASSWORD) for the commands that connect. */
  secret?: Secret;
  /** The repository cipher pass, handed over as PGBACKREST_REPO1_CIPHER_PASS. */
  cipherPass?: string;
  /** Where the pass is kept, for the commands the server runs (archive_command, restore_command). */
  cipherSource?: CipherSource;
}

/** The target's cipher pass: the first line of a file, or an environment variable. */
export type CipherSource = { file: string } | { env: string };

/**
 * The options every invocation starts with. The config file and an include directory of our own
 * are both named, so nothing from /etc/pgbackrest.conf or /etc/pgbackrest/conf.d can slip in.
 */
export function commonArgs(pb: Pick<Pgbackrest, 'layout' | 'stanza'>): string[] {
  return [`--config=${pb.layout.confFile}`, `--config-include-path=${pb.layout.includeDir}`, `--stanza=${pb.stanza}`];
}

/**
 * The child's environment additions. pgBackRest takes any PGBACKREST_* variable as an option
 * that wins over the config file, so ones inherited from dbdrill's own environment (a stray
 * PGBACKREST_REPO1_PATH would send a backup elsewhere) are removed; undefined removes a variable.
 */
export function childEnv(pb: Pick<Pgbackrest, 'cipherPass'>, inherited: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(inherited)) if (key.startsWith('PGBACKREST_')) env[key] = undefined;
  if (pb.cipherPass !== undefined) env.PGBACKREST_REPO1_CIPHER_PASS = pb.cipherPass;
  // English messages and UTC log times whatever the operator's locale.
  env.LC_ALL = 'C';
  env.TZ = 'UTC';
  return env;
}

export interface PgbackrestRun {
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  capture?: boolean;
  okExitCodes?: number[];
  /** Extra environment (on top of childEnv). */
  env?: Record<string, string | undefined>;
  stdout?: RunSpec['stdout'];
  /** Arguments after the command (archive-get's segment and destination). */
  positional?: string[];
}

/**
 * Runs `pgbackrest <common options> <args> <command> [positional]` as the right user with the secrets in its
 * environment, and turns a failure into one sentence (errors.ts) instead of pgBackRest's
 * multi-line error.
 */
export async function runPgbackrest(pb: Pgbackrest, command: string, args: string[], run: PgbackrestRun = {}): Promise<RunResult> {
  const argv = [...commonArgs(pb), ...args, command, ...(run.positional ?? [])];
  try {
    return await runTool({
      tool: pb.tool,
      args: argv,
      env: { ...childEnv(pb), ...run.env },
      secret: pb.secret,
      // The run-as user may not be able to enter dbdrill's working directory.
      cwd: pb.layout.stateDir,
      uid: pb.runAs?.uid,
      gid: pb.runAs?.gid,
      signal: run.signal,
      onEvent: run.onEvent,
      capture: run.capture,
      okExitCodes: run.okExitCodes,
      stdout: run.stdout,
      tailLines: 400,
    });
  } catch (e) {
    if (isDbdrillError(e) && e.code === 'tool-failed') {
      const lines = (e.detail?.stderrTail as string[] | undefined) ?? [];
      throw explainFailure(pb, command, lines, e.detail?.exitCode as number | undefined) ?? e;
    }
    throw e;
  }
}
