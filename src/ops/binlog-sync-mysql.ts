import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import {
  binlogRoot, differentBytes, incomingDir, placeBinlog, placeSealedBinlog, reindex, writeIndex, type ArchivedBinlog,
} from '../binlog/archive.js';
import { compareBinlogNames, findBinlogGaps, parseBinlogFileName, type BinlogGap } from '../binlog/names.js';
import type { EngineContext } from '../engines/context.js';
import { engineEntry, engineFor } from '../engines/registry.js';
import { invalid, type DbdrillError } from '../errors.js';
import { recordBinlogSyncRun } from '../health/binlog-sync-runs.js';
import { sha256File } from '../repo/checksum.js';
import { Repository } from '../repo/repository.js';
import { startJob, type Job } from './job.js';

export interface BinlogSyncOptions {
  /** FLUSH BINARY LOGS first, so that what the server wrote until now becomes archivable. */
  rotate?: boolean;
  /** Copy again every closed binlog that is already archived and compare its bytes. */
  verify?: boolean;
}

export interface BinlogSyncReport {
  target: string;
  archiveDir: string;
  rotated: boolean;
  server: { current?: string; files: number; closed: number; oldest?: string };
  /** Newly archived files. */
  copied: ArchivedBinlog[];
  /** Closed binlogs that were already archived (same name and size; with --verify, same bytes). */
  alreadyArchived: string[];
  verified: boolean;
  /** Files in the archive afterwards, and the newest. */
  archived: number;
  newest?: string;
  gaps: BinlogGap[];
  /** Binlogs the server purged before they were archived (a gap that can never be filled). */
  purgedUnarchived?: { from: string; to: string; missing: number };
  seconds: number;
}

/** binlog-sync on a target whose server pushes its archive itself. */
function notPulled(target: Target): DbdrillError {
  return invalid(`binlog-sync archives MySQL/MariaDB binary logs; target "${target.name}" is ${target.engine}, whose WAL is archived by archive_command (dbdrill archiving enable).`);
}

export function startBinlogSync(configDir: string, name: string, opts: BinlogSyncOptions, signal?: AbortSignal): Job<BinlogSyncReport> {
  const target = new TargetStore(configDir).get(name);
  // The registry's row answers without loading the engine, so the refusal comes before any job.
  if (engineEntry(target.engine).archive !== 'binlog') throw notPulled(target);
  const job = startJob((ctx) => runBinlogSync(ctx, target, opts), signal);
  // Every outcome is recorded for `dbdrill health`: a failing or missed run from cron leaves no
  // other trace, and health turns it into CRIT while binlogs wait (src/health/binlog-sync-runs.ts).
  const startedAt = new Date().toISOString();
  const record = (ok: boolean, extra: { error?: string; copied?: number }) =>
    recordBinlogSyncRun(configDir, target.name, { startedAt, finishedAt: new Date().toISOString(), ok, ...extra });
  job.result.then(
    (r) => record(true, { copied: r.copied.length }),
    (e: unknown) => record(false, { error: e instanceof Error ? e.message : String(e) }),
  );
  return job;
}

/**
 * Archives every closed binlog of the server into <repo>/binlog: the file the server is writing is
 * left alone (rotate first to include what it holds). Copies go over the replication protocol into
 * a private directory inside the archive, are checked (a complete, closed binlog with good CRCs),
 * fsynced, and linked into place under their name — never over an archived file — and recorded in
 * index.json. A re-run copies only what is missing, so an interrupted run simply resumes.
 */
export async function runBinlogSync(ctx: EngineContext, target: Target, opts: BinlogSyncOptions = {}): Promise<BinlogSyncReport> {
  const t0 = performance.now();
  const engine = await engineFor(target);
  const pull = engine.archivePull;
  if (!pull) throw notPulled(target);
  // Encrypted: each binlog goes from the server through age into the archive, never in plain.
  const recipients = target.encryptTo?.length ? target.encryptTo : undefined;
  const probe = await ctx.step('connect', () => engine.probe(target));
  if (!probe.archiving.enabled) {
    throw invalid(`The server of target "${target.name}" does not write binary logs (${probe.archiving.detail}); start it with log_bin (and binlog_format=ROW) so changes can be archived and replayed.`);
  }
  new Repository(target.repo).ensure(target, probe.systemId);
  const server = await ctx.step(opts.rotate ? 'rotate and list binlogs' : 'list binlogs', () => pull.list(target, { rotate: opts.rotate }));
  const closed = server.closed;
  const root = binlogRoot(target.repo);

  // The index follows the files: what an interrupted run placed but did not record is added now.
  const entries = new Map((await ctx.step('read archive', () => reindex(target.repo, ctx.signal))).map((e) => [e.file, e]));
  const toCopy = closed.filter((f) => !entries.has(f.name));
  const toCompare = closed.filter((f) => {
    const have = entries.get(f.name);
    // An encrypted entry's size is the ciphertext's; the server's file is compared with its plain size.
    return have !== undefined && (opts.verify || (have.plain?.bytes ?? have.size) !== f.size);
  });
  const already = closed.filter((f) => entries.has(f.name) && !toCompare.includes(f)).map((f) => f.name);
  const copied: ArchivedBinlog[] = [];

  if (recipients && toCopy.length + toCompare.length > 0) {
    const fetchSealed = await pull.sealedFetcher(probe);
    const incoming = incomingDir(target.repo);
    try {
      const names = [...toCopy, ...toCompare].map((f) => f.name).sort(compareBinlogNames);
      await ctx.step(`copy ${names.length} binlog(s) through age`, async () => {
        let done = 0;
        for (const name of names) {
          const fetched = await fetchSealed(ctx, target, name, incoming, recipients);
          const have = entries.get(name);
          if (have) {
            rmSync(fetched.path, { force: true });
            // Ciphertexts of the same binlog differ: the plain sums recorded at archive time are compared.
            const archived = have.plain?.sha256 ?? have.sha256 ?? 'unknown';
            if (archived !== fetched.plain.sha256) throw differentBytes(name, archived, fetched.plain.sha256, target.repo);
            already.push(name);
          } else {
            const placed = await placeSealedBinlog(target.repo, fetched, name, ctx.signal);
            entries.set(name, placed.entry);
            if (placed.alreadyArchived) already.push(name);
            else copied.push(placed.entry);
            writeIndex(target.repo, [...entries.values()]);
          }
          ctx.emit({ type: 'progress', phase: 'archiving binlogs', done: ++done, total: names.length, unit: 'segments' });
        }
      });
    } finally {
      rmSync(incoming, { recursive: true, force: true });
    }
  } else if (toCopy.length + toCompare.length > 0) {
    const copyBinlogs = await pull.fetcher(probe);
    const incoming = incomingDir(target.repo);
    try {
      const names = [...toCopy, ...toCompare].map((f) => f.name).sort(compareBinlogNames);
      await ctx.step(`copy ${names.length} binlog(s)`, () => copyBinlogs(ctx, target, names, incoming));
      for (const f of toCompare) {
        // The bytes on disk, not the index's record of them: --verify is also a check of the archive.
        const fetched = await sha256File(join(incoming, f.name));
        const have = (await sha256File(join(root, f.name))).sha256;
        if (fetched.sha256 !== have) throw differentBytes(f.name, have, fetched.sha256, target.repo);
        already.push(f.name);
      }
      let done = 0;
      for (const f of toCopy) {
        const placed = await placeBinlog(target.repo, join(incoming, f.name), f.name, ctx.signal);
        entries.set(f.name, placed.entry);
        if (placed.alreadyArchived) already.push(f.name);
        else copied.push(placed.entry);
        // Recorded after every file: an interruption loses at most the entry of the file in hand.
        writeIndex(target.repo, [...entries.values()]);
        ctx.emit({ type: 'progress', phase: 'archiving binlogs', done: ++done, total: toCopy.length, unit: 'segments' });
      }
    } finally {
      rmSync(incoming, { recursive: true, force: true });
    }
  }
  writeIndex(target.repo, [...entries.values()]);

  const names = [...entries.keys()].sort(compareBinlogNames);
  const newest = names.at(-1);
  let purgedUnarchived: BinlogSyncReport['purgedUnarchived'];
  const oldestOnServer = server.files[0]?.name;
  const a = newest ? parseBinlogFileName(newest) : undefined;
  const o = oldestOnServer ? parseBinlogFileName(oldestOnServer) : undefined;
  if (a && o && a.base === o.base && o.seq > a.seq + 1) {
    const g = findBinlogGaps([newest!, oldestOnServer!])[0]!;
    purgedUnarchived = { from: g.from, to: g.to, missing: g.missing };
    ctx.emit({
      type: 'log',
      level: 'warn',
      text: `binlogs ${g.from}…${g.to} were purged from the server before they were archived: no restore can replay across them; run binlog-sync more often than binlog_expire_logs_seconds and take a new backup`,
    });
  }
  return {
    target: target.name,
    archiveDir: root,
    rotated: server.rotated,
    server: { ...(server.current ? { current: server.current.name } : {}), files: server.files.length, closed: closed.length, ...(oldestOnServer ? { oldest: oldestOnServer } : {}) },
    copied,
    alreadyArchived: already.sort(compareBinlogNames),
    verified: opts.verify === true,
    archived: names.length,
    ...(newest ? { newest } : {}),
    gaps: findBinlogGaps(names),
    ...(purgedUnarchived ? { purgedUnarchived } : {}),
    seconds: (performance.now() - t0) / 1000,
  };
}
