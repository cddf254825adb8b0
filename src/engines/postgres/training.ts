import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Target } from '../../config/target.js';
import type { TableStat } from '../../repo/manifest.js';
import { sampleStatements } from '../../sandbox/sample-data.js';
import type { DisasterKind } from '../../training/session.js';
import type { TrainingServer } from '../contract.js';
import { connectPostgres } from './client.js';
import { tableStats } from './table-stats.js';

/** The SQL of the training disasters, their repair and the sandbox's reset (PostgreSQL). */

/** The training's connection to the sandbox (or to a restored copy of it), behind the engine contract. */
export async function connectTraining(target: Target): Promise<TrainingServer> {
  const client = await connectPostgres(target);
  return {
    archiveCommand: () => currentArchiveCommand(client),
    setArchiveCommand: (command) => setArchiveCommand(client, command),
    writeEvents: (count, gapMs, signal) => writeTrainingEvents(client, count, gapMs, signal),
    tableStat: (table) => statOf(client, table),
    causeDisaster: (kind) => causeDisaster(client, kind),
    switchLog: () => switchWal(client),
    async archiver(file) {
      const s = await archiverState(client);
      return { ready: s.ready, lastArchived: s.lastArchivedWal, archived: file !== undefined && archivedPast(s, file) };
    },
    waitArchived: (file, timeoutMs, signal) => waitArchived(client, file, timeoutMs, signal),
    resetTrainingTable: () => resetTrainingTable(client),
    close: () => client.end().catch(() => {}),
  };
}

/** Segment names of one timeline sort in WAL order (the first 24 characters, without a .partial). */
function archivedPast(s: ArchiverState, segment: string): boolean {
  return s.lastArchivedWal !== null && s.lastArchivedWal.slice(0, 24) >= segment;
}

/** A small log of "business as usual" commits, so restoring too early visibly loses some (RPO). */
async function writeTrainingEvents(client: pg.Client, count: number, gapMs: number, signal?: AbortSignal): Promise<Date> {
  await client.query('CREATE TABLE IF NOT EXISTS training_events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), note text NOT NULL)');
  let last = new Date();
  for (let i = 1; i <= count; i++) {
    const { rows } = await client.query<{ at: Date }>("INSERT INTO training_events (note) VALUES ($1) RETURNING at", [`business as usual ${i}/${count}`]);
    last = rows[0]!.at;
    if (i < count) await sleep(gapMs, undefined, signal ? { signal } : {});
  }
  return last;
}

async function statOf(client: pg.Client, table: string): Promise<TableStat | undefined> {
  return (await tableStats(client, { only: [table] }))[0];
}

/** Does the damage and returns when it committed (the transaction's own clock). */
async function causeDisaster(client: pg.Client, kind: DisasterKind): Promise<Date> {
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

async function currentArchiveCommand(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ v: string }>("SELECT current_setting('archive_command') AS v");
  return rows[0]!.v;
}

async function setArchiveCommand(client: pg.Client, command: string): Promise<void> {
  // ALTER SYSTEM takes no parameters: quote the literal ourselves.
  await client.query(`ALTER SYSTEM SET archive_command = '${command.replace(/'/g, "''")}'`);
  await client.query('SELECT pg_reload_conf()');
}

/** Closes the current segment so the archiver gets it now rather than at archive_timeout. */
async function switchWal(client: pg.Client): Promise<string> {
  // A switch on a segment with no new WAL is a no-op; a tiny write makes sure there is some.
  await client.query("SELECT pg_logical_emit_message(false, 'dbdrill-training', 'switch')");
  const { rows } = await client.query<{ wal: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS wal');
  return rows[0]!.wal;
}

interface ArchiverState {
  lastArchivedWal: string | null;
  ready: number;
}

async function archiverState(client: pg.Client): Promise<ArchiverState> {
  const { rows } = await client.query<{ last: string | null; ready: string }>(
    "SELECT last_archived_wal AS last, (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready')::text AS ready FROM pg_stat_archiver",
  );
  return { lastArchivedWal: rows[0]!.last, ready: Number(rows[0]!.ready) };
}

/** Waits until `segment` (or a later one) is archived; false when it is not within the time. */
async function waitArchived(client: pg.Client, segment: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (archivedPast(await archiverState(client), segment)) return true;
    if (Date.now() > until) return false;
    await sleep(250, undefined, signal ? { signal } : {});
  }
}

/** Puts order_items back as the sample had it (the sandbox's own data, not the trainee's restore). */
async function resetTrainingTable(client: pg.Client): Promise<void> {
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
