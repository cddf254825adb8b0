import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TableStat } from '../../repo/manifest.js';
import { sampleStatements } from '../../sandbox/sample-data.js';
import type { DisasterKind } from '../../training/session.js';
import { tableStats } from './table-stats.js';

/** The SQL of the training disasters, their repair and the sandbox's reset (PostgreSQL). */

/** A small log of "business as usual" commits, so restoring too early visibly loses some (RPO). */
export async function writeTrainingEvents(client: pg.Client, count: number, gapMs: number, signal?: AbortSignal): Promise<Date> {
  await client.query('CREATE TABLE IF NOT EXISTS training_events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), note text NOT NULL)');
  let last = new Date();
  for (let i = 1; i <= count; i++) {
    const { rows } = await client.query<{ at: Date }>("INSERT INTO training_events (note) VALUES ($1) RETURNING at", [`business as usual ${i}/${count}`]);
    last = rows[0]!.at;
    if (i < count) await sleep(gapMs, undefined, signal ? { signal } : {});
  }
  return last;
}

export async function statOf(client: pg.Client, table: string): Promise<TableStat | undefined> {
  return (await tableStats(client, { only: [table] }))[0];
}

/** Does the damage and returns when it committed (the transaction's own clock). */
export async function causeDisaster(client: pg.Client, kind: DisasterKind): Promise<Date> {
  if (kind === 'break-archiving') {
    // Exit 200 is the blind spot: pg_stat_archiver counts only failures up to 125.
    await client.query("ALTER SYSTEM SET archive_command = 'exit 200'");
    await client.query('SELECT pg_reload_conf()');
    const { rows } = await client.query<{ at: Date }>('SELECT clock_timestamp() AS at');
    return rows[0]!.at;
  }
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ at: Date }>('SELECT now() AS at');
    await client.query(kind === 'drop-table' ? 'DROP TABLE order_items' : 'DELETE FROM order_items WHERE line_no = 2');
    await client.query('COMMIT');
    return rows[0]!.at;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

export async function currentArchiveCommand(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ v: string }>("SELECT current_setting('archive_command') AS v");
  return rows[0]!.v;
}

export async function setArchiveCommand(client: pg.Client, command: string): Promise<void> {
  // ALTER SYSTEM takes no parameters: quote the literal ourselves.
  await client.query(`ALTER SYSTEM SET archive_command = '${command.replace(/'/g, "''")}'`);
  await client.query('SELECT pg_reload_conf()');
}

/** Closes the current segment so the archiver gets it now rather than at archive_timeout. */
export async function switchWal(client: pg.Client): Promise<string> {
  // A switch on a segment with no new WAL is a no-op; a tiny write makes sure there is some.
  await client.query("SELECT pg_logical_emit_message(false, 'dbdrill-training', 'switch')");
  const { rows } = await client.query<{ wal: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS wal');
  return rows[0]!.wal;
}

export interface ArchiverState {
  lastArchivedWal: string | null;
  ready: number;
}

export async function archiverState(client: pg.Client): Promise<ArchiverState> {
  const { rows } = await client.query<{ last: string | null; ready: string }>(
    "SELECT last_archived_wal AS last, (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready')::text AS ready FROM pg_stat_archiver",
  );
  return { lastArchivedWal: rows[0]!.last, ready: Number(rows[0]!.ready) };
}

/** Waits until `segment` (or a later one) is archived; false when it is not within the time. */
export async function waitArchived(client: pg.Client, segment: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await archiverState(client);
    // Segment names of one timeline sort in WAL order.
    if (s.lastArchivedWal !== null && s.lastArchivedWal.slice(0, 24) >= segment) return true;
    if (Date.now() > until) return false;
    await sleep(250, undefined, signal ? { signal } : {});
  }
}

/** Puts order_items back as the sample had it (the sandbox's own data, not the trainee's restore). */
export async function resetTrainingTable(client: pg.Client): Promise<void> {
  const statements = sampleStatements('postgres').filter((s) => /^(CREATE TABLE|INSERT INTO) order_items\b/.test(s));
  await client.query('BEGIN');
  try {
    await client.query('DROP TABLE IF EXISTS order_items');
    for (const sql of statements) await client.query(sql);
    await client.query('DROP TABLE IF EXISTS training_events');
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}
