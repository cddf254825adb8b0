/**
 * Does archiving keep up (issue 19)? PostgreSQL's archiver is simulated exactly as it works: one
 * archive_command at a time through /bin/sh, for the oldest `.ready` file, renamed `.done` on
 * success. A producer marks real 16 MB segments ready at a fixed pace — as fast as cp + sync
 * archives them, measured in the same run — and the bench reports the largest `.ready` backlog and
 * the segments archived per second, for `dbdrill wal-push` as archive_command (one Node start per
 * segment) and for the batching command `archiving enable` writes. Then the same with every
 * segment ready at once (a backlog after an outage): the most segments/s each can archive.
 */
import { chmodSync, closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { archiveCommand } from '../src/wal/command.js';
import { exec, printTable, note } from './util.js';

export interface KeepsUpResult {
  method: string;
  paceMs: number | null;
  segments: number;
  seconds: number;
  maxBacklog: number;
  /** The largest backlog once half the segments were ready: past the start-up of the first call and its worker. */
  steadyBacklog: number;
  nodeStarts?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The quiet between the segment archived alone and the burst, in the runs that start warm. */
const WARM_MS = 1000;

/** The archive_command for a repository and the (simulated) data directory it archives from. */
export type ArchiveCommandOf = (repo: string, pgdata: string) => string | Promise<string>;

/**
 * Runs one simulated archiver over `segments` with `command` (%p and %f as PostgreSQL expands them).
 * With `warmMs`, the first segment is archived alone and the burst of the others starts `warmMs`
 * later (a server that archived a segment a moment ago): only the burst is measured.
 */
export async function simulateArchiver(dir: string, tag: string, segments: string[], command: ArchiveCommandOf, paceMs: number | null, warmMs?: number): Promise<KeepsUpResult & { failures: number }> {
  const pgdata = join(dir, `pgdata-${tag}`);
  const status = join(pgdata, 'pg_wal', 'archive_status');
  mkdirSync(status, { recursive: true });
  // PostgreSQL fsyncs a segment before marking it ready: copies still being written back would
  // slow every archiver's own fsync with work the real server never leaves behind.
  for (const s of segments) {
    const to = join(pgdata, 'pg_wal', basename(s));
    copyFileSync(s, to);
    const fd = openSync(to, 'r');
    fsyncSync(fd);
    closeSync(fd);
  }
  const repo = join(dir, `repo-${tag}`);
  const cmd = await command(repo, pgdata);
  const names = segments.map((s) => basename(s));
  let produced = 0;
  const produce = () => writeFileSync(join(status, `${names[produced++]!}.ready`), '');
  let done = 0;
  let maxBacklog = 0;
  let steadyBacklog = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let t0 = performance.now();
  const archiveUntil = async (count: number) => {
    while (done < count) {
      const ready = readdirSync(status).filter((f) => f.endsWith('.ready')).sort();
      maxBacklog = Math.max(maxBacklog, ready.length);
      if (produced * 2 > names.length) steadyBacklog = Math.max(steadyBacklog, ready.length);
      if (ready.length === 0) {
        await sleep(2);
        continue;
      }
      const name = ready[0]!.slice(0, -'.ready'.length);
      const r = await exec('/bin/sh', ['-c', cmd.replace(/%p/g, `pg_wal/${name}`).replace(/%f/g, name).replace(/%%/g, '%')], { cwd: pgdata });
      if (r.code !== 0) {
        failures++;
        if (failures > 5) throw new Error(`${tag}: archive_command failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
        await sleep(100);
        continue;
      }
      renameSync(join(status, `${name}.ready`), join(status, `${name}.done`));
      done++;
    }
  };
  const first = warmMs === undefined ? 0 : 1;
  try {
    if (first) {
      produce();
      await archiveUntil(1);
      await sleep(warmMs!);
      maxBacklog = 0;
      t0 = performance.now();
    }
    if (paceMs === null) while (produced < names.length) produce();
    else produce();
    timer = paceMs === null ? undefined : setInterval(() => produced < names.length && produce(), paceMs);
    await archiveUntil(names.length);
  } finally {
    if (timer) clearInterval(timer);
  }
  return { method: tag, paceMs, segments: names.length - first, seconds: (performance.now() - t0) / 1000, maxBacklog, steadyBacklog, failures };
}

export async function keepsUp(dir: string, segments: string[], systemId: string, cpMsPerSegment: number, pgbackrestAsync?: ArchiveCommandOf): Promise<KeepsUpResult[]> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  // `warm`: also run 1 s after one archived segment (the methods whose worker or daemon outlives a call).
  const methods: { name: string; command: ArchiveCommandOf; warm: boolean }[] = [
    { name: 'dbdrill wal-push (one Node start per segment)', command: (repo) => archiveCommand(repo), warm: false },
    { name: 'dbdrill batching archive_command (archiving enable)', command: (repo) => archiveCommand(repo, { batch: { systemId } }), warm: true },
    { name: 'dbdrill batching, --compress zstd', command: (repo) => archiveCommand(repo, { compress: 'zstd', batch: { systemId } }), warm: false },
    // The pgBackRest method's own archive_command (issue 14): archive-async with process-max 2, zst.
    ...(pgbackrestAsync ? [{ name: 'pgbackrest archive-push, archive-async, process-max 2, zst', command: pgbackrestAsync, warm: true }] : []),
  ];
  const out: (KeepsUpResult & { warm?: boolean })[] = [];
  let i = 0;
  const runs: { name: string; command: ArchiveCommandOf; pace: number | null; warm?: number }[] = [
    ...methods.map((m) => ({ ...m, pace: cpMsPerSegment, warm: undefined })),
    // A server that archived a segment a second ago (its worker still runs) starts a burst.
    ...methods.filter((m) => m.warm).map((m) => ({ ...m, pace: cpMsPerSegment, warm: WARM_MS })),
    ...methods.map((m) => ({ ...m, pace: null, warm: undefined })),
  ];
  for (const { name, command, pace, warm } of runs) {
    const r = await simulateArchiver(dir, `k${i++}`, segments, command, pace, warm);
    out.push({ ...r, method: name, warm: warm !== undefined });
    // Let a worker of the batching command go idle before the next method runs.
    await sleep(5500);
  }
  printTable(
    `keeping up: ${segments.length} real 16 MB segments through a simulated archiver (one archive_command at a time)`,
    ['method', 'segments ready', 'segments/s', 'max .ready backlog', 'second half'],
    out.map((r) => [
      r.method,
      r.paceMs === null ? 'all at once' : `every ${r.paceMs.toFixed(0)} ms (cp + sync pace)${r.warm ? `, ${WARM_MS / 1000} s after one segment` : ''}`,
      (r.segments / r.seconds).toFixed(1),
      String(r.maxBacklog),
      r.paceMs === null ? '' : String(r.steadyBacklog),
    ]),
  );
  note(`"${WARM_MS / 1000} s after one segment": a server that archived a segment a moment ago (as archive_timeout makes an idle one do) starts the burst; only the burst is measured. Without it, the burst's first segment pays a Node start (${'~'}110 ms) and its push (one pace) before anything is reported, so from cold at least 3 segments are ready at once whatever runs in Node`);
  note('second half: the largest backlog once half the segments were ready, past the start-up of the first call (one Node start, then the worker\'s)');
  note('goal: at the cp + sync pace the batching command keeps the backlog under 3, and archives at least as many segments/s as pgbackrest archive-push (zst) in the table above');
  if (pgbackrestAsync) note('goal (pgBackRest method): archive-async keeps the backlog under 3 at the cp + sync pace');
  return out;
}
