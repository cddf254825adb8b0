import { formatDuration } from '../config/duration.js';
import { formatBytes } from '../util/bytes.js';
import type { DiskView } from './local-disk.js';
import type { RpoEstimate } from './pg-derive.js';
import type { PgSample } from './pg-sample.js';
import type { SlotSample, StreamView } from './pg-slot-types.js';
import type { HealthCheck } from './status.js';

export type { SlotSample, StreamView } from './pg-slot-types.js';

/** An inactive slot retaining at least this much, or inactive this long, is abandoned: CRIT. */
export const ABANDONED_SLOT_BYTES = 64 * 1024 * 1024;
export const ABANDONED_SLOT_SECONDS = 60;

export interface SlotsDerived {
  stream?: StreamView;
  checks: HealthCheck[];
  /** The RPO while the stream runs: what the repository lacks is what it has not flushed. */
  rpo?: RpoEstimate;
}

/** Seconds since `name` was first seen inactive in the latest unbroken run of samples that show it so. */
function inactiveFor(series: readonly PgSample[], name: string): number {
  const now = Date.parse(series.at(-1)!.at);
  let since = now;
  for (let i = series.length - 1; i >= 0; i--) {
    const s = series[i]!.slots?.find((x) => x.name === name);
    if (!s || s.active) break;
    since = Date.parse(series[i]!.at);
  }
  return (now - since) / 1000;
}

function diskWords(disk: DiskView | null): string {
  if (!disk || 'unknown' in disk) return 'until the disk holding pg_wal is full';
  return `until the disk holding pg_wal (${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.totalBytes)}) is full`;
}

const drop = (slot: string) => `SELECT pg_drop_replication_slot('${slot.replace(/'/g, "''")}')`;

/**
 * The replication slots of a PostgreSQL server: the target's stream slot (running or not, its lag
 * and what it retains), and any physical slot nobody reads from — the classic way to fill pg_wal:
 * a slot keeps every segment from its restart_lsn on, forever. Pure, over the sampled series.
 */
export function deriveSlots(series: readonly PgSample[], streamSlot: string, target: string, walDisk: DiskView | null): SlotsDerived {
  const s = series.at(-1);
  const slots = s?.slots ?? [];
  const checks: HealthCheck[] = [];
  const abandoned: string[] = [];
  let stream: StreamView | undefined;
  let rpo: RpoEstimate | undefined;
  for (const slot of slots) {
    const ours = slot.name === streamSlot;
    const idle = slot.active ? null : inactiveFor(series, slot.name);
    if (ours) {
      const synchronous = slot.syncState === 'sync';
      const lagBytes = slot.active ? slot.writeLagBytes : slot.retainedBytes;
      // write_lag keeps its last value for a while once caught up: no bytes behind is no delay.
      const lagSeconds = slot.active ? (lagBytes === 0 ? 0 : slot.writeLagSeconds) : null;
      stream = { slot: slot.name, running: slot.active, synchronous, lagBytes, lagSeconds, retainedBytes: slot.retainedBytes, inactiveSeconds: idle, walStatus: slot.walStatus };
      if (slot.active) {
        const behind = `${formatBytes(lagBytes ?? 0)} behind${lagSeconds !== null ? ` (${lagSeconds.toFixed(1)} s)` : ''}`;
        checks.push({ name: 'stream', status: 'OK', reason: `Stream running${synchronous ? ' (synchronous)' : ''}: ${behind}; slot ${slot.name} retains ${formatBytes(slot.retainedBytes ?? 0)} of WAL.` });
        rpo = synchronous
          ? { seconds: 0, basis: 'stream', text: 'RPO 0: the stream is the synchronous standby, so a commit returns only once it is in the repository.' }
          : lagBytes === 0
            ? { seconds: 0, basis: 'stream', text: 'The stream has written all WAL into the repository: no committed work is missing from it now.' }
            : { seconds: lagSeconds ?? 0, basis: 'stream', text: `The stream is ${behind}: that much committed work is not in the repository yet.` };
        continue;
      }
    }
    if (slot.active) continue;
    const retained = slot.retainedBytes ?? 0;
    const lost = slot.walStatus === 'lost';
    if (lost || retained >= ABANDONED_SLOT_BYTES || (idle ?? 0) >= ABANDONED_SLOT_SECONDS) {
      abandoned.push(
        lost
          ? `slot ${slot.name} has lost the WAL it needed (wal_status lost): ${ours ? 'the stream has a gap; take a new backup, then ' : ''}drop it with ${drop(slot.name)}`
          : `slot ${slot.name} has no reader${idle ? ` (for ${formatDuration(idle)})` : ''} and retains ${formatBytes(retained)} of WAL, which grows ${diskWords(walDisk)}; ${ours ? `start dbdrill stream ${target}, or ` : ''}drop it with ${drop(slot.name)}`,
      );
    } else if (ours) {
      checks.push({ name: 'stream', status: 'WARN', reason: `The stream is not connected (slot ${slot.name} inactive${idle ? ` for ${formatDuration(idle)}` : ''}, retaining ${formatBytes(retained)}); is dbdrill stream ${target} running?` });
    }
  }
  if (abandoned.length > 0) {
    const ourIsAbandoned = stream !== undefined && !stream.running && !checks.some((c) => c.name === 'stream');
    if (ourIsAbandoned) checks.push({ name: 'stream', status: 'CRIT', reason: `The stream is not running: ${abandoned.find((a) => a.startsWith(`slot ${streamSlot} `))}.` });
    const others = abandoned.filter((a) => !a.startsWith(`slot ${streamSlot} `));
    if (others.length > 0) checks.push({ name: 'replication slots', status: 'CRIT', reason: `${capital(others.join('; '))}.` });
  }
  return { ...(stream ? { stream } : {}), checks, ...(rpo ? { rpo } : {}) };
}

function capital(t: string): string {
  return t.charAt(0).toUpperCase() + t.slice(1);
}
