import type { HealthReport } from '../../src/health/report.js';
import type { DiskView } from '../../src/health/local-disk.js';
import type { BinlogView } from '../../src/health/mysql-derive.js';
import type { ArchiveEvidence, PgArchiveView } from '../../src/health/pg-derive.js';
import { formatDuration } from '../../src/config/duration.js';
import { formatBytes } from '../../src/util/bytes.js';
import { fullInWords, rateWords } from '../../src/health/words.js';
import { utc } from '../text/time.js';

/** One labelled line of the panel: "archived    142 segments · 1.5/min · last …". */
export interface PanelLine {
  label: string;
  text: string;
  /** Colour hint for the text; the words already say what it means. */
  tone?: 'bad' | 'warn';
}

const ago = (s: number | null | undefined) => (s === null || s === undefined ? 'never' : `${formatDuration(s)} ago`);
const perMin = (r: number | null) => (r === null ? 'rate —' : `${r.toFixed(1)}/min`);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The numbers behind the checks, PostgreSQL or MySQL, as the Health screen lists them. */
export function panelLines(r: HealthReport): PanelLine[] {
  const lines: PanelLine[] = [];
  const a = r.archive;
  const b = r.binlog;
  if (a) {
    lines.push({
      label: 'archived',
      text: `${plural(a.archivedCount, 'segment')} · ${perMin(a.ratePerMinute)} · last ${a.lastArchivedWal ?? '—'} ${a.lastArchivedWal ? ago(a.lastSuccessAgeSeconds) : ''}`.trimEnd(),
    });
    lines.push({
      label: 'failed',
      text: `${a.failedCount}${a.lastFailedWal ? ` · last ${a.lastFailedWal} ${a.lastFailedTime ? ago((Date.parse(r.at) - Date.parse(a.lastFailedTime)) / 1000) : ''}` : ' · none'}${a.failingNow ? ' · FAILING NOW' : ''}`,
      ...(a.failingNow ? { tone: 'bad' as const } : {}),
    });
    const growth = a.backlogGrowthPerMinute;
    lines.push({
      label: 'backlog',
      text: `${a.backlog} .ready${a.oldestReady ? ` · oldest ${a.oldestReady} waiting ${formatDuration(a.oldestReadyAgeSeconds ?? 0)}` : ''}${growth !== null && growth !== 0 ? ` · ${growth > 0 ? '+' : ''}${growth.toFixed(1)}/min` : ''}`,
      ...(a.stallSeconds !== null && a.stallSeconds > 0 ? { tone: 'warn' as const } : {}),
    });
    // The evidence lines take the place of the plain facts they explain, so a broken archiver's
    // panel still fits 80x24 with its failing check in view.
    lines.push(archiverLine(a));
    if (a.broken) lines.push(riskLine(a));
    // A stopped stream is the fault to see first (its slot fills pg_wal); a running one sits with the archiver.
    if (a.stream) {
      if (a.stream.running) lines.push(streamLine(a));
      else lines.unshift(streamLine(a));
    }
    lines.push({ label: 'settings', text: `archive_mode ${a.archiveMode} · archive_timeout ${a.archiveTimeoutSeconds ? formatDuration(a.archiveTimeoutSeconds) : 'off'} · pg_wal ${formatBytes(a.walBytes)}` });
    lines.push({ label: 'RPO estimate', text: a.rpo.text });
  } else if (b) {
    lines.push({ label: 'binlog', text: `${b.logBin ? 'on' : 'OFF'} · format ${b.binlogFormat} · writing ${b.currentBinlog ?? '—'}${b.currentBytes !== null ? ` (${formatBytes(b.currentBytes)})` : ''}`, ...(b.logBin ? {} : { tone: 'bad' as const }) });
    lines.push({ label: 'archived', text: `${plural(b.archivedCount, 'file')} · newest ${b.newestArchived ?? '—'} ${b.newestArchived ? ago(b.newestArchivedAgeSeconds) : ''}`.trimEnd() });
    lines.push({
      label: 'waiting',
      text: `${b.pending.length} closed binlog(s) not archived${b.pending.length ? `: ${b.pending.slice(0, 3).join(', ')}${b.pending.length > 3 ? ', …' : ''}` : ''}${b.currentBehind ? ' · archive behind the current file' : ''}`,
      ...(b.pending.length > 0 ? { tone: 'warn' as const } : {}),
    });
    lines.push(syncLine(b));
    if (b.gap) lines.push({ label: 'GAP', text: `${b.gap.from}…${b.gap.to} purged before archiving: no restore replays across it`, tone: 'bad' });
    lines.push({ label: 'on server', text: `${plural(b.serverBinlogs, 'binlog')}, oldest ${b.oldestOnServer ?? '—'}` });
  } else {
    lines.push({ label: 'server', text: r.server.error ?? 'not reached', tone: 'bad' });
  }
  const nb = r.backup.newestComplete;
  lines.push({ label: 'backup', text: nb ? `newest complete ${nb.id} · ${ago(nb.ageSeconds)}` : 'no complete backup', ...(nb ? {} : { tone: 'warn' as const }) });
  const makesOne = r.engine === 'mysql' ? 'a backup with its binlog position and archived binlogs make one' : 'a physical backup and archived WAL make one';
  lines.push({ label: 'window', text: r.window ? `${utc(r.window.start)} → ${utc(r.window.end)}` : `none yet (${makesOne})` });
  return lines;
}

const clock = (iso: string | null) => (iso === null ? '—' : `${iso.slice(11, 19)}Z`);

/** The evidence that archiving is broken, in a few words each. */
function evidenceWords(e: ArchiveEvidence, at: string): string {
  switch (e.kind) {
    case 'failing':
      return `attempt on ${e.wal.slice(-8)} failed ${ago((Date.parse(at) - Date.parse(e.at)) / 1000)}`;
    case 'archiver-down':
      return `gone since ${clock(e.since)} (exit >125 or a signal)`;
    case 'archiver-restarted':
      return `exited ${e.exits}× since ${clock(e.since)} (exit >125 or a signal)`;
    case 'stalled':
      return `no progress for ${formatDuration(e.seconds)}${e.inCommand ? ', archive_command hangs' : ''}`;
  }
}

/** The archiver process and the evidence against it; while healthy, the WAL being written. */
function archiverLine(a: PgArchiveView): PanelLine {
  const proc = a.archiver
    ? `pid ${a.archiver.pid} up ${formatDuration(Math.max(0, (Date.parse(a.at) - Date.parse(a.archiver.startedAt)) / 1000))}${a.archiver.waitEvent === 'ArchiveCommand' ? ' · in archive_command' : ''}`
    : 'NOT RUNNING';
  const evidence = a.evidence.map((e) => evidenceWords(e, a.at));
  const tail = a.broken ? evidence : [`writing ${a.currentWal ?? '—'}`];
  return { label: 'archiver', text: [proc, ...tail].join(' · '), ...(a.broken ? { tone: 'bad' as const } : {}) };
}

/** `dbdrill stream`: connected or not, how far behind, what its slot keeps in pg_wal. */
function streamLine(a: PgArchiveView): PanelLine {
  const st = a.stream!;
  const kept = `slot keeps ${formatBytes(st.retainedBytes ?? 0)}`;
  if (!st.running) {
    return { label: 'stream', text: `STOPPED${st.inactiveSeconds ? ` ${formatDuration(st.inactiveSeconds)}` : ''} · ${kept} · ${diskWords(a.walDisk, null)}`, tone: 'bad' };
  }
  // Caught up, the seconds say nothing: the line stays short enough for 60 columns.
  const lag = `${formatBytes(st.lagBytes ?? 0)} behind${st.lagSeconds && st.lagBytes ? ` (${st.lagSeconds.toFixed(1)} s)` : ''}`;
  return { label: 'stream', text: `${st.synchronous ? 'running, sync' : 'running'} · ${lag} · ${kept}` };
}

function diskWords(disk: DiskView | null, fullIn: number | null): string {
  if (!disk) return 'disk —';
  if ('unknown' in disk) return 'disk: cannot tell (not local)';
  return `disk ${formatBytes(disk.freeBytes)} free${fullIn !== null ? `, full in ${fullInWords(fullIn)}` : ''}`;
}

/** What waits unarchived, how fast it grows, when the disk fills. */
function riskLine(a: PgArchiveView): PanelLine {
  const rate = a.walGrowth.bytesPerSecond;
  return {
    label: 'at risk',
    text: `${formatBytes(a.backlogBytes)} since ${clock(a.stalledSince)} · WAL ${rate === null ? '—' : rateWords(rate)} · ${diskWords(a.walDisk, a.diskFullInSeconds)}`,
    ...(a.broken ? { tone: 'bad' as const } : {}),
  };
}

/** binlog-sync's last recorded run, its schedule and the evidence against it. */
function syncLine(b: BinlogView): PanelLine {
  const last = b.lastSync;
  if (!last) return { label: 'binlog-sync', text: 'no run recorded in this config directory' };
  const when = ago((Date.parse(b.at) - Date.parse(last.startedAt)) / 1000);
  const every = b.syncSchedule ? ` · every ${formatDuration(b.syncSchedule.everySeconds)}${b.syncSchedule.basis === 'learned' ? ' (learned)' : ''}` : '';
  const overdue = b.evidence.find((e) => e.kind === 'sync-overdue');
  const text = `${last.ok ? 'ran' : 'FAILED'} ${when}${every}${overdue ? ` · OVERDUE ${formatDuration(overdue.overdueSeconds)}` : ''}${!last.ok && last.error ? ` · ${last.error}` : ''}`;
  return { label: 'binlog-sync', text, ...(b.broken ? { tone: 'bad' as const } : {}) };
}
