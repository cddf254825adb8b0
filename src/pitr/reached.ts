import { formatDuration } from '../config/duration.js';
import { formatBytes } from '../util/bytes.js';
import { isoMicros, microsOf, type Micros } from './micros.js';
import type { PgRestorePlan, ReplayPromise } from './plan.js';
import type { RecoveryState } from './recovery-log.js';
import type { RestoreTarget } from './time.js';
import { timelineOfSegment, type Leg } from './timelines.js';
import { formatLsn, parseLsn, segmentName, SEGMENT_RE } from './wal-names.js';

/**
 * Whether a finished recovery reached the point its plan promised. PostgreSQL cannot tell a
 * corrupt or unreadable segment from the end of the archive (it ends replay there and promotes),
 * so a restore proves its point from the server log: the LSN where redo was done, the last
 * commit replayed, and what recovery said when it stopped at its target.
 */
export interface ReplayCheck {
  target: RestoreTarget;
  settings: Record<string, string>;
  promise: ReplayPromise;
  legs: Leg[];
  segmentBytes: number;
}

export type ReplayVerdict =
  | { ok: true; reached: string }
  | { ok: false; sentence: string; stoppedAt?: string; segment?: string };

/** The plan's part of a replay check. */
export function replayCheckOf(plan: PgRestorePlan): ReplayCheck {
  return { target: plan.target, settings: plan.settings, promise: plan.promise, legs: plan.legs, segmentBytes: plan.segmentBytes };
}

function when(m: Micros): string {
  return isoMicros(m).replace(/\.?0*Z$/, 'Z');
}

export function judgeReplay(c: ReplayCheck, s: RecoveryState): ReplayVerdict {
  const short = (promised: string, gap?: string): ReplayVerdict => {
    const where = whereReplayStopped(c, s);
    return {
      ok: false,
      sentence: `Recovery ended short of the plan: ${where.text}, while the plan promised ${promised}${gap ? `; ${gap}` : ''}.`,
      ...(where.lsn ? { stoppedAt: where.lsn } : {}),
      ...(where.fault ? { segment: where.fault } : {}),
    };
  };
  const p = c.promise;
  const t = c.target;
  if (p.kind === 'end-of-archive') {
    const done = s.redoDoneAt ? parseLsn(s.redoDoneAt) : undefined;
    const promised = `the end of the archive on timeline ${p.timeline} (segment ${p.lastSegment}, from ${p.lastSegmentLsn})${p.lastCommitMicros !== undefined ? ` and its last commit at ${when(p.lastCommitMicros)}` : ''}`;
    const lsnShort = done === undefined || done < parseLsn(p.lastSegmentLsn) || (p.lastCommitLsn !== undefined && done < parseLsn(p.lastCommitLsn));
    const commitShort = p.lastCommitMicros !== undefined && (s.lastCommitMicros ?? -Infinity) < p.lastCommitMicros;
    if (lsnShort || commitShort) {
      const parts: string[] = [];
      if (done !== undefined && done < parseLsn(p.lastSegmentLsn)) parts.push(`${formatBytes(Number(parseLsn(p.lastSegmentLsn) - done))} of WAL before that segment were not replayed`);
      if (p.lastCommitMicros !== undefined && s.lastCommitMicros !== undefined && commitShort) {
        parts.push(`the last commit replayed is from ${when(s.lastCommitMicros)}, ${formatDuration((p.lastCommitMicros - s.lastCommitMicros) / 1e6)} of commits short`);
      } else if (p.lastCommitMicros !== undefined && s.lastCommitMicros === undefined) {
        parts.push('no commit after the backup was replayed');
      }
      return short(promised, parts.join(', and '));
    }
    return { ok: true, reached: `the end of the archive on timeline ${p.timeline} (redo done at ${s.redoDoneAt})` };
  }
  if (p.kind === 'consistent') {
    if (!s.consistentAt || parseLsn(s.consistentAt) < parseLsn(p.lsn)) return short(`the backup's consistent point ${p.lsn}`);
    return { ok: true, reached: `the consistent point ${s.consistentAt}` };
  }
  switch (t.kind) {
    case 'time': {
      const target = microsOf(t.at, t.usec);
      const inclusive = c.settings.recovery_target_inclusive !== 'false';
      const stop = s.stoppedBefore;
      const stopOk = stop && stop.before && (inclusive ? stop.micros > target : stop.micros >= target);
      const lastOk = s.lastCommitMicros === undefined || (inclusive ? s.lastCommitMicros <= target : s.lastCommitMicros < target);
      if (!stopOk || !lastOk) {
        return short(`the target ${when(target)} (${inclusive ? 'including' : 'excluding'} a commit at that moment)`, stop ? `recovery stopped at transaction ${stop.xid} committed ${when(stop.micros)}` : 'no commit after the target was replayed');
      }
      return { ok: true, reached: `the target ${when(target)}: stopped before transaction ${stop!.xid}, committed ${when(stop!.micros)}` };
    }
    case 'lsn':
      if (!s.stoppedAtLsn) return short(`LSN ${t.lsn}`);
      return { ok: true, reached: `LSN ${s.stoppedAtLsn.lsn} (${s.stoppedAtLsn.before ? 'before' : 'after'} it)` };
    case 'xid':
      if (s.stoppedBefore?.xid !== t.xid) return short(`transaction ${t.xid}`);
      return { ok: true, reached: `transaction ${t.xid} (${s.stoppedBefore.before ? 'before' : 'after'} its commit)` };
    case 'name':
      if (s.stoppedAtName !== t.name) return short(`restore point "${t.name}"`);
      return { ok: true, reached: `restore point "${t.name}"` };
    default:
      return { ok: true, reached: 'the target' };
  }
}

/**
 * Where replay stopped, and the segment at fault: the one PostgreSQL or wal-fetch named, else
 * the next one on the path when recovery never restored it, else the one replay stopped in.
 */
export function whereReplayStopped(c: Pick<ReplayCheck, 'legs' | 'segmentBytes'>, s: RecoveryState): { text: string; lsn?: string; fault?: string } {
  const pos = s.redoDoneAt ? parseLsn(s.redoDoneAt) : s.replayed;
  const name = (segNo: number) => segmentName({ timeline: timelineOfSegment(c.legs, segNo), segNo }, c.segmentBytes);
  const named = [s.fatal, s.fetchError, s.badWal?.segment, s.badWal?.lsn ? name(Number(parseLsn(s.badWal.lsn) / BigInt(c.segmentBytes))) : undefined]
    .map((x) => (x ? /\b([0-9A-F]{24})\b/.exec(x)?.[1] : undefined))
    .find((x) => x !== undefined && SEGMENT_RE.test(x));
  const evidence = [
    s.fetchError ? `wal-fetch said "${s.fetchError}"` : '',
    s.badWal ? `PostgreSQL logged "${s.badWal.message}"` : '',
  ].filter(Boolean).join('; ');
  if (pos === undefined) {
    return { text: `replay never started${named ? `; segment ${named} is at fault` : ''}${evidence ? ` (${evidence})` : ''}`, ...(named ? { fault: named } : {}) };
  }
  const stopSeg = Number(pos / BigInt(c.segmentBytes));
  const stopName = name(stopSeg);
  const next = name(stopSeg + 1);
  const fault = named ?? (s.restored.includes(next) ? stopName : next);
  const lsn = formatLsn(pos);
  const faultText = fault === stopName ? `segment ${stopName} is at fault` : `the next segment, ${fault}, ${s.restored.includes(fault) ? 'could not be replayed' : 'was never restored from the archive'}`;
  return { text: `replay stopped at ${lsn} in segment ${stopName}; ${faultText}${evidence ? ` (${evidence})` : ''}`, lsn, fault };
}
