import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetStore } from '../src/config/store.js';
import type { HealthReport } from '../src/health/report.js';
import { writeRun } from '../src/repo/runs.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { parsePromText } from './helpers/prom-parse.js';

/**
 * `dbdrill health` reads the policy: a daily full whose run log last served a slot three days ago
 * was missed twice over (CRIT), in the text, the JSON and --prom. The judging itself is tested with
 * set clocks in strategy-pure.test.ts; this proves health calls it. No server is needed to tell
 * that a schedule was missed, so the target points at a port nothing listens on.
 */
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo-sched');
const cli = (args: string[]) => runCli(args, { env: { DBDRILL_CONFIG_DIR: cfg.dir } });
const check = (r: HealthReport, name: string) => r.checks.find((c) => c.name === name);

beforeAll(async () => {
  new TargetStore(cfg.dir).add({ name: 'sched', engine: 'postgres', host: '127.0.0.1', port: 1, user: 'x', dbname: 'postgres', repo });
  const set = await cli(['policy', 'set', 'sched', '--full', '0 3 * * *', '--drill', '0 4 1 1 *']);
  expect(set.code, set.stderr).toBe(0);
  const day = 86_400_000;
  const slot = new Date(Math.floor((Date.now() - 3 * day) / day) * day + 3 * 3600_000);
  writeRun(repo, { formatVersion: 1, id: `${slot.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-full`, target: 'sched', job: 'full', slot: slot.toISOString(), status: 'ok', startedAt: slot.toISOString(), finishedAt: slot.toISOString() });
});

afterAll(() => cfg.cleanup());

describe('health checks the policy', () => {
  it('names a scheduled full missed twice as CRIT, in text, JSON and --prom', async () => {
    const prom = join(cfg.dir, 'sched.prom');
    const j = await cli(['health', 'sched', '--json', '--prom', prom]);
    expect(j.code).toBe(4);
    const r = JSON.parse(j.stdout) as HealthReport;
    expect(check(r, 'schedule-full')).toMatchObject({ status: 'CRIT' });
    expect(check(r, 'schedule-full')!.reason).toMatch(/^the scheduled full backup was missed: its \S+ \S+ run and the next one did not happen \(last served /);
    // A yearly drill (January 1st, 04:00) set just now is not overdue: its first moment is still ahead.
    expect(check(r, 'schedule-drill')).toMatchObject({ status: 'OK' });
    const series = parsePromText(readFileSync(prom, 'utf8')).get('dbdrill_health_check_status');
    expect(series?.samples.find((s) => s.labels.check === 'schedule-full')?.value).toBe(2);
    const text = await cli(['health', 'sched']);
    expect(text.stdout).toMatch(/^CRIT schedule-full +the scheduled full backup was missed/m);
  });
});
