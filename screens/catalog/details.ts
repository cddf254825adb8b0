import { formatDuration } from '../../src/config/duration.js';
import type { CatalogEntry } from '../../src/ops/catalog.js';
import type { Manifest } from '../../src/repo/manifest.js';
import { formatBytes } from '../../src/util/bytes.js';
import { utc } from '../text/time.js';
import { fit, textWidth, truncateEnd, truncateStart, wrapText } from '../text/width.js';
import type { Marker } from '../widgets/StatusMarker/StatusMarker.js';

/** One line of the details pane: a bold label column, the text, and an optional status word. */
export interface DetailLine {
  label: string;
  text: string;
  marker?: Marker;
}

export const LABEL_WIDTH = 11;
/** A status word and the space after it (StatusMarker's width + 1). */
const MARK = 5;

const ENGINE_NAMES = { postgres: 'PostgreSQL', mysql: 'MySQL/MariaDB' } as const;

/**
 * Everything the manifest says about one backup, as lines `width` cells wide: what ran (tool,
 * version, argv — argv never holds a secret), where the backup starts and ends in the server's
 * history (LSNs, timeline, WAL range; binlog position, GTID), its files with sizes and checksums,
 * the row counts recorded at backup time, and every verification.
 */
export function detailLines(m: Manifest, entry: CatalogEntry | undefined, width: number): DetailLine[] {
  const out: DetailLine[] = [];
  const textRoom = Math.max(8, width - LABEL_WIDTH);
  const add = (label: string, text: string, marker?: Marker) => {
    // A marked line's continuation lines start under its text, not under the marker.
    const room = marker ? textRoom - MARK : textRoom;
    wrapText(text, room).forEach((line, i) =>
      out.push(i === 0 ? { label, text: line, ...(marker ? { marker } : {}) } : { label: '', text: (marker ? ' '.repeat(MARK) : '') + line }),
    );
  };

  const status = entry?.status ?? m.status;
  const took = m.finishedAt ? `, took ${formatDuration((Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000)}` : '';
  add('backup', `${m.id}  ${m.kind} ${m.type}  ${status}`, status === 'complete' ? 'OK' : status === 'running' ? '…' : 'FAIL');
  add('started', `${utc(m.startedAt)}${m.finishedAt ? `, finished ${utc(m.finishedAt)}${took}` : ''}`);
  if (status === 'interrupted') add('', 'marked running, but the process writing it is gone: it will never complete.');
  if (m.error) add('error', m.error, 'FAIL');
  // Where it is held: the primary and each copy (a copy that lacks or failed it is named).
  if (entry?.held) add('held', entry.held, /missing|partial|failed/.test(entry.held) ? 'WARN' : 'OK');
  // What a restore of a diff or incr reads comes first: it is what the backup is worth.
  if (m.prior) add('taken on', `${m.type === 'diff' ? 'full' : 'the chain\'s newest'} backup ${m.prior} (only pages changed since it)`);
  const reads = entry?.reads;
  if (reads && reads.length > 0) {
    const sum = reads.reduce((n, r) => n + r.sizeBytes, 0);
    add('restoring', entry?.broken ? `cannot be read: ${entry.broken}` : `reads ${reads.length} backups, ${formatBytes(sum)}, oldest first:`, entry?.broken ? 'FAIL' : undefined);
    const room = Math.max(8, textRoom - 2 - 5 - 9);
    for (const r of reads) {
      const size = r.status === 'missing' ? 'missing' : formatBytes(r.sizeBytes);
      out.push({ label: '', text: `${fit(r.type, 4)} ${fit(truncateEnd(r.id, room), Math.min(room, 18))} ${fit(size, 9, 'right')}${r.status !== 'complete' && r.status !== 'missing' ? ` ${r.status}` : ''}` });
    }
  }

  add('server', `${ENGINE_NAMES[m.engine]} ${m.serverVersion}${m.database ? `, database ${m.database}` : ''}`);
  add('tool', `${m.tool.name || '—'} ${m.tool.version}${m.format ? ` (${m.format})` : ''}`);
  if (m.tool.argv.length > 0) add('argv', m.tool.argv.join(' '));

  const pg = m.postgres;
  if (pg && (pg.startLsn || pg.timeline !== undefined)) {
    add('timeline', String(pg.timeline ?? 1));
    if (pg.startLsn) add('LSN', `${pg.startLsn} → ${pg.stopLsn ?? '?'}`);
    if (pg.walStart) add('WAL', `${pg.walStart} … ${pg.walEnd ?? '?'}`);
    if (pg.consistentAt) add('consistent', `${utc(pg.consistentAt)} (earliest point-in-time restore from it)`);
    if (pg.systemId) add('system id', pg.systemId);
  }
  const my = m.mysql;
  if (my && (my.binlogFile || my.gtid)) {
    if (my.binlogFile) add('binlog', `${my.binlogFile} at position ${my.binlogPosition ?? '?'}`);
    if (my.gtid) add('GTID', my.gtid);
  }

  if (my && my.fromLsn !== undefined && my.toLsn !== undefined) add('InnoDB LSN', `${my.fromLsn} → ${my.toLsn}`);
  const total = m.files.reduce((n, f) => n + f.bytes, 0);
  add('files', m.files.length === 0 ? 'none recorded' : `${m.files.length} file${m.files.length === 1 ? '' : 's'}, ${formatBytes(total)}`);
  // path  size  sha256 0123456789ab
  const pathRoom = Math.max(8, textRoom - 2 - 9 - 1 - 19);
  for (const f of m.files) {
    out.push({ label: '', text: `${fit(truncateStart(f.path, pathRoom), pathRoom)} ${fit(formatBytes(f.bytes), 9, 'right')}  sha256 ${f.sha256.slice(0, 12)}` });
  }

  const tables = m.tables ?? [];
  if (tables.length > 0) {
    const rows = tables.reduce((n, t) => n + t.rows, 0);
    add('tables', `${tables.length} table${tables.length === 1 ? '' : 's'}, ${rows} rows at backup time`);
    const nameRoom = Math.max(8, Math.min(Math.max(...tables.map((t) => textWidth(t.table))), textRoom - 14));
    for (const t of tables) out.push({ label: '', text: `${fit(truncateEnd(t.table, nameRoom), nameRoom)} ${fit(String(t.rows), 12, 'right')}` });
  }

  const checks = m.verification ?? [];
  if (checks.length === 0) {
    add('verified', status === 'complete' ? 'never; v checks checksums and the tool\'s reading, V also restores it' : 'no');
  } else {
    add('verified', `${checks.length} check${checks.length === 1 ? '' : 's'}, newest last`);
    for (const c of checks) {
      const lines = wrapText(`${utc(c.at)} ${c.method}: ${c.detail}`, textRoom - MARK);
      lines.forEach((line, i) => out.push(i === 0 ? { label: '', text: line, marker: c.ok ? 'OK' : 'FAIL' } : { label: '', text: ' '.repeat(MARK) + line }));
    }
  }
  return out;
}
