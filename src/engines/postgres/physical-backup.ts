import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BackupSink } from '../../crypto/sealed.js';
import type { Target } from '../../config/target.js';
import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';
import type { BackupResult, RecordTool } from '../backup-result.js';
import type { EngineContext } from '../context.js';
import type { ProbeResult } from '../probe-types.js';
import { forwardToolEvents } from '../tool-events.js';
import { parseBaseBackupLine, walFileName } from './basebackup-output.js';
import { connectPostgres } from './client.js';
import { pgConnArgs, pgSecret } from './connection-args.js';

/** An encrypted base backup is this one file: base.tar with pg_wal/ and backup_manifest inside. */
export const ENCRYPTED_BASE_TAR = 'base/base.tar';

export interface PhysicalOptions {
  /** fast for drills and interactive runs; spread spares a busy server (and can take minutes). */
  checkpoint?: 'fast' | 'spread';
  recordTool?: RecordTool;
  /** An encrypting sink takes the whole backup as one tar on stdout (see below). */
  sink?: BackupSink;
}

/**
 * pg_basebackup in tar format with WAL streamed alongside and a SHA-256 backup manifest, so the
 * backup restores on its own and pg_verifybackup can check it. Progress comes from -P lines.
 */
export async function pgPhysicalBackup(ctx: EngineContext, target: Target, probe: ProbeResult, dir: string, opts: PhysicalOptions): Promise<BackupResult> {
  const tool = await findTool('pg_basebackup', { serverMajor: probe.serverMajor, serverVersion: probe.serverVersion });
  // Encrypted, the backup must reach age through a pipe: pg_basebackup writes a tar to stdout
  // only with the WAL fetched into it at the end (-X fetch; streaming needs a second file, whose
  // headers it rewrites in place) and with its backup_manifest inside the tar. The WAL needed
  // meanwhile must survive until then: the archive (wal-push) holds it too.
  const encrypted = opts.sink?.encryptTo !== undefined;
  const args = [
    ...pgConnArgs(target),
    '--pgdata', encrypted ? '-' : join(dir, 'base'),
    '--format', 'tar',
    '--wal-method', encrypted ? 'fetch' : 'stream',
    '--checkpoint', opts.checkpoint ?? 'fast',
    // CRC32C (pg_basebackup's default) is enough for pg_verifybackup to catch damage; dbdrill's
    // own sha256 of every file covers the backup at rest. SHA256 cost the server 0.5-0.9 s on
    // a 755 MB cluster (bench/backup.ts).
    '--manifest-checksums', 'CRC32C',
    '--label', `dbdrill ${target.name}`,
    '--progress',
    '--verbose',
  ];
  const toolRecord = { name: tool.name, version: tool.version, argv: [tool.path, ...args] };
  // pg_basebackup writes base.tar front to back; pg_wal.tar it does not (each WAL member's tar
  // header is rewritten once the segment is complete), so only base.tar is hashed as it grows.
  // Encrypted, base.tar is age's output, also written front to back: hashed as it grows too.
  opts.recordTool?.(toolRecord, { appendOnly: ['base/base.tar'] });
  let start: { lsn: string; timeline: number } | undefined;
  let end: string | undefined;
  let phase = 'starting';
  // The rate is measured from the copy's start, not the run's: a spread checkpoint can take
  // minutes, and counting them would make the first rate (and ETA) far too pessimistic.
  let last: { bytes: number; at: number } | undefined;
  let rate: number | undefined;

  const onEvent = forwardToolEvents(ctx, (e) => {
    if (e.type !== 'line') return;
    const p = parseBaseBackupLine(e.text);
    if (p.kind === 'phase') {
      phase = p.phase === 'checkpoint' ? 'waiting for checkpoint' : p.phase;
      if (p.phase === 'copying') last = { bytes: 0, at: performance.now() };
      ctx.emit({ type: 'progress', phase });
    } else if (p.kind === 'progress') {
      const now = performance.now();
      if (!last) last = { bytes: p.doneBytes, at: now };
      else if (now - last.at > 200) {
        rate = ((p.doneBytes - last.bytes) * 1000) / (now - last.at);
        last = { bytes: p.doneBytes, at: now };
      }
      const eta = rate && rate > 0 ? (p.totalBytes - p.doneBytes) / rate : undefined;
      ctx.emit({ type: 'progress', phase: 'copying', done: p.doneBytes, total: p.totalBytes, rate, etaSeconds: eta, unit: 'bytes' });
    } else if (p.kind === 'start') start = { lsn: p.lsn, timeline: p.timeline };
    else if (p.kind === 'end') end = p.lsn;
  });
  await ctx.step('base backup', async () => {
    if (!encrypted) return runTool({ tool, args, secret: pgSecret(target), signal: ctx.signal, onEvent });
    mkdirSync(join(dir, 'base'), { mode: 0o700 });
    return opts.sink!.fromStdout({ tool, args, secret: pgSecret(target) }, ENCRYPTED_BASE_TAR, { signal: ctx.signal, onEvent });
  });

  // The backup is consistent once WAL up to its end point is replayed; the server's clock right
  // after pg_basebackup returns is a safe (slightly late) bound for "earliest restorable time".
  // The segment size maps LSNs to segment names: initdb --wal-segsize makes it anything from
  // 1 MiB to 1 GiB (pg_settings gives it in bytes from PostgreSQL 11 on).
  const client = await connectPostgres(target);
  let consistentAt: string;
  let walSegmentBytes: number;
  try {
    const { rows } = await client.query<{ now: Date; bytes: string }>(
      `SELECT now() AS now, (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') AS bytes`,
    );
    consistentAt = rows[0]!.now.toISOString();
    walSegmentBytes = Number(rows[0]!.bytes);
  } finally {
    await client.end().catch(() => {});
  }
  const timeline = start?.timeline ?? 1;
  return {
    tool: toolRecord,
    format: 'pg_basebackup-tar',
    postgres: {
      systemId: probe.systemId,
      timeline,
      ...(start ? { startLsn: start.lsn, walStart: walFileName(timeline, start.lsn, walSegmentBytes) } : {}),
      ...(end ? { stopLsn: end, walEnd: walFileName(timeline, end, walSegmentBytes) } : {}),
      consistentAt,
      walSegmentBytes,
    },
  };
}
