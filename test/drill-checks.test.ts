import { describe, expect, it } from 'vitest';
import { evaluateExpectation, validateDrillChecks, validateExpectation } from '../src/config/drill-checks.js';

const target = new Date('2026-11-24T14:30:00.000Z');
const judge = (value: unknown, expect: string) => evaluateExpectation(value, expect, target);
const ok = (value: unknown, expect: string) => judge(value, expect).ok;

describe('evaluateExpectation: comparisons', () => {
  it('>= N', () => {
    expect(ok(2000, '>= 2000')).toBe(true);
    expect(ok('2001', '>= 2000')).toBe(true);
    expect(ok('1999', '>= 2000')).toBe(false);
    expect(judge('1999', '>= 2000')).toEqual({ ok: false, expected: '>= 2000', actual: '1999', detail: 'expected >= 2000, got 1999' });
  });

  it('> N', () => {
    expect(ok(1, '> 0')).toBe(true);
    expect(ok(0, '> 0')).toBe(false);
    expect(ok('3.14', '> 3')).toBe(true);
    expect(ok(-0.5, '> -1')).toBe(true);
  });

  it('= N', () => {
    expect(ok('0', '= 0')).toBe(true);
    expect(ok(2000, '=2000')).toBe(true);
    expect(ok(2000.5, '= 2000')).toBe(false);
    expect(ok('2.50', '= 2.5')).toBe(true);
    expect(judge('2000', '= 999999')).toMatchObject({ ok: false, detail: 'expected = 999999, got 2000' });
  });

  it('!= N', () => {
    expect(ok(1, '!= 0')).toBe(true);
    expect(ok('0', '!= 0')).toBe(false);
  });

  it('< N and <= N', () => {
    expect(ok(99, '< 100')).toBe(true);
    expect(ok(100, '< 100')).toBe(false);
    expect(ok(100, '<= 100')).toBe(true);
    expect(ok('101', '<= 100')).toBe(false);
    expect(ok('-1.5', '<= -1.5')).toBe(true);
    expect(ok(-1, '< -1')).toBe(false);
  });

  it('counts past 2^53 (bigint columns arrive as text) compare exactly', () => {
    expect(ok('9007199254740993', '> 9007199254740992')).toBe(true);
    expect(ok('9007199254740993', '= 9007199254740992')).toBe(false);
    expect(ok(9007199254740993n, '!= 9007199254740992')).toBe(true);
  });

  it('a NULL result fails every comparison, != included, and says so', () => {
    for (const op of ['>= 0', '> 0', '= 0', '!= 0', '< 0', '<= 0']) {
      expect(judge(null, op)).toEqual({ ok: false, expected: op, actual: 'NULL, which is not a number', detail: `expected ${op}, got NULL, which is not a number` });
    }
    expect(ok(undefined, '!= 0')).toBe(false);
  });

  it('a non-numeric result is not a number: text, an empty string, booleans, dates, NaN', () => {
    expect(judge('abc', '= 0').detail).toBe("expected = 0, got 'abc', which is not a number");
    expect(ok('', '= 0')).toBe(false);
    expect(ok('  ', '= 0')).toBe(false);
    expect(ok('0x10', '= 16')).toBe(false);
    expect(ok('1e3', '= 1000')).toBe(true);
    expect(ok(true, '= 1')).toBe(false);
    expect(ok(new Date(0), '= 0')).toBe(false);
    expect(ok(Number.NaN, '!= 0')).toBe(false);
    expect(ok(Number.POSITIVE_INFINITY, '> 0')).toBe(false);
  });
});

describe('evaluateExpectation: not null', () => {
  it('passes on any value, zero and empty text included, and fails on NULL', () => {
    expect(ok(0, 'not null')).toBe(true);
    expect(ok('', 'not null')).toBe(true);
    expect(ok(false, 'not null')).toBe(true);
    expect(judge(null, 'not null')).toEqual({ ok: false, expected: 'not null', actual: 'NULL', detail: 'expected not null, got NULL' });
    expect(ok(undefined, 'not null')).toBe(false);
  });
});

describe('evaluateExpectation: within DURATION of target', () => {
  it('measures the distance either side of the target, the limit itself included', () => {
    expect(ok(new Date('2026-11-24T14:15:00Z'), 'within 15m of target')).toBe(true);
    expect(ok(new Date('2026-11-24T14:14:59Z'), 'within 15m of target')).toBe(false);
    expect(ok(new Date('2026-11-24T14:45:00Z'), 'within 15m of target')).toBe(true);
    expect(ok(new Date('2026-11-24T12:30:00Z'), 'within 1h30m of target')).toBe(false);
    expect(judge(new Date('2026-11-24T13:30:00Z'), 'within 15m of target')).toEqual({
      ok: false,
      expected: 'within 15m of target 2026-11-24T14:30:00.000Z',
      actual: '2026-11-24T13:30:00.000Z, 1h from it',
      detail: 'expected within 15m of target 2026-11-24T14:30:00.000Z, got 2026-11-24T13:30:00.000Z, 1h from it',
    });
  });

  it('reads timestamps with zones in every form servers print', () => {
    // The same instant, 14:25 UTC, five ways.
    for (const text of ['2026-11-24T14:25:00Z', '2026-11-24 16:25:00+02', '2026-11-24 16:25:00+02:00', '2026-11-24T19:55:00+0530', '2026-11-24 09:25:00.000000-05']) {
      expect(judge(text, 'within 5m of target'), text).toMatchObject({ ok: true, actual: '2026-11-24T14:25:00.000Z, 5m from it' });
      expect(ok(text, 'within 4m of target'), text).toBe(false);
    }
    expect(judge('2026-11-24 16:29:59.999999+02', 'within 1s of target').actual).toBe('2026-11-24T14:29:59.999Z, 0s from it');
  });

  it('reads a timestamp without a zone as UTC and says so', () => {
    expect(judge('2026-11-24 14:20:00', 'within 15m of target')).toMatchObject({ ok: true, actual: '2026-11-24T14:20:00.000Z (no zone given, read as UTC), 10m from it' });
    expect(ok('2026-11-24', 'within 15h of target')).toBe(true);
  });

  it('fails on NULL and on anything that is not a time', () => {
    expect(judge(null, 'within 15m of target')).toMatchObject({ ok: false, actual: 'NULL, which is not a time' });
    expect(judge('yesterday', 'within 15m of target').detail).toBe("expected within 15m of target 2026-11-24T14:30:00.000Z, got 'yesterday', which is not a time");
    expect(ok(1795962600, 'within 15m of target')).toBe(false);
    expect(ok(new Date('nonsense'), 'within 15m of target')).toBe(false);
    expect(ok('2026-13-45 10:00:00Z', 'within 100d of target')).toBe(false);
  });
});

describe('validating conditions in the config', () => {
  it('accepts every documented form and refuses others with one sentence', () => {
    for (const e of ['>= 1', '> 0', '= 0', '!= 0', '< 100', '<= 5', 'not null', 'within 15m of target', 'within 1h30m of target', '= -2.5']) {
      expect(() => validateExpectation(e, 'expect'), e).not.toThrow();
    }
    for (const e of ['== 1', '> abc', 'is null', 'within 15 minutes of target', 'within 15m of now']) {
      expect(() => validateExpectation(e, 'targets.prod.checks[0].expect'), e).toThrow(/^targets\.prod\.checks\[0\]\.expect .* is not (a condition|a duration)/);
    }
  });

  it('needs a name, an sql query and a condition in every check', () => {
    expect(validateDrillChecks([{ name: ' fresh ', sql: 'SELECT 1', expect: ' = 1 ' }], 'checks')).toEqual([{ name: 'fresh', sql: 'SELECT 1', expect: '= 1' }]);
    expect(() => validateDrillChecks([{ name: 'x', sql: 'SELECT 1' }], 'checks')).toThrow('checks[0].expect is missing');
    expect(() => validateDrillChecks({}, 'checks')).toThrow('checks must be a list of {name, sql, expect}.');
  });
});
