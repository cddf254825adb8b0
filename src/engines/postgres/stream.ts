import { chownSync, mkdirSync, statSync } from 'node:fs';
import type { Target } from '../../config/target.js';
import { invalid } from '../../errors.js';
import { Repository } from '../../repo/repository.js';
import { findTool } from '../../runner/tools.js';
import { prepareWalDir, walRoot } from '../../wal/layout.js';
import { streamDir } from '../../wal/stream-dir.js';
import { settleStreamed, type Settled } from '../../wal/stream-settle.js';
import type { StreamSetup } from '../contract.js';
import { connectPostgres } from './client.js';
import { pgConnArgs, pgSecret } from './connection-args.js';
import { probePostgres } from './probe.js';
import { streamSlotName } from './stream-names.js';

function sqlString(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

/** synchronous_standby_names naming exactly this stream (quoted: the name is an identifier). */
export function syncStandbyValue(applicationName: string): string {
  return `"${applicationName}"`;
}

/**
 * Where a method's stream puts what pg_receivewal completes: the owner the receiver runs as (and
 * stream/ belongs to, so the server's user can read the .partial during a restore), the archive's
 * name for messages, and one pass moving the completed files from stream/ into that archive.
 */
export interface StreamSink {
  owner?: { uid: number; gid: number };
  archive: string;
  settle(): Promise<Settled>;
  notes?: string[];
}

/** The native method: dbdrill's wal/, filled through walPush; stream/ belongs to wal/'s owner. */
export function nativeStreamSink(target: Target): StreamSink {
  let owner: { uid: number; gid: number } | undefined;
  try {
    const st = statSync(walRoot(target.repo));
    if (process.getuid?.() === 0 && st.uid !== 0) owner = { uid: st.uid, gid: st.gid };
  } catch {
    prepareWalDir(target.repo);
  }
  return { ...(owner ? { owner } : {}), archive: walRoot(target.repo), settle: () => settleStreamed(target.repo) };
}

/**
 * Readies a PostgreSQL server for `dbdrill stream`: the physical slot (reserving WAL from now, so
 * nothing is recycled before pg_receivewal first connects), the stream directory inside the
 * repository, and with `synchronous` the stream as the only synchronous standby. Where completed
 * segments go is the target's method's (`sink`: native's wal/ unless the method row brings one).
 */
async function prepare(target: Target, opts: { synchronous: boolean }, methodSink?: (target: Target) => Promise<StreamSink>): Promise<StreamSetup> {
  if (target.encryptTo?.length) {
    // pg_receivewal writes the segment it is receiving in plain text, and that file lives in the
    // repository: streaming would put the rows the encryption is there to hide on its disk.
    throw invalid(`Target "${target.name}" keeps its repository encrypted (encryptTo), and pg_receivewal writes the segment it receives in plain text there; archive with archive_command (dbdrill archiving enable ${target.name}) for this target, or drop the encryption with target edit ${target.name} --encrypt-to off.`);
  }
  const probe = await probePostgres(target);
  const repo = new Repository(target.repo);
  repo.ensure(target, probe.systemId);
  const sink = methodSink ? await methodSink(target) : nativeStreamSink(target);
  const owner = sink.owner;
  const dir = streamDir(target.repo);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (owner) chownSync(dir, owner.uid, owner.gid);

  const slot = streamSlotName(target.name);
  const notes: string[] = [...(sink.notes ?? [])];
  const client = await connectPostgres(target);
  try {
    const existing = await client.query<{ slot_type: string }>('SELECT slot_type FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    const type = existing.rows[0]?.slot_type;
    if (type === undefined) {
      try {
        await client.query('SELECT pg_create_physical_replication_slot($1, true)', [slot]);
      } catch (e) {
        throw invalid(`Could not create the replication slot ${slot} on ${target.host}:${target.port}: ${(e as Error).message}; the target's user needs the REPLICATION attribute and max_replication_slots a free slot.`);
      }
      notes.push(`created the physical replication slot ${slot}`);
    } else if (type !== 'physical') {
      throw invalid(`The replication slot ${slot} on ${target.host}:${target.port} is a ${type} slot, not the physical one the stream needs; drop it with SELECT pg_drop_replication_slot('${slot}').`);
    }
    const cur = (await client.query<{ v: string }>(`SELECT current_setting('synchronous_standby_names') AS v`)).rows[0]!.v;
    const want = syncStandbyValue(slot);
    if (opts.synchronous && cur !== want) {
      if (cur !== '') notes.push(`synchronous_standby_names was ${JSON.stringify(cur)}; the stream replaces it`);
      await client.query(`ALTER SYSTEM SET synchronous_standby_names = ${sqlString(want)}`);
      await client.query('SELECT pg_reload_conf()');
      notes.push(`synchronous_standby_names = ${want}: commits wait until the stream has the WAL in the repository`);
    } else if (!opts.synchronous && cur === want) {
      notes.push(`synchronous_standby_names still names this stream (${want}): commits wait for it; undo with ALTER SYSTEM RESET synchronous_standby_names; SELECT pg_reload_conf();`);
    }
  } finally {
    await client.end().catch(() => {});
  }

  const tool = await findTool('pg_receivewal', { serverMajor: probe.serverMajor, serverVersion: probe.serverVersion });
  const args = [...pgConnArgs(target), '--directory', dir, '--slot', slot, '--no-loop', '--status-interval', '1', ...(opts.synchronous ? ['--synchronous'] : [])];
  const secret = pgSecret(target);
  return {
    slot,
    applicationName: slot,
    dir,
    archive: sink.archive,
    settle: sink.settle,
    synchronous: opts.synchronous,
    notes,
    call: { tool, args, env: { PGAPPNAME: slot }, ...(secret ? { secret } : {}), ...(owner ?? {}) },
  };
}

export const pgStream = { prepare };
