import { describe, expect, it } from 'vitest';
import { deriveSlots, type SlotSample } from '../src/health/pg-slots.js';
import type { PgSample } from '../src/health/pg-sample.js';
import { streamSlotName } from '../src/engines/postgres/stream-names.js';

/** Only `at` and `slots` matter to the slots' derivation. */
const T0 = Date.parse('2026-12-01T10:00:00Z');
const sample = (t: number, slots: SlotSample[]) => ({ at: new Date(T0 + t * 1000).toISOString(), slots }) as PgSample;
const slot = (over: Partial<SlotSample> = {}): SlotSample => ({
  name: 'dbdrill_prod',
  active: true,
  walStatus: 'reserved',
  retainedBytes: 16 << 20,
  application: 'dbdrill_prod',
  writeLagBytes: 4096,
  writeLagSeconds: 0.2,
  syncState: 'async',
  ...over,
});
const disk = { path: '/var/lib/postgresql', freeBytes: 10 * 2 ** 30, totalBytes: 100 * 2 ** 30 };

describe('stream and slot health', () => {
  it('names the slot after the target, as slot names allow', () => {
    expect(streamSlotName('prod')).toBe('dbdrill_prod');
    expect(streamSlotName('Shop-EU.1')).toBe('dbdrill_shop_eu_1');
    expect(streamSlotName('x'.repeat(80))).toHaveLength(63);
  });

  it('a running stream is OK with its lag; its RPO is the flush lag, 0 when synchronous', () => {
    const d = deriveSlots([sample(0, [slot()])], 'dbdrill_prod', 'prod', disk);
    expect(d.checks).toEqual([{ name: 'stream', status: 'OK', reason: 'Stream running: 4.0 KiB behind (0.2 s); slot dbdrill_prod retains 16 MiB of WAL.' }]);
    expect(d.stream).toMatchObject({ running: true, synchronous: false, lagBytes: 4096, lagSeconds: 0.2 });
    expect(d.rpo).toMatchObject({ seconds: 0.2, basis: 'stream' });
    const sync = deriveSlots([sample(0, [slot({ syncState: 'sync', writeLagBytes: 0, writeLagSeconds: null })])], 'dbdrill_prod', 'prod', disk);
    expect(sync.rpo).toMatchObject({ seconds: 0, basis: 'stream' });
    expect(sync.checks[0]!.reason).toContain('Stream running (synchronous)');
  });

  it('a stream slot briefly without its receiver is WARN; inactive for a minute or retaining 64 MiB it is CRIT with the drop command', () => {
    const idle = slot({ active: false, application: null, writeLagBytes: null, writeLagSeconds: null, syncState: null });
    const brief = deriveSlots([sample(0, [slot()]), sample(10, [idle])], 'dbdrill_prod', 'prod', disk);
    expect(brief.checks).toEqual([{ name: 'stream', status: 'WARN', reason: 'The stream is not connected (slot dbdrill_prod inactive, retaining 16 MiB); is dbdrill stream prod running?' }]);
    const long = deriveSlots([sample(0, [idle]), sample(30, [idle]), sample(61, [idle])], 'dbdrill_prod', 'prod', disk);
    expect(long.checks).toHaveLength(1);
    expect(long.checks[0]!.status).toBe('CRIT');
    expect(long.checks[0]!.reason).toBe(
      "The stream is not running: slot dbdrill_prod has no reader (for 1m1s) and retains 16 MiB of WAL, which grows until the disk holding pg_wal (10 GiB free of 100 GiB) is full; start dbdrill stream prod, or drop it with SELECT pg_drop_replication_slot('dbdrill_prod').",
    );
    const big = deriveSlots([sample(0, [{ ...idle, retainedBytes: 64 << 20 }])], 'dbdrill_prod', 'prod', disk);
    expect(big.checks[0]!.status).toBe('CRIT');
  });

  it("another physical slot nobody reads is CRIT; one that lost its WAL says so; an active one is not the target's business", () => {
    const d = deriveSlots(
      // in slot_name order, as the sample query returns them
      [sample(0, [slot(), slot({ name: 'gone', active: false, walStatus: 'lost', retainedBytes: null }), slot({ name: 'old_standby', active: false, retainedBytes: 3 * 2 ** 30, writeLagBytes: null }), slot({ name: 'replica', active: true })])],
      'dbdrill_prod',
      'prod',
      { unknown: 'the server at db1 is not on this machine' },
    );
    const crit = d.checks.find((c) => c.name === 'replication slots')!;
    expect(crit.status).toBe('CRIT');
    expect(crit.reason).toBe(
      "Slot gone has lost the WAL it needed (wal_status lost): drop it with SELECT pg_drop_replication_slot('gone'); slot old_standby has no reader and retains 3.0 GiB of WAL, which grows until the disk holding pg_wal is full; drop it with SELECT pg_drop_replication_slot('old_standby').",
    );
    expect(d.checks.find((c) => c.name === 'stream')!.status).toBe('OK');
  });

  it('no slots: nothing to say', () => {
    expect(deriveSlots([sample(0, [])], 'dbdrill_prod', 'prod', disk)).toEqual({ checks: [] });
  });
});
