import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attachNegativeValues } from '../src/cli/args.js';
import { COMMANDS, usageLine } from '../src/cli/command-table.js';
import { commandHelp, helpText } from '../src/cli/help.js';
import { closest } from '../src/cli/suggest.js';
import { explainSystemError } from '../src/errors.js';
import { parseRestoreTime } from '../src/pitr/time.js';
import { DISASTER_KINDS } from '../src/training/session.js';
import { blockedFor } from '../src/wal/command.js';

const scratch = mkdtempSync(join(tmpdir(), 'dbdrill-input-pure-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const now = new Date('2026-11-25T12:00:00Z');
function refusal(text: string): string {
  try {
    parseRestoreTime(text, now);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`"${text}" was accepted`);
}

describe('restore times: each wrong part gets its own sentence', () => {
  it.each([
    ['2026-02-30T10:00:00Z', 'The time "2026-02-30T10:00:00Z" is not a date: February 2026 has 28 days, so day 30 does not exist.'],
    ['2028-02-30T10:00:00Z', 'The time "2028-02-30T10:00:00Z" is not a date: February 2028 has 29 days, so day 30 does not exist.'],
    ['2026-13-45T10:00:00Z', 'The time "2026-13-45T10:00:00Z" has month 13, which does not exist; months run from 01 to 12.'],
    ['2026-01-45T10:00:00Z', 'The time "2026-01-45T10:00:00Z" is not a date: January 2026 has 31 days, so day 45 does not exist.'],
    ['2026-01-01T25:00:00Z', 'The time "2026-01-01T25:00:00Z" has hour 25; hours run from 00 to 23.'],
    ['2026-01-01T10:61:00Z', 'The time "2026-01-01T10:61:00Z" has minute 61; minutes run from 00 to 59.'],
    ['2026-01-01T10:00:00+25:00', 'The time "2026-01-01T10:00:00+25:00" has the offset +25:00, which no time zone has; offsets run from -12:00 to +14:00.'],
    ['2026-01-01T10:00:00-13:00', 'The time "2026-01-01T10:00:00-13:00" has the offset -13:00, which no time zone has; offsets run from -12:00 to +14:00.'],
  ])('%s', (text, sentence) => {
    expect(refusal(text)).toBe(sentence);
  });

  it('names a zone abbreviation, too many fraction digits and a span before 1970', () => {
    expect(refusal('2026-01-01T10:00:00 EST')).toMatch(/^The time "2026-01-01T10:00:00 EST" names the zone EST; zone abbreviations are ambiguous .* write its UTC offset instead \(-05:00 for US Eastern Standard Time\) or Z for UTC\.$/);
    expect(refusal('2026-01-01T10:00:00.1234567Z')).toBe(
      'The time "2026-01-01T10:00:00.1234567Z" has 7 digits after the second; PostgreSQL and MariaDB record microseconds, so give at most 6 (e.g. .123456).',
    );
    expect(refusal('-99999999999h')).toBe('The time "-99999999999h" reaches back before 1970, earlier than any backup; give a shorter span such as -15m or -2h, or an ISO 8601 time.');
    // None of them is mistaken for a missing zone any more.
    for (const t of ['2026-13-45T10:00:00Z', '2026-01-01T10:00:00+25:00', '2026-01-01T10:00:00 EST', '2026-01-01T10:00:00.1234567Z']) expect(refusal(t)).not.toContain('has no time zone; add one');
  });

  it('still accepts the forms it accepted, edge dates included', () => {
    expect(parseRestoreTime('2028-02-29T23:59:59.999999+14:00', now).toISOString()).toBe('2028-02-29T09:59:59.999Z');
    expect(parseRestoreTime('2026-11-24 15:30-12:00', now).toISOString()).toBe('2026-11-25T03:30:00.000Z');
    expect(parseRestoreTime('-1h', now).toISOString()).toBe('2026-11-25T11:00:00.000Z');
    expect(refusal('2026-11-24 14:30')).toContain('has no time zone');
  });
});

describe('argv: a value that starts with "-"', () => {
  const options = { to: { type: 'string' }, rto: { type: 'string' }, keep: { type: 'boolean' } } as const;

  it('is attached to an option that takes a value, never to a flag or after --', () => {
    expect(attachNegativeValues(['prod', '--to', '-15m', '--rto', '-1h30m'], options)).toEqual(['prod', '--to=-15m', '--rto=-1h30m']);
    expect(attachNegativeValues(['prod', '--keep', '-1h'], options)).toEqual(['prod', '--keep', '-1h']);
    expect(attachNegativeValues(['prod', '--to', '--keep'], options)).toEqual(['prod', '--to', '--keep']);
    expect(attachNegativeValues(['--', '--to', '-1h'], options)).toEqual(['--', '--to', '-1h']);
  });
});

describe('the command table', () => {
  it('keeps every line of dbdrill --help and of each COMMAND --help within 80 columns', () => {
    const wide = (text: string) => text.split('\n').filter((l) => [...l].length > 80);
    expect(wide(helpText())).toEqual([]);
    for (const c of COMMANDS) expect(wide(commandHelp(c.name)), c.name).toEqual([]);
  });

  it('lists every command in --help, and its usage in error sentences comes from the same forms', () => {
    const help = helpText();
    for (const c of COMMANDS) for (const f of c.forms) expect(help.replace(/\s+/g, ' ')).toContain(`dbdrill ${f.line}`);
    expect(usageLine('target', 'add')).toMatch(/^dbdrill target add NAME --engine postgres\|mysql/);
    expect(usageLine('target', 'rm')).toBe('dbdrill target remove NAME');
  });

  it('runs each command from a module that exports the function the table names', async () => {
    for (const c of COMMANDS) {
      const mod = (await import(`../src/cli/commands/${c.run.module}.ts`)) as Record<string, unknown>;
      expect(typeof mod[c.run.fn], `${c.name}: ${c.run.module}.${c.run.fn}`).toBe('function');
    }
  });

  it('names the training disasters the training module knows', () => {
    const train = COMMANDS.find((c) => c.name === 'train')!.forms[0]!.line;
    expect(train).toContain(`--disaster ${DISASTER_KINDS.join('|')}`);
  });

  it('suggests the command a typo meant, and nothing for a word far from all', () => {
    const words = COMMANDS.map((c) => c.name);
    expect(closest('restor', words)).toBe('restore');
    expect(closest('bakup', words)).toBe('backup');
    expect(closest('heath', words)).toBe('health');
    expect(closest('launch', words)).toBeUndefined();
    expect(closest('x', words)).toBeUndefined();
  });
});

describe('file system errors', () => {
  it('become one sentence with the path and what to fix, never for a non-file-system error', () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    const caught = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (e) {
        return e;
      }
      throw new Error('no error');
    };
    const notDir = explainSystemError(caught(() => mkdirSync(join(file, 'backups'))));
    expect(notDir?.message).toBe(`${join(file, 'backups')} cannot be used: a part of that path is a file, not a directory; move the file away or fix the path in the target's settings.`);
    expect(notDir?.exitCode).toBe(1);
    const isDir = explainSystemError(caught(() => readdirSync(file)));
    expect(isDir?.message).toContain(file);
    expect(explainSystemError(new TypeError('x is undefined'))).toBeUndefined();
  });
});

describe('blockedFor', () => {
  it('terminates for a relative path (dirname(".") is ".") and for /', () => {
    const dir = join(scratch, 'rel');
    mkdirSync(join(dir, 'relrepo'), { recursive: true, mode: 0o755 });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      // The scratch directory is 0700: another user stops there, found by walking up from cwd.
      expect(blockedFor('relrepo/wal', 65534, 65534)).toBe(scratch);
      expect(blockedFor('.', 65534, 65534)).toBe(scratch);
    } finally {
      process.chdir(cwd);
    }
    expect(blockedFor('/', 65534, 65534)).toBeUndefined();
  });
});
