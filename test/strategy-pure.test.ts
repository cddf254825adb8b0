import { describe, expect, it } from 'vitest';
import { parseCron } from '../src/config/cron.js';
import { configLabel, parseGfs, policyFieldLabel, validatePolicy } from '../src/config/policy.js';
import { backupTypesOf } from '../src/config/backup-types.js';
import { isDbdrillError } from '../src/errors.js';
import { dueJobs, jobStates } from '../src/strategy/due.js';
import { forecast } from '../src/strategy/forecast.js';
import { gfsPeriods } from '../src/strategy/gfs.js';
import { planRetention, type RetentionItem } from '../src/strategy/retention.js';
import { policyChecks } from '../src/strategy/policy-checks.js';
import { weekOf } from '../src/strategy/week.js';
import { mergePolicy } from '../src/ops/policy.js';

const sentence = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(isDbdrillError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('did not throw');
};

const at = (s: string) => new Date(s);
const full = (id: string, startedAt: string, extra: Partial<RetentionItem> = {}): RetentionItem => ({ id, kind: 'physical', type: 'full', status: 'complete', startedAt, pitrFrom: startedAt, archiveFrom: id.slice(0, 16), ...extra });

describe('cron schedules', () => {
  it('iterates standard fields and nicknames in UTC', () => {
    const s = parseCron('0 2 * * 0', 'x');
    expect(s.next(at('2026-03-04T10:30:20Z'))?.toISOString()).toBe('2026-03-08T02:00:00.000Z');
    expect(s.latest(at('2026-03-04T10:30:20Z'))?.toISOString()).toBe('2026-03-01T02:00:00.000Z');
    // A slot exactly at `at` is the latest one.
    expect(parseCron('* * * * *', 'x').latest(at('2026-03-04T10:30:00Z'))?.toISOString()).toBe('2026-03-04T10:30:00.000Z');
    expect(parseCron('@monthly', 'x').between(at('2026-01-15T00:00:00Z'), at('2026-04-15T00:00:00Z')).map((d) => d.toISOString().slice(0, 10))).toEqual(['2026-02-01', '2026-03-01', '2026-04-01']);
  });

  it('names the field that is wrong, the field count, and impossible dates', () => {
    expect(sentence(() => parseCron('61 * * * *', '--full'))).toBe('--full "61 * * * *": the minute field "61" is not valid (0-59, lists a,b, ranges a-b, steps */n).');
    expect(sentence(() => parseCron('0 25 * * *', '--full'))).toContain('the hour field "25"');
    expect(sentence(() => parseCron('0 0 * 13 *', '--full'))).toContain('the month field "13"');
    expect(sentence(() => parseCron('0 0 * * 9', '--full'))).toContain('the day-of-week field "9"');
    expect(sentence(() => parseCron('* * * *', '--full'))).toContain('has 4 fields; write 5 fields');
    expect(sentence(() => parseCron('0 * * * * *', '--full'))).toContain('has 6 fields');
    expect(sentence(() => parseCron('@reboot', '--full'))).toContain('@reboot is not known');
    expect(sentence(() => parseCron('0 0 31 2 *', '--full'))).toContain('never comes');
  });
});

describe('policy validation', () => {
  const pg = { engine: 'postgres' as const, name: 'prod' };
  const label = configLabel('');
  it('keeps a valid policy and refuses what would keep nothing', () => {
    expect(validatePolicy({ schedule: { full: '0 2 * * 0', verify: '@daily' }, retention: { keepFull: '4', gfs: '4w,7d' } }, pg, label)).toEqual({
      schedule: { full: '0 2 * * 0', verify: '@daily' },
      retention: { keepFull: 4, gfs: '7d,4w' },
    });
    expect(sentence(() => validatePolicy({ retention: { keepFull: 0 } }, pg, label))).toBe('policy.retention.keepFull 0 would keep nothing; give 1 or more, or leave it out.');
    expect(sentence(() => validatePolicy({ retention: { keepArchive: 7 } }, pg, label))).toContain('would keep no full backup');
    expect(sentence(() => validatePolicy({ retention: { keepFull: 'four' } }, pg, label))).toContain('is not a whole number');
  });
  it('refuses gfs units it does not know and diff/incr where the method has none', () => {
    expect(sentence(() => parseGfs('7d,4x', '--gfs'))).toBe('--gfs "7d,4x": unknown unit "x"; give counts with d (days), w (weeks), m (months) or y (years), e.g. 7d,4w,12m,7y.');
    expect(sentence(() => parseGfs('7d,0w', '--gfs'))).toContain('0w keeps nothing');
    expect(sentence(() => parseGfs('7d,3d', '--gfs'))).toContain('days twice');
    expect(backupTypesOf({ engine: 'postgres' })).toEqual(['full']);
    expect(backupTypesOf({ engine: 'postgres', method: 'pgbackrest' })).toEqual(['full', 'diff', 'incr']);
    expect(sentence(() => validatePolicy({ schedule: { incr: '@hourly' } }, pg, label))).toContain('target "prod" (PostgreSQL, native method) takes only full backups');
    expect(validatePolicy({ schedule: { incr: '@hourly' } }, { engine: 'postgres', method: 'pgbackrest' }, label)).toEqual({ schedule: { incr: '@hourly' } });
  });
});

describe('what is due', () => {
  const policy = { schedule: { full: '0 2 * * 0', incr: '0 * * * *', verify: '30 3 * * *' } };
  const pgbr = { schedule: { full: '0 2 * * 0', diff: '0 2 * * 1-6', incr: '0 * * * *' } };

  it('catches up once after downtime, not once per missed slot', () => {
    const now = at('2026-03-09T10:15:00Z');
    const due = dueJobs(pgbr, now, { full: { lastSlot: at('2026-03-01T02:00:00Z'), lastStart: at('2026-03-01T02:00:05Z') }, diff: { lastSlot: at('2026-03-02T02:00:00Z') }, incr: { lastSlot: at('2026-03-02T05:00:00Z') } });
    expect(due.map((d) => [d.job, d.slot.toISOString()])).toEqual([
      ['full', '2026-03-08T02:00:00.000Z'],
      ['diff', '2026-03-09T02:00:00.000Z'],
      ['incr', '2026-03-09T10:00:00.000Z'],
    ]);
    expect(due[2]!.missedBefore).toBeGreaterThan(100);
  });

  it('a full that ran covers the diff and incr slots before its start; a run in the same minute serves the slot', () => {
    const now = at('2026-03-08T02:00:40Z');
    const served = { full: { lastSlot: at('2026-03-08T02:00:00Z'), lastStart: at('2026-03-08T02:00:01Z') }, incr: { lastSlot: at('2026-03-08T01:00:00Z') } };
    expect(dueJobs(policy, now, served).map((d) => d.job)).toEqual(['verify']);
    const states = jobStates(policy, now, served);
    expect(states.find((s) => s.job === 'full')!.reason).toMatch(/^not due: the 2026-03-08 02:00Z run is served/);
    // A job never run and with no artifact is due at once.
    expect(states.find((s) => s.job === 'verify')!.reason).toContain('never run before');
    // A verification already in the repository after the latest slot serves it.
    expect(dueJobs(policy, now, { ...served, verify: { artifact: at('2026-03-08T01:00:00Z') } }).map((d) => d.job)).toEqual([]);
  });
});

describe('retention planning', () => {
  const now = at('2026-03-20T12:00:00Z');
  const four = [
    full('20260301T020000Z-F', '2026-03-01T02:00:00Z'),
    full('20260308T020000Z-F', '2026-03-08T02:00:00Z'),
    full('20260315T020000Z-F', '2026-03-15T02:00:00Z'),
    full('20260319T020000Z-F', '2026-03-19T02:00:00Z'),
  ];
  const decision = (p: ReturnType<typeof planRetention>, id: string) => p.decisions.find((d) => d.id === id)!;

  it('keep-full 2 removes the two oldest and moves the archive start to the oldest kept', () => {
    const p = planRetention(four, { keepFull: 2 }, now);
    expect(p.decisions.map((d) => [d.id, d.keep])).toEqual([
      ['20260319T020000Z-F', true],
      ['20260315T020000Z-F', true],
      ['20260308T020000Z-F', false],
      ['20260301T020000Z-F', false],
    ]);
    expect(decision(p, '20260308T020000Z-F').reasons).toEqual(['keep-full 2 keeps newer physical fulls']);
    expect(p.archiveFrom?.backup).toBe('20260315T020000Z-F');
  });

  it('never removes the newest verified backup, a chain a kept backup needs, or a running one', () => {
    const items: RetentionItem[] = [
      ...four.map((f, i) => (i === 0 ? { ...f, verified: true } : f)),
      { id: '20260315T030000Z-D', kind: 'physical', type: 'diff', status: 'complete', startedAt: '2026-03-15T03:00:00Z', prior: '20260308T020000Z-F' },
      { id: '20260319T030000Z-I', kind: 'physical', type: 'incr', status: 'complete', startedAt: '2026-03-19T03:00:00Z', prior: '20260315T030000Z-D' },
      { id: '20260320T110000Z-F', kind: 'physical', type: 'full', status: 'running', startedAt: '2026-03-20T11:00:00Z' },
    ];
    const p = planRetention(items, { keepFull: 1, keepDiff: 1 }, now);
    expect(decision(p, '20260301T020000Z-F')).toMatchObject({ keep: true, reasons: ['the newest verified backup'] });
    expect(decision(p, '20260315T030000Z-D').reasons).toContain('keep-diff 1: one of the 1 newest diffs');
    // The diff is kept, so is the full it builds on, however old; the incr follows its kept diff.
    expect(decision(p, '20260308T020000Z-F').reasons).toEqual(['kept backup 20260315T030000Z-D depends on it']);
    expect(decision(p, '20260319T030000Z-I')).toMatchObject({ keep: true, reasons: ['builds on kept backup 20260315T030000Z-D'] });
    expect(decision(p, '20260320T110000Z-F')).toMatchObject({ keep: true, reasons: ['running'] });
    expect(decision(p, '20260315T020000Z-F').keep).toBe(false);
  });

  it('GFS keeps the newest full of each day, week, month and year, by dates the test sets', () => {
    const items: RetentionItem[] = [];
    // A full every day at 01:00 from 2024-11-01 to 2026-03-20.
    for (let t = Date.parse('2024-11-01T01:00:00Z'); t <= Date.parse('2026-03-20T01:00:00Z'); t += 86_400_000) {
      const d = new Date(t).toISOString();
      items.push(full(`${d.slice(0, 10).replace(/-/g, '')}T010000Z-F`, d));
    }
    const p = planRetention(items, { gfs: '3d,2w,3m,2y' }, now);
    const kept = p.decisions.filter((d) => d.keep).map((d) => d.id.slice(0, 8)).sort();
    // 3d: 03-18..03-20; 2w: the weeks of 03-16 (newest 03-20) and 03-09 (its Sunday, 03-15);
    // 3m: March, February's last day, January's; 2y: 2026 and 2025's last day.
    expect(kept).toEqual(['20251231', '20260131', '20260228', '20260315', '20260318', '20260319', '20260320']);
    expect(p.decisions.find((d) => d.id.startsWith('20260315'))!.reasons).toEqual(['gfs 3d,2w,3m,2y: newest physical full of the week of 2026-03-09']);
    expect(gfsPeriods(parseGfs('2w', 'g'), now).map((x) => x.label)).toEqual(['week of 2026-03-16', 'week of 2026-03-09']);
  });

  it('keep-days keeps the window and the full a restore to its start needs; failed records go once older than every kept backup', () => {
    const items: RetentionItem[] = [...four, { id: '20260302T020000Z-F', kind: 'physical', type: 'full', status: 'failed', startedAt: '2026-03-02T02:00:00Z' }, { id: '20260316T020000Z-F', kind: 'physical', type: 'full', status: 'failed', startedAt: '2026-03-16T02:00:00Z' }];
    const p = planRetention(items, { keepDays: 7 }, now);
    expect(decision(p, '20260315T020000Z-F').reasons).toEqual(['keep-days 7: taken within 7 days']);
    expect(decision(p, '20260308T020000Z-F').reasons).toEqual(['keep-days 7: a physical restore to 2026-03-13 starts from it']);
    expect(decision(p, '20260301T020000Z-F').keep).toBe(false);
    expect(decision(p, '20260302T020000Z-F')).toMatchObject({ keep: false, reasons: ['failed, and older than every kept backup (the oldest is 20260308T020000Z-F)'] });
    expect(decision(p, '20260316T020000Z-F').keep).toBe(true);
  });

  it('keep-archive keeps the base that reaches back far enough', () => {
    const p = planRetention(four, { keepFull: 1, keepArchive: 10 }, now);
    expect(decision(p, '20260308T020000Z-F').reasons).toEqual(['keep-archive 10: a restore to 2026-03-10 starts from it']);
    expect(p.archiveFrom?.backup).toBe('20260308T020000Z-F');
  });
});

describe('forecast', () => {
  it('simulates the steady state with the retention planner and judges the objectives', () => {
    const f = forecast({
      policy: { schedule: { full: '0 2 * * 0' }, retention: { keepFull: 4 } },
      now: at('2026-03-20T12:00:00Z'),
      days: 14,
      sizes: { full: 1_000_000_000 },
      archiveBytesPerDay: 100_000_000,
      archiveTimeoutSeconds: 60,
      engine: 'postgres',
      rpoSeconds: 300,
      rtoSeconds: 3600,
      drills: [{ id: 'd2', startedAt: '2026-03-19T00:00:00Z', status: 'passed', rtoSeconds: 4000 }],
    });
    expect(f.runs[0]!.next.map((d) => d.slice(0, 10))).toEqual(['2026-03-22', '2026-03-29']);
    expect(f.steady.backups).toEqual([{ what: 'full', kept: 4, bytesEach: 1_000_000_000, bytes: 4_000_000_000 }]);
    // The oldest of four weekly fulls was taken 2026-02-22 02:00: 26.4 days of WAL.
    expect(f.steady.archive).toEqual({ days: 26.4, bytesPerDay: 100_000_000, bytes: 2_641_666_667 });
    expect(f.objectives.rpo).toMatchObject({ ok: true });
    expect(f.objectives.rto).toMatchObject({ ok: false, assessment: 'the last drills took 1h6m (d2): the slowest exceeds the RTO of 1h' });
  });
});

describe('policy health checks', () => {
  const policy = { schedule: { full: '0 2 * * *', drill: '0 4 1 * *' }, retention: { keepFull: 3 } };
  const base = { target: 't', policy, fulls: { physical: 3, logical: 0 }, graceSeconds: 3600 };
  const byName = (cs: ReturnType<typeof policyChecks>) => Object.fromEntries(cs.map((c) => [c.name, c]));

  it('a missed job is WARN after its slot plus the grace, CRIT after two', () => {
    const served = { full: { lastSlot: at('2026-03-19T02:00:00Z') }, drill: { artifact: at('2026-03-01T04:10:00Z') } };
    expect(byName(policyChecks({ ...base, now: at('2026-03-20T02:59:00Z'), served }))['schedule-full']!.status).toBe('OK');
    const warn = byName(policyChecks({ ...base, now: at('2026-03-20T03:01:00Z'), served }))['schedule-full']!;
    expect(warn.status).toBe('WARN');
    expect(warn.reason).toContain('its 2026-03-20 02:00Z run did not happen (last served 2026-03-19 02:00Z; grace 1h)');
    expect(byName(policyChecks({ ...base, now: at('2026-03-21T03:01:00Z'), served }))['schedule-full']!.status).toBe('CRIT');
    const drill = byName(policyChecks({ ...base, now: at('2026-04-01T05:01:00Z'), served }))['schedule-drill']!;
    expect(drill).toMatchObject({ status: 'WARN' });
    expect(drill.reason).toMatch(/^drill is overdue/);
  });

  it('retention not met and a full that would not fit are WARN', () => {
    const cs = byName(policyChecks({ ...base, fulls: { physical: 1, logical: 0 }, now: at('2026-03-20T02:30:00Z'), served: { full: { lastSlot: at('2026-03-20T02:00:00Z') } }, nextFullBytes: 5e9, freeBytes: 4e9 }));
    expect(cs.retention).toMatchObject({ status: 'WARN', reason: 'The policy keeps 3 physical fulls but the repository holds 1: retention is not met yet.' });
    expect(cs['repository-space']!.status).toBe('WARN');
    expect(cs['repository-space']!.reason).toContain('would not fit');
    const diffs = byName(policyChecks({ ...base, policy: { ...policy, retention: { keepFull: 3, keepDiff: 6 } }, diffs: 2, now: at('2026-03-20T02:30:00Z'), served: {} }));
    expect(diffs['retention-diff']).toMatchObject({ status: 'WARN', reason: 'The policy keeps 6 diffs but the repository holds 2: retention is not met yet.' });
  });
});

describe('the week ahead (Strategy screen)', () => {
  it('one row per UTC day from now: each job once with its first time and count', () => {
    const week = weekOf({ schedule: { full: '0 2 * * 0', incr: '@hourly', drill: '0 4 1 * *' } }, at('2026-12-07T01:30:00Z'));
    expect(week).toHaveLength(7);
    expect(week[0]).toEqual({ day: '2026-12-07', runs: [{ job: 'incr', first: '2026-12-07T02:00:00.000Z', count: 22 }] });
    expect(week[6]!.runs).toEqual([
      { job: 'full', first: '2026-12-13T02:00:00.000Z', count: 1 },
      { job: 'incr', first: '2026-12-13T00:00:00.000Z', count: 24 },
    ]);
    expect(weekOf(undefined, at('2026-12-07T01:30:00Z')).every((d) => d.runs.length === 0)).toBe(true);
  });

  it('the console form and the command name the same setting in their own words', () => {
    expect(policyFieldLabel('--')('retention.keepFull')).toBe('--keep-full');
    expect(policyFieldLabel('')('retention.keepFull')).toBe('keep-full');
    expect(policyFieldLabel('')('schedule.restore-verify')).toBe('restore-verify');
    expect(policyFieldLabel('')('timeLimit')).toBe('time-limit');
  });
});

describe('a job that never ran is judged from when its schedule was set', () => {
  const base = { target: 'prod', served: {}, fulls: { physical: 0, logical: 0 } };
  const now = new Date('2026-12-07T10:30:00Z');
  it('a daily full set this morning is not missed for last night', () => {
    const policy = { schedule: { full: '0 2 * * *' }, since: { full: '2026-12-07T09:00:00Z' } };
    expect(policyChecks({ ...base, policy, now }).find((c) => c.name === 'schedule-full')).toMatchObject({ status: 'OK' });
    // Without the stamp (a policy written by hand), the moment before it counts, as before.
    const old = policyChecks({ ...base, policy: { schedule: { full: '0 2 * * *' } }, now }).find((c) => c.name === 'schedule-full');
    expect(old).toMatchObject({ status: 'WARN' });
    // Once its first moment after being set has passed unserved (plus the grace), it is missed.
    const later = policyChecks({ ...base, policy, now: new Date('2026-12-08T03:30:00Z') }).find((c) => c.name === 'schedule-full');
    expect(later).toMatchObject({ status: 'WARN' });
    expect(later!.reason).toContain('its 2026-12-08 02:00Z run did not happen (never run');
  });
  it('policy set stamps a schedule it sets or changes, keeps the stamp of one it leaves, drops it with the schedule', () => {
    const t0 = new Date('2026-12-07T09:00:00Z');
    const a = mergePolicy(undefined, { schedule: { full: '0 2 * * *', verify: '0 6 * * *' } }, t0);
    expect(a.since).toEqual({ full: t0.toISOString(), verify: t0.toISOString() });
    const t1 = new Date('2026-12-07T10:00:00Z');
    const b = mergePolicy(a as never, { schedule: { full: '0 2 * * *', verify: '0 7 * * *' } }, t1);
    expect(b.since).toEqual({ full: t0.toISOString(), verify: t1.toISOString() });
    const c = mergePolicy(b as never, { schedule: { verify: null } }, t1);
    expect(c.since).toEqual({ full: t0.toISOString() });
    expect(validatePolicy(c, { engine: 'postgres' } as never, configLabel('prod'))).toMatchObject({ since: { full: t0.toISOString() } });
  });
});
