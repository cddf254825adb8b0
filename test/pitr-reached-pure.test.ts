import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeReplay, whereReplayStopped, type ReplayCheck } from '../src/pitr/reached.js';
import { emptyRecovery, foldRecovery, parseRecoveryLine } from '../src/pitr/recovery-log.js';
import { parseRestoreTarget } from '../src/pitr/time.js';
import { consistentPointCheck } from '../src/engines/postgres/physical-scratch.js';
import type { Manifest } from '../src/repo/manifest.js';

/**
 * The reached-point check on recoveries captured from real PostgreSQL 15 servers (fixtures/
 * postgres-recovery/): 64 MiB segments, backup on timeline 1 starting in segment 2.
 */
const SEG = 64 * 1024 * 1024;
const replay = (file: string, segmentBytes = SEG) =>
  readFileSync(new URL(`../fixtures/postgres-recovery/${file}`, import.meta.url), 'utf8').split('\n').map(parseRecoveryLine).reduce(foldRecovery, emptyRecovery(segmentBytes));
const legs = [{ timeline: 1, fromSeg: 2 }];
const latest = (lastSegment: string, lastSegmentLsn: string, lastCommitAt: string): ReplayCheck => ({
  target: { kind: 'latest' },
  settings: { recovery_target_timeline: '1' },
  promise: { kind: 'end-of-archive', timeline: 1, lastSegment, lastSegmentLsn, lastCommitAt, lastCommitMicros: Date.parse(lastCommitAt.slice(0, 19) + 'Z') * 1000 + Number(lastCommitAt.slice(20, 26)) },
  legs,
  segmentBytes: SEG,
});

describe('latest: replay must reach the last archived segment and its last commit', () => {
  it('a bit flip in segment 5 ended replay there: short, naming segment 5 and PostgreSQL\'s reason', () => {
    const v = judgeReplay(latest('000000010000000000000008', '0/20000000', '2026-12-06T19:55:27.257465Z'), replay('short-after-bad-record.log'));
    expect(v).toEqual({
      ok: false,
      stoppedAt: '0/14014318',
      segment: '000000010000000000000005',
      sentence: 'Recovery ended short of the plan: replay stopped at 0/14014318 in segment 000000010000000000000005; segment 000000010000000000000005 is at fault '
        + '(PostgreSQL logged "incorrect resource manager data checksum in record at 0/14014420"), while the plan promised the end of the archive on timeline 1 '
        + '(segment 000000010000000000000008, from 0/20000000) and its last commit at 2026-12-06T19:55:27.257465Z; 192 MiB of WAL before that segment were not replayed, '
        + 'and the last commit replayed is from 2026-12-06T19:55:13.082388Z, 14s of commits short.',
    });
  });

  it('a .zst wal-fetch could not decode: replay ended before it, and the segment never restored is the one at fault', () => {
    const v = judgeReplay(latest('00000001000000000000000A', '0/28000000', '2026-12-06T19:57:10.000001Z'), replay('zstd-fetch-error.log'));
    expect(v.ok).toBe(false);
    expect(v.ok === false && v.segment).toBe('000000010000000000000009');
    expect(v.ok === false && v.sentence).toContain('replay stopped at 0/200288C0 in segment 000000010000000000000008; the next segment, 000000010000000000000009, was never restored from the archive '
      + '(wal-fetch said "zstd exited with code 1: 0000000000000009.zst : Decoding error (36) : Restored data doesn\'t match checksum.")');
  });

  it('the same replay is complete when the archive ended where it stopped', () => {
    expect(judgeReplay(latest('000000010000000000000008', '0/20000000', '2026-12-06T19:55:27.257465Z'), replay('zstd-fetch-error.log'))).toEqual({
      ok: true, reached: 'the end of the archive on timeline 1 (redo done at 0/200288C0)',
    });
    // One commit more promised than replayed, within the last segment: still short.
    expect(judgeReplay(latest('000000010000000000000008', '0/20000000', '2026-12-06T19:55:27.257466Z'), replay('zstd-fetch-error.log')).ok).toBe(false);
  });
});

describe('targets PostgreSQL announces reaching', () => {
  it('a time target is reached when recovery stopped before a later commit and nothing after the target was replayed', () => {
    const s = replay('stopped-at-time.log', 16 * 1024 * 1024);
    const check = (to: string, inclusive = true): ReplayCheck => ({
      target: parseRestoreTarget({ to }), settings: { recovery_target_inclusive: String(inclusive) }, promise: { kind: 'target' }, legs, segmentBytes: 16 * 1024 * 1024,
    });
    expect(judgeReplay(check('2026-11-25T18:05:02.820704Z'), s)).toEqual({ ok: true, reached: 'the target 2026-11-25T18:05:02.820704Z: stopped before transaction 772, committed 2026-11-25T18:05:03.856211Z' });
    // Stopped before a commit at exactly the target: that commit was due (inclusive), so short.
    expect(judgeReplay(check('2026-11-25T18:05:03.856211Z'), s).ok).toBe(false);
    expect(judgeReplay(check('2026-11-25T18:05:03.856211Z', false), s).ok).toBe(true);
  });

  it('a FATAL names where replay stopped and the segment PostgreSQL could not use', () => {
    const wrong = replay('wrong-size.log');
    expect(wrong.fatal).toBe('archive file "000000010000000000000006" has wrong size: 33554432 instead of 67108864');
    expect(whereReplayStopped({ legs, segmentBytes: SEG }, wrong)).toEqual({
      text: 'replay stopped at 0/14000000 in segment 000000010000000000000005; the next segment, 000000010000000000000006, was never restored from the archive',
      lsn: '0/14000000',
      fault: '000000010000000000000006',
    });
    const past = replay('target-past-bad-record.log');
    expect(past.fatal).toBe('recovery ended before configured recovery target was reached');
    expect(whereReplayStopped({ legs, segmentBytes: SEG }, past).text).toBe(
      'replay stopped at 0/10014160 in segment 000000010000000000000004; segment 000000010000000000000004 is at fault (PostgreSQL logged "incorrect resource manager data checksum in record at 0/100141A0")',
    );
  });

  it('xid, LSN and restore-point targets need PostgreSQL\'s own "recovery stopping" line', () => {
    const lines = [
      '2026-11-25 18:05:06.353 UTC [5272] LOG:  recovery stopping after commit of transaction 741, time 2026-11-25 18:05:03.1+00',
      '2026-11-25 18:05:06.353 UTC [5272] LOG:  recovery stopping after WAL location (LSN) "0/3000148"',
      '2026-11-25 18:05:06.353 UTC [5272] LOG:  recovery stopping at restore point "after_one", time 2026-11-25 18:05:02.5+00',
    ];
    const s = lines.map(parseRecoveryLine).reduce(foldRecovery, emptyRecovery());
    const check = (target: Parameters<typeof parseRestoreTarget>[0]): ReplayCheck => ({ target: parseRestoreTarget(target), settings: {}, promise: { kind: 'target' }, legs, segmentBytes: SEG });
    expect(judgeReplay(check({ xid: '741' }), s)).toEqual({ ok: true, reached: 'transaction 741 (after its commit)' });
    expect(judgeReplay(check({ xid: '742' }), s).ok).toBe(false);
    expect(judgeReplay(check({ lsn: '0/3000148' }), s)).toEqual({ ok: true, reached: 'LSN 0/3000148 (after it)' });
    expect(judgeReplay(check({ name: 'after_one' }), s)).toEqual({ ok: true, reached: 'restore point "after_one"' });
    expect(judgeReplay(check({ lsn: '0/3000148' }), emptyRecovery()).ok).toBe(false);
  });
});

describe('verify --restore: a base backup restored to its own end', () => {
  const m = (stopLsn: string) => ({ serverVersion: '15.18', postgres: { timeline: 1, startLsn: '0/2000028', stopLsn } }) as Manifest;
  it('must report consistency at the backup\'s stop LSN (the same check, through the same scratch restore)', () => {
    const s = replay('stopped-at-time.log', 16 * 1024 * 1024);
    expect(judgeReplay(consistentPointCheck(m('0/2000100')), s)).toEqual({ ok: true, reached: 'the consistent point 0/2000100' });
    const short = judgeReplay(consistentPointCheck(m('0/5000000')), s);
    expect(short.ok).toBe(false);
    expect(short.ok === false && short.sentence).toMatch(/^Recovery ended short of the plan: replay stopped at 0\/4000678 in segment 000000010000000000000004; .*, while the plan promised the backup's consistent point 0\/5000000\.$/);
  });
});
