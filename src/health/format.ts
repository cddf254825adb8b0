import { formatDuration } from '../config/duration.js';
import { formatBytes } from '../util/bytes.js';
import type { HealthReport } from './report.js';

const ago = (s: number | null | undefined) => (s === null || s === undefined ? 'never' : `${formatDuration(s)} ago`);

/** One line of facts about archiving, the same in the report and in --watch lines. */
export function archiveFacts(r: HealthReport): string {
  const a = r.archive;
  if (a) {
    const parts = [
      `current ${a.currentWal ?? '—'}`,
      a.lastArchivedWal ? `last archived ${a.lastArchivedWal} ${ago(a.lastSuccessAgeSeconds)}` : 'nothing archived yet',
      `${a.backlog} waiting${a.oldestReady ? ` (oldest ${a.oldestReady}, ${formatDuration(a.oldestReadyAgeSeconds ?? 0)})` : ''}`,
      `failed_count ${a.failedCount}`,
    ];
    if (a.ratePerMinute !== null) parts.push(`${a.ratePerMinute.toFixed(1)} segments/min`);
    parts.push(`pg_wal ${formatBytes(a.walBytes)}`);
    parts.push(a.archiver ? `archiver pid ${a.archiver.pid} up ${formatDuration(Math.max(0, (Date.parse(a.at) - Date.parse(a.archiver.startedAt)) / 1000))}` : 'no archiver process');
    if (a.stallSeconds !== null && a.stallSeconds > 0) parts.push(`nothing archived for ${formatDuration(a.stallSeconds)}`);
    const st = a.stream;
    if (st) parts.push(st.running ? `stream ${formatBytes(st.lagBytes ?? 0)} behind${st.synchronous ? ' (sync)' : ''}` : `stream STOPPED, slot retains ${formatBytes(st.retainedBytes ?? 0)}`);
    return `archive: ${parts.join(', ')}`;
  }
  const b = r.binlog;
  if (b) {
    const sync = b.lastSync ? `, binlog-sync ${b.lastSync.ok ? 'ran' : 'FAILED'} ${ago((Date.parse(b.at) - Date.parse(b.lastSync.startedAt)) / 1000)}` : '';
    return `binlog: current ${b.currentBinlog ?? '—'}, newest archived ${b.newestArchived ?? '—'} ${b.newestArchived ? ago(b.newestArchivedAgeSeconds) : ''}`.trimEnd() +
      `, ${b.pending.length + (b.currentBehind ? 1 : 0)} waiting${sync}`;
  }
  return `server: ${r.server.error ?? 'not reached'}`;
}

/** The one-shot report: a line per check, then the numbers behind them. */
export function formatReport(r: HealthReport): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const lines = [`${r.target}: ${r.status}`];
  for (const c of r.checks) lines.push(`${c.status.padEnd(4)} ${c.name.padEnd(width)}  ${c.reason}`);
  lines.push(archiveFacts(r));
  const nb = r.backup.newestComplete;
  lines.push(`backup: ${nb ? `newest complete ${nb.id}, ${ago(nb.ageSeconds)}` : 'none complete'}${r.window ? `; recoverable ${r.window.start} to ${r.window.end}` : ''}`);
  return lines.join('\n');
}

/**
 * Exactly one line per sample for --watch (so `| grep CRIT` or a log shipper sees whole samples):
 * time, status, facts, then the reasons of the checks that are not OK.
 */
export function formatWatchLine(r: HealthReport): string {
  const time = r.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const bad = r.checks.filter((c) => c.status !== 'OK').map((c) => `${c.status} ${c.name}: ${c.reason}`);
  return `${time} ${r.status.padEnd(4)} ${archiveFacts(r)}${bad.length ? ` | ${bad.join(' | ')}` : ''}`.replace(/\n/g, ' ');
}
