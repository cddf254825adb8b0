/** Replication slots as sampled and as health shows them (types only; src/health/pg-slots.ts derives). */

/** One physical replication slot as the server reports it, with its walsender when one is connected. */
export interface SlotSample {
  name: string;
  active: boolean;
  /** reserved, extended, unreserved, lost (null before the slot first reserved WAL). */
  walStatus: string | null;
  /** WAL the slot keeps in pg_wal: current LSN minus its restart_lsn. */
  retainedBytes: number | null;
  /** The connected receiver's application_name. */
  application: string | null;
  /** Current LSN minus what the receiver reports written: WAL not yet in the repository's files (with --synchronous, written is flushed). */
  writeLagBytes: number | null;
  /** pg_stat_replication.write_lag: how long a commit takes to reach the repository (null when idle). */
  writeLagSeconds: number | null;
  /** sync, async, potential, quorum. */
  syncState: string | null;
}

/** The target's `dbdrill stream`, as health shows it. */
export interface StreamView {
  slot: string;
  running: boolean;
  synchronous: boolean;
  lagBytes: number | null;
  lagSeconds: number | null;
  retainedBytes: number | null;
  /** How long the slot has been seen without a receiver (null while one is connected). */
  inactiveSeconds: number | null;
  walStatus: string | null;
}
