import type { Target } from '../../config/target.js';
import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';
import type { EngineContext } from '../context.js';
import { forwardToolEvents } from '../tool-events.js';
import { pgConnArgs, pgSecret } from './connection-args.js';
import type { CheckOutcome } from './verify.js';

/** pg_amcheck over every table and B-tree index of a restored database (installs amcheck there). */
export async function runAmcheck(ctx: EngineContext, target: Target, dbname: string, serverVersion: string): Promise<CheckOutcome> {
  const tool = await findTool('pg_amcheck', { serverMajor: Number(serverVersion.split('.')[0]), serverVersion });
  const r = await runTool({
    tool,
    args: [...pgConnArgs(target), '--install-missing', '--heapallindexed', '--database', dbname],
    secret: pgSecret(target),
    signal: ctx.signal,
    okExitCodes: [0, 2],
    onEvent: forwardToolEvents(ctx),
  });
  return r.exitCode === 0
    ? { method: 'pg_amcheck', ok: true, detail: 'no corruption found in tables and indexes' }
    : { method: 'pg_amcheck', ok: false, detail: [...r.stdoutTail, ...r.stderrTail].filter(Boolean).slice(-3).join('; ') };
}
