import type { HealthReport } from '../../src/health/report.js';
import { formatDuration } from '../../src/config/duration.js';
import { formatBytes } from '../../src/util/bytes.js';
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
    lines.push({ label: 'current WAL', text: `${a.currentWal ?? '—'} · pg_wal ${formatBytes(a.walBytes)}` });
    lines.push({ label: 'settings', text: `archive_mode ${a.archiveMode} · archive_timeout ${a.archiveTimeoutSeconds ? formatDuration(a.archiveTimeoutSeconds) : 'off'}` });
    lines.push({ label: 'RPO estimate', text: a.rpo.text });
  } else if (b) {
    lines.push({ label: 'binlog', text: `${b.logBin ? 'on' : 'OFF'} · format ${b.binlogFormat} · writing ${b.currentBinlog ?? '—'}${b.currentBytes !== null ? ` (${formatBytes(b.currentBytes)})` : ''}`, ...(b.logBin ? {} : { tone: 'bad' as const }) });
    lines.push({ label: 'archived', text: `${plural(b.archivedCount, 'file')} · newest ${b.newestArchived ?? '—'} ${b.newestArchived ? ago(b.newestArchivedAgeSeconds) : ''}`.trimEnd() });
    lines.push({
      label: 'waiting',
      text: `${b.pending.length} closed binlog(s) not archived${b.pending.length ? `: ${b.pending.slice(0, 3).join(', ')}${b.pending.length > 3 ? ', …' : ''}` : ''}${b.currentBehind ? ' · archive behind the current file' : ''}`,
      ...(b.pending.length > 0 ? { tone: 'warn' as const } : {}),
    });
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
