import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ArchivedBinlog } from '../src/binlog/archive.js';
import { ReplayTracker } from '../src/binlog/decoded.js';
import { scanBinlogBuffer } from '../src/binlog/events.js';
import { expectReplay } from '../src/binlog/expect.js';
import { missedPromise, promisedPoint, reachedPoint } from '../src/binlog/reached.js';
import { parseSecondArg, subSecondMicros, targetFraction } from '../src/binlog/second.js';
import { ReplaySimulator, type StopRule, type Transaction } from '../src/binlog/simulate.js';
import { shortStatement } from '../src/binlog/statements.js';
import { findBinlogGaps } from '../src/binlog/names.js';
import { computeMysqlWindow, planMysqlRestore } from '../src/binlog/window.js';
import { parseRestoreTarget, type RestoreTarget } from '../src/pitr/time.js';
import type { Manifest } from '../src/repo/manifest.js';
import { DbdrillError } from '../src/errors.js';
import { locateReplayFailure, replayArgs } from '../src/engines/mysql/binlog-replay.js';
import { findBinlogTool } from '../src/engines/mysql/binlog-server.js';
import { runPipe } from '../src/runner/pipe.js';

// closed.000004 (fixtures/mariadb-binlog/README.md): at 18:25:31 CREATE TABLE shop.fx (0-1-36,
// 385…557), an insert (0-1-37, 557…793), an update of fx plus an insert into other.o (0-1-38,
// 793…1160); at 18:25:32 an insert (0-1-39, 1160…1382) and DROP TABLE fx (0-1-40, 1382…1541); the
// Rotate event ends the file at 1588.
const FIX = join(import.meta.dirname, '../fixtures/mariadb-binlog');
const fixture = (name: string) => readFileSync(join(FIX, name));
const NAME = 'mysql-bin.000004';

function simulate(rule: StopRule, start = 4, bytes = fixture('closed.000004')): { sim: ReplaySimulator; done: Transaction[] } {
  const done: Transaction[] = [];
  const sim = new ReplaySimulator([NAME], start, rule, (t) => done.push(t));
  sim.beginFile(0);
  const scan = scanBinlogBuffer(bytes, (e) => sim.event(e), { bodies: true });
  sim.endFile(scan.validBytes);
  return { sim, done };
}

describe('what a replay will apply, from the binlog itself', () => {
  it('to the end: every transaction, and the end of the last file', () => {
    const { sim, done } = simulate({ kind: 'end' });
    expect(done.map((t) => [t.gtid, t.start, t.end])).toEqual([
      ['0-1-36', 385, 557], ['0-1-37', 557, 793], ['0-1-38', 793, 1160], ['0-1-39', 1160, 1382], ['0-1-40', 1382, 1541],
    ]);
    expect(done.map((t) => t.statement)).toEqual([
      expect.stringMatching(/^create table fx/i), "insert into fx values (1,'one'),(2,'two')", "update fx set note='uno' where id=1", "insert into fx values (3, 'three')", expect.stringMatching(/^DROP TABLE/i),
    ]);
    expect(done[2]!.schemas.sort()).toEqual(['other', 'shop']);
    expect(sim.result()).toEqual({
      last: { gtid: '0-1-40', at: '2026-11-25T18:25:32.000Z', file: NAME, end: 1541 }, lastGtid: '0-1-40', stop: { file: NAME, position: 1588 }, toEnd: true, transactions: 5,
    });
  });

  it('to a time: stops at the first event of that second, the transaction before it whole', () => {
    const { sim } = simulate({ kind: 'time', at: new Date('2026-11-25T18:25:32Z') });
    expect(sim.result()).toEqual({
      last: { gtid: '0-1-38', at: '2026-11-25T18:25:31.000Z', file: NAME, end: 1160 }, lastGtid: '0-1-38', stop: { file: NAME, position: 1160 }, toEnd: false, transactions: 3,
    });
    // From a start position on: what lies before it is the backup's.
    const later = simulate({ kind: 'time', at: new Date('2026-11-25T18:25:32Z') }, 793).sim.result();
    expect([later.transactions, later.last?.gtid]).toEqual([1, '0-1-38']);
    const none = simulate({ kind: 'time', at: new Date('2026-11-25T18:25:32Z') }, 1160).sim.result();
    expect(none).toEqual({ stop: { file: NAME, position: 1160 }, toEnd: false, transactions: 0 });
  });

  it('to a position: stops before the event there', () => {
    expect(simulate({ kind: 'position', position: 1382 }).sim.result()).toMatchObject({ last: { gtid: '0-1-39', end: 1382 }, stop: { position: 1382 }, transactions: 4 });
  });
});

describe('reading the archived binlogs a replay needs', () => {
  const repo = mkdtempSync(join(tmpdir(), 'dbdrill-binlog-expect-'));
  afterAll(() => rmSync(repo, { recursive: true, force: true }));
  const bytes = fixture('closed.000004');
  mkdirSync(join(repo, 'binlog'));
  const entry: ArchivedBinlog = { file: NAME, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), transactions: 5 };
  const put = (b: Buffer) => writeFileSync(join(repo, 'binlog', NAME), b);

  it('lists the transactions a stop inside a second decides, of the replayed schema only', async () => {
    put(bytes);
    const second = new Date('2026-11-25T18:25:31Z');
    const look = await expectReplay(repo, [entry], 4, { rule: { kind: 'end' }, schema: 'shop', second });
    expect(look.damaged).toBeUndefined();
    expect(look.end?.last?.gtid).toBe('0-1-40');
    expect(look.second!.exclusive.transactions).toBe(0);
    expect(look.second!.inclusive.last?.gtid).toBe('0-1-38');
    expect(look.second!.transactions.map((t) => [t.gtid, t.at])).toEqual([
      ['0-1-36', '2026-11-25T18:25:31.000Z'], ['0-1-37', '2026-11-25T18:25:31.000Z'], ['0-1-38', '2026-11-25T18:25:31.000Z'],
    ]);
    const other = await expectReplay(repo, [entry], 4, { rule: { kind: 'end' }, schema: 'other', second });
    expect(other.second!.transactions.map((t) => t.gtid)).toEqual(['0-1-38']);
    const quiet = await expectReplay(repo, [entry], 4, { rule: { kind: 'end' }, schema: 'shop', second: new Date('2026-11-25T18:25:00Z') });
    expect(quiet.second!.transactions).toEqual([]);
  });

  it('names a file whose bytes are not those archived: a flipped byte, a cut, an extra byte', async () => {
    const flipped = Buffer.from(bytes);
    flipped[900] = flipped[900]! ^ 0x01;
    put(flipped);
    expect((await expectReplay(repo, [entry], 4, { rule: { kind: 'end' } })).damaged).toEqual({
      file: NAME, problem: `its sha256 ${createHash('sha256').update(flipped).digest('hex')} differs from the one recorded when it was archived, ${entry.sha256}`,
    });
    // Without a recorded checksum the events' own CRCs still catch it.
    const { sha256: _, ...unrecorded } = entry;
    expect((await expectReplay(repo, [unrecorded], 4, { rule: { kind: 'end' } })).damaged?.problem).toBe('1 event(s) fail their CRC-32 check, the first at offset 893');
    put(bytes.subarray(0, 1000));
    expect((await expectReplay(repo, [entry], 4, { rule: { kind: 'end' } })).damaged?.problem).toBe('it holds 1000 bytes where 1588 were archived');
    put(bytes.subarray(0, 1541));
    expect((await expectReplay(repo, [{ ...unrecorded, size: 1541 }], 4, { rule: { kind: 'end' } })).damaged?.problem).toBe('it ends with no Rotate or Stop event (open)');
    put(bytes);
  });
});

describe('the point a replay reached, against the promise', () => {
  const track = (file: string) => {
    const t = new ReplayTracker();
    t.push(fixture(file));
    t.end();
    return t;
  };

  it('reads how far the stream got: file, offset, last GTID, and the event a line belongs to', () => {
    const full = track('replay-full.sql');
    expect(full.progress).toMatchObject({ file: 0, position: 1588, lastGtid: '0-1-40', lastGtidAt: new Date('2026-11-25T18:25:32Z') });
    // The client names a statement's first line: the BINLOG statement of the insert into fx
    // starts on line 98 and carries the events from 1202 (its Annotate_rows) to 1351.
    expect(full.eventAtLine(98)).toEqual({ file: 0, position: 1202 });
    expect(full.eventAtLine(112)).toEqual({ file: 0, position: 1424 });
    expect(full.eventAtLine(1)).toBeUndefined();
    // The same whatever the chunking.
    const text = fixture('replay-full.sql');
    for (const size of [1, 5, 7, 64]) {
      const t = new ReplayTracker();
      for (let i = 0; i < text.length; i += size) t.push(text.subarray(i, i + size));
      t.end();
      expect([t.eventAtLine(98), t.eventAtLine(112), t.progress.position], `chunks of ${size}`).toEqual([{ file: 0, position: 1202 }, { file: 0, position: 1424 }, 1588]);
    }
    const stopped = track('replay-stop-datetime.sql');
    expect(stopped.progress).toMatchObject({ file: 0, position: 1160, lastGtid: '0-1-38' });
    expect(reachedPoint(stopped.progress, [NAME], 557)).toEqual({ file: NAME, position: 1160, lastGtid: '0-1-38', lastAt: '2026-11-25T18:25:31.000Z' });
  });

  it('is silent when the replay reached the promised point, and says short or past otherwise', () => {
    const toEnd = simulate({ kind: 'end' }).sim.result();
    const full = reachedPoint(track('replay-full.sql').progress, [NAME], 4);
    expect(full).toEqual(promisedPoint(toEnd));
    expect(missedPromise(full, toEnd, [NAME])).toBeUndefined();

    const stopped = reachedPoint(track('replay-stop-datetime.sql').progress, [NAME], 557);
    expect(missedPromise(stopped, toEnd, [NAME])).toBe(
      `replay stopped short at ${NAME}:1160 (after transaction 0-1-38 of 2026-11-25 18:25:31Z), but the plan promised ${NAME}:1588 (after transaction 0-1-40 of 2026-11-25 18:25:32Z): the transactions after 0-1-38 up to 0-1-40 were not applied`,
    );
    const atTime = simulate({ kind: 'time', at: new Date('2026-11-25T18:25:32Z') }).sim.result();
    expect(missedPromise(stopped, atTime, [NAME])).toBeUndefined();
    expect(missedPromise(full, atTime, [NAME])).toBe(
      `replay went past the plan: it reached ${NAME}:1588 (after transaction 0-1-40 of 2026-11-25 18:25:32Z), but the plan stops at ${NAME}:1160 (after transaction 0-1-38 of 2026-11-25 18:25:31Z)`,
    );
    // The right last GTID but the stream cut inside the file: still short of the end.
    expect(missedPromise({ file: NAME, position: 1541, lastGtid: '0-1-40' }, toEnd, [NAME])).toMatch(/^replay stopped short at mysql-bin\.000004:1541 /);
    expect(missedPromise(undefined, toEnd, [NAME])).toMatch(/^replay stopped short at no event, but the plan promised/);
  });
});

describe('statements and seconds as an operator sees them', () => {
  it('shortens a statement to one line of 60 characters and hides passwords', () => {
    expect(shortStatement('INSERT  INTO t\n VALUES (1);')).toBe('INSERT INTO t VALUES (1)');
    expect(shortStatement(`UPDATE t SET note = '${'x'.repeat(80)}'`)).toHaveLength(60);
    expect(shortStatement(`UPDATE t SET note = '${'x'.repeat(80)}'`).endsWith('…')).toBe(true);
    expect(shortStatement("CREATE USER 'app'@'%' IDENTIFIED BY 's3cret'")).toBe("CREATE USER '***'@'***' IDENTIFIED BY '***'");
    expect(shortStatement("SET PASSWORD FOR app = PASSWORD('s3cret')")).not.toContain('s3cret');
    expect(shortStatement(`ALTER USER app IDENTIFIED BY '${'p'.repeat(70)}`)).not.toContain('ppp');
  });

  it('reads the fraction as typed, none for a relative time, and --second as inclusive or exclusive', () => {
    const time = (text: string) => parseRestoreTarget({ to: text }, new Date('2026-11-25T18:30:00.789Z')) as Extract<RestoreTarget, { kind: 'time' }>;
    expect(subSecondMicros(time('2026-11-25T18:25:39.500Z'))).toBe(500000);
    expect(targetFraction(time('2026-11-25T18:25:39.500Z'))).toBe('.500');
    expect(subSecondMicros(time('2026-11-25T18:25:39.000001Z'))).toBe(1);
    expect(subSecondMicros(time('2026-11-25T18:25:39Z'))).toBe(0);
    expect(subSecondMicros(time('2026-11-25 19:25+01:00'))).toBe(0);
    expect(subSecondMicros(time('-15m'))).toBe(0);
    expect(subSecondMicros({ kind: 'time', at: new Date(0), input: 'x', usec: 42 } as Extract<RestoreTarget, { kind: 'time' }>)).toBe(42);
    expect(parseSecondArg(undefined)).toBeUndefined();
    expect(parseSecondArg('Inclusive')).toBe('inclusive');
    expect(() => parseSecondArg('')).toThrow('--second "" must be inclusive (replay every transaction stamped the target\'s second) or exclusive (none of them).');
  });
});

describe('plans that can and cannot keep their promise', () => {
  const manifest = (id: string, startedAt: string, file: string, position: number): Manifest => ({
    formatVersion: 1, id, target: 'my', engine: 'mysql', kind: 'logical', type: 'full', status: 'complete',
    tool: { name: 'mariadb-dump', version: '10.11.18', argv: [] }, serverVersion: '10.11.18', startedAt, sizeBytes: 1000,
    files: [], database: 'shop', mysql: { binlogFile: file, binlogPosition: position },
  });
  const file = (n: number, first: string, last: string, extra: Partial<ArchivedBinlog> = {}): ArchivedBinlog => ({
    file: `mysql-bin.${String(n).padStart(6, '0')}`, size: 100, firstEventAt: first, lastEventAt: last, transactions: 1, ...extra,
  });
  const b = manifest('20261125T100000Z-L', '2026-11-25T10:00:00.500Z', 'mysql-bin.000001', 400);
  const f1 = file(1, '2026-11-25T09:00:00Z', '2026-11-25T10:30:00Z');
  const f2 = file(2, '2026-11-25T10:30:00Z', '2026-11-25T11:00:00Z');
  const f3 = file(3, '2026-11-25T11:00:00Z', '2026-11-25T11:30:00Z');
  const plan = (target: RestoreTarget, files: ArchivedBinlog[], missing: ArchivedBinlog[] = [], second?: 'inclusive' | 'exclusive') => {
    const inv = { files, gaps: findBinlogGaps(files.map((f) => f.file)), missing };
    return planMysqlRestore(target, [b], inv, computeMysqlWindow([b], inv), second ? { second } : {});
  };

  it('latest names what keeps it from the newest archived binlog: damage, loss, a gap', () => {
    expect(plan({ kind: 'latest' }, [f1, f2, f3]).shortfall).toBeUndefined();
    const damaged = plan({ kind: 'latest' }, [f1, { ...f2, problem: 'it holds 10 bytes where 100 were archived' }, f3]);
    expect(damaged.files.map((f) => f.file)).toEqual(['mysql-bin.000001']);
    expect(damaged.shortfall).toEqual({ reason: 'the archived mysql-bin.000002 is damaged (it holds 10 bytes where 100 were archived)', promised: { file: 'mysql-bin.000003', lastEventAt: '2026-11-25T11:30:00Z' } });
    expect(plan({ kind: 'latest' }, [f1, f2], [f3]).shortfall?.reason).toBe('mysql-bin.000003 is recorded in the binlog index but missing from the archive');
    expect(plan({ kind: 'latest' }, [f1, f3]).shortfall?.reason).toBe('mysql-bin.000002 is missing from the binlog archive');
    expect(plan({ kind: 'latest' }, [{ ...f1, problem: 'x' }, f2]).shortfall?.reason).toBe('the archived mysql-bin.000001 is damaged (x)');
  });

  it('--second inclusive stops before the next second; refused when the archive ends inside that second', () => {
    const at = (iso: string): RestoreTarget => ({ kind: 'time', at: new Date(iso), input: iso });
    expect(plan(at('2026-11-25T10:45:10.250Z'), [f1, f2], [], 'inclusive').stopAt?.toISOString()).toBe('2026-11-25T10:45:11.000Z');
    expect(plan(at('2026-11-25T10:45:10.250Z'), [f1, f2], [], 'exclusive').stopAt?.toISOString()).toBe('2026-11-25T10:45:10.000Z');
    expect(plan(at('2026-11-25T10:45:10.250Z'), [f1, f2], [], 'inclusive').notes).toEqual(['--second inclusive: replays every transaction stamped 2026-11-25 10:45:10Z and stops before 2026-11-25 10:45:11Z']);
    expect(() => plan(at('2026-11-25T11:00:00Z'), [f1, f2], [], 'inclusive')).toThrow(
      '--second inclusive asks for every transaction stamped 2026-11-25 11:00:00Z, but the archive ends within that second (its newest event is at 2026-11-25 11:00:00Z), so some of them may not be archived yet; archive them (dbdrill binlog-sync --rotate) or give --second exclusive.',
    );
  });
});

describe('where a replay that failed stopped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbdrill-replay-fail-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The real mariadb-binlog on damaged copies of the fixture; what it decodes goes to wc, and a
  // --database nobody has keeps it to the event headers.
  async function replayInto(bytes: Buffer): Promise<DbdrillError> {
    const path = join(dir, NAME);
    writeFileSync(path, bytes);
    const tracker = new ReplayTracker();
    const tool = await findBinlogTool('mariadb');
    const args = replayArgs({ files: [{ path, size: bytes.length }], startPosition: 4, schema: 'no_such_schema' });
    try {
      await runPipe({ from: { tool, args, env: { TZ: 'UTC' } }, to: { tool: 'wc', args: ['-c'] }, tap: (c) => tracker.push(c) });
    } catch (e) {
      tracker.end();
      return locateReplayFailure(e, tracker, [NAME], tool.name) as DbdrillError;
    }
    throw new Error('the replay did not fail');
  }

  it('names the offset mariadb-binlog could not read: a cut file, a flipped byte', async () => {
    const cut = await replayInto(fixture('closed.000004').subarray(0, 1000));
    expect(cut.message).toMatch(/^mariadb-binlog exited with code 1: .*Could not read entry at offset 993/);
    expect(cut.detail?.replayFailedAt).toEqual({ file: NAME, position: 993, exact: true });
    const flipped = Buffer.from(fixture('closed.000004'));
    flipped[900] = flipped[900]! ^ 0x01;
    const bad = await replayInto(flipped);
    expect(bad.message).toMatch(/crc check failed/i);
    expect(bad.detail?.replayFailedAt).toEqual({ file: NAME, position: 893, exact: true });
  });
});
