import type { ConsoleApi, TargetRow } from '../../screens/api.js';
import type { Target } from '../../src/config/target.js';
import { startJob, type JobContext } from '../../src/ops/job.js';

export function target(name: string, extra: Partial<TargetRow> = {}): TargetRow {
  return {
    name,
    engine: 'postgres',
    host: '10.0.0.5',
    port: 5432,
    user: 'postgres',
    dbname: 'app',
    repo: `/srv/backups/${name}`,
    ...extra,
  };
}

export const SANDBOX: Target = {
  name: 'sandbox',
  engine: 'postgres',
  host: '127.0.0.1',
  port: 54315,
  user: 'postgres',
  dbname: 'postgres',
  repo: '/tmp/dbdrill-sandbox/repo',
  sandbox: true,
};

export interface FakeApi extends ConsoleApi {
  targets: TargetRow[];
  sandboxStarts: number;
}

/**
 * A ConsoleApi from plain functions. The sandbox job is a real Job (startJob) that emits real
 * events; `work` replaces its body, e.g. to fail or to wait for the test.
 */
export function fakeApi(
  opts: { targets?: TargetRow[]; work?: (ctx: JobContext, api: FakeApi) => Promise<Target> } = {},
): FakeApi {
  const api: FakeApi = {
    configDir: '/home/op/.config/dbdrill',
    version: '0.1.0',
    targets: opts.targets ?? [],
    sandboxStarts: 0,
    async listTargets() {
      return api.targets.map((t) => ({ ...t }));
    },
    startSandbox() {
      api.sandboxStarts++;
      return startJob((ctx) => (opts.work ?? sandboxWork)(ctx, api));
    },
  };
  return api;
}

export async function sandboxWork(ctx: JobContext, api: FakeApi): Promise<Target> {
  await ctx.step('find PostgreSQL 15 tools', async () => {
    ctx.emit({ type: 'tool-line', tool: 'pg_ctl', stream: 'stdout', text: 'pg_ctl (PostgreSQL) 15.8' });
  });
  await ctx.step('create cluster with WAL archiving', async () => {
    ctx.emit({ type: 'log', level: 'info', text: 'initdb -D /tmp/dbdrill-sandbox/data' });
  });
  await ctx.step('load sample data', async () => {
    ctx.emit({ type: 'progress', phase: 'loading', done: 50, total: 100, unit: 'rows' });
  });
  api.targets.push(SANDBOX);
  return SANDBOX;
}
