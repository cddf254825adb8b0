import { DbdrillError, invalid } from '../../../errors.js';
import type { ToolRecord } from '../../backup-result.js';
import type { EngineContext } from '../../context.js';
import { forwardToolEvents } from '../../tool-events.js';
import { backupRow, type PgbackrestBackupRow } from './catalog.js';
import { currentDb, type StanzaInfo } from './info.js';
import { commonArgs, runPgbackrest, type Pgbackrest } from './command.js';
import { CopyProgress, parseOutputLine, PHASE_WORDS } from './output.js';
import { checkStanzaSystem, readStanzaInfo } from './stanza.js';

export type PgbackrestBackupType = 'full' | 'diff' | 'incr';

export interface PgbackrestBackupOptions {
  type: PgbackrestBackupType;
  /** Overrides the conf's start-fast for this run. */
  checkpoint?: 'fast' | 'spread';
  /** `backup --jobs N`: pgBackRest's process-max for this run (the conf's otherwise). */
  processMax?: number;
  /**
   * dbdrill's connect step, run beside pgBackRest: when it fails, or finds a cluster other than
   * the stanza's, pgBackRest is stopped and that is the sentence reported.
   */
  server?: Promise<{ systemId: string }>;
  /** `pgbackrest info` before the backup, when it was already started (while dbdrill connected). */
  before?: Promise<StanzaInfo | undefined>;
  /** Told the argv (no secret in it) before pgBackRest starts, so a failed run still records it. */
  recordTool?: (tool: ToolRecord) => void;
}

export interface PgbackrestBackupOutcome {
  label: string;
  row: PgbackrestBackupRow;
  tool: ToolRecord;
}

/** The argv after the common options: type, checkpoint and per-file lines for progress. */
export function backupArgs(opts: Pick<PgbackrestBackupOptions, 'type' | 'checkpoint' | 'processMax'>): string[] {
  return [
    `--type=${opts.type}`,
    ...(opts.processMax !== undefined ? [`--process-max=${opts.processMax}`] : []),
    ...(opts.checkpoint === 'fast' ? ['--start-fast'] : opts.checkpoint === 'spread' ? ['--no-start-fast'] : []),
    '--log-level-console=detail',
  ];
}

/**
 * One pgBackRest backup with live progress, returned as its catalog row. A diff or incr with no
 * full to build on is refused before anything runs: pgBackRest would silently take a full
 * instead, which costs a full's time and space on a schedule that planned for an incr.
 */
export async function pgbackrestBackup(ctx: EngineContext, pb: Pgbackrest, targetName: string, opts: PgbackrestBackupOptions): Promise<PgbackrestBackupOutcome> {
  const reading = opts.before ?? readStanzaInfo(pb, ctx.signal);
  reading.catch(() => undefined);
  // A full needs the catalog only for checks pgBackRest makes too (the stanza, its cluster), so
  // it starts at once and they run beside it; a diff or incr needs its full first.
  if (opts.type !== 'full') {
    const before = requireStanza(pb, await ctx.step('read catalog', () => reading));
    const db = currentDb(before)?.id;
    if (!before.backup.some((b) => b.type === 'full' && b.database.id === db)) {
      throw invalid(`There is no full pgBackRest backup of "${targetName}" for ${opts.type === 'incr' ? 'an incr' : 'a diff'} to build on; take one with --type full first.`, { type: opts.type });
    }
  }

  const args = backupArgs(opts);
  const tool: ToolRecord = { name: 'pgbackrest', version: pb.tool.version, argv: [pb.tool.path, ...commonArgs(pb), ...args, 'backup'] };
  opts.recordTool?.(tool);
  const copy = new CopyProgress();
  let label: string | undefined;
  const stop = new AbortController();
  let refused: unknown;
  const checked = Promise.all([reading, opts.server])
    .then(([info, server]) => {
      requireStanza(pb, info);
      if (server) checkStanzaSystem(pb, info, server.systemId);
    })
    .catch((e: unknown) => {
      refused = e;
      stop.abort('the checks beside it failed');
    });
  const run = ctx.step(`${opts.type} backup`, () =>
    runPgbackrest(pb, 'backup', args, {
      signal: AbortSignal.any([ctx.signal, stop.signal]),
      onEvent: forwardToolEvents(ctx, (e) => {
        if (e.type !== 'line') return;
        const line = parseOutputLine(e.text);
        if (line.kind === 'phase') ctx.emit({ type: 'progress', phase: PHASE_WORDS[line.phase] });
        else if (line.kind === 'file') ctx.emit({ type: 'progress', phase: 'copying', unit: 'bytes', ...copy.update(line, performance.now()) });
        else if (line.kind === 'label') label = line.label;
        else if (line.kind === 'changed-to-full') ctx.emit({ type: 'log', level: 'warn', text: `pgBackRest took a full backup instead of the ${line.asked} asked for: ${line.why}` });
      }),
    }),
  );
  // pgBackRest's own failure is reported only once the checks beside it had their say: a server
  // that cannot be reached, no stanza, or another cluster's, is the sentence that explains it.
  const failed = await run.then(
    () => undefined,
    (e: unknown) => ({ e }),
  );
  await checked;
  if (refused !== undefined) throw refused;
  if (failed) throw failed.e;
  if (!label) throw new DbdrillError('failed', `pgbackrest backup of stanza "${pb.stanza}" ended without naming the new backup set; see pgbackrest info.`);
  const after = await readStanzaInfo(pb, ctx.signal);
  const set = after?.backup.find((b) => b.label === label);
  if (!after || !set) throw new DbdrillError('failed', `pgBackRest reported backup set ${label}, but pgbackrest info does not list it.`, { label });
  return { label, row: backupRow(set, after, targetName), tool };
}

function requireStanza(pb: Pgbackrest, info: StanzaInfo | undefined): StanzaInfo {
  if (!info) throw invalid(`The pgBackRest stanza "${pb.stanza}" does not exist in ${pb.layout.repoPath} yet; create it (stanza-create) before the first backup.`);
  return info;
}
