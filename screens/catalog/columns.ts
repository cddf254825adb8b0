import { formatDuration } from '../../src/config/duration.js';
import type { CatalogEntry } from '../../src/ops/catalog.js';
import { formatBytes } from '../../src/util/bytes.js';
import { shortUtc } from '../text/time.js';
import type { Column } from '../widgets/DataTable/DataTable.js';
import { typeText } from './chainTree.js';
import { markerColor, type Marker } from '../widgets/StatusMarker/StatusMarker.js';

const UNKNOWN = '—';

/** A backup's status as a word that reads without colour: OK, FAIL, BAD (corrupt), RUN or DEL (being pruned). */
export function statusMarker(e: Pick<CatalogEntry, 'status'>): Marker | 'RUN' | 'BAD' | 'DEL' {
  switch (e.status) {
    case 'complete':
      return 'OK';
    case 'running':
      return 'RUN';
    case 'failed':
    case 'interrupted':
      return 'FAIL';
    case 'corrupt':
      return 'BAD';
    case 'expiring':
      return 'DEL';
  }
}

/** "OK", "OK restore" (a restore proved it), "FAIL", or "no". */
export function verifiedText(e: CatalogEntry): string {
  if (!e.verified) return 'no';
  const restored = e.verified.method.split('+').includes('restore');
  return `${e.verified.ok ? 'OK' : 'FAIL'}${restored ? ' restore' : ''}`;
}

const colorOf = (m: string) => (m === 'RUN' ? 'cyan' : m === 'BAD' ? 'red' : m === 'DEL' ? 'gray' : markerColor(m as Marker));

export const BACKUP_COLUMNS: readonly Column<CatalogEntry>[] = [
  { header: 'id', width: 18, value: (e) => e.id },
  { header: 'kind', width: 8, value: (e) => e.kind },
  { header: 'type', width: 4, value: (e) => e.type },
  { header: 'status', width: 6, value: (e) => statusMarker(e), color: (e) => colorOf(statusMarker(e)) },
  // UTC; the title line says so, and the id beside it carries the year.
  { header: 'started', width: 11, value: (e) => shortUtc(e.startedAt).replace(/Z$/, '') },
  { header: 'took', width: 6, align: 'right', value: (e) => (e.durationSeconds === undefined ? UNKNOWN : formatDuration(e.durationSeconds)) },
  { header: 'size', width: 8, align: 'right', value: (e) => (e.status === 'complete' ? formatBytes(e.sizeBytes) : UNKNOWN) },
  {
    header: 'verified',
    flex: 1,
    minWidth: 4,
    value: verifiedText,
    color: (e) => (e.verified ? markerColor(e.verified.ok ? 'OK' : 'FAIL') : undefined),
  },
];

/**
 * The columns for these rows: when a diff or incr is listed, the type column grows by one cell so
 * each shows the branch (└incr) that hangs it under its full (chainOrder puts it there).
 */
export function backupColumns(rows: readonly CatalogEntry[]): readonly Column<CatalogEntry>[] {
  if (!rows.some((e) => e.prior !== undefined)) return BACKUP_COLUMNS;
  return BACKUP_COLUMNS.map((c) => (c.header === 'type' ? { ...c, width: 5, value: typeText } : c));
}

/** The words a filter matches: id, kind, type, status (as stored and as shown) and verification. */
export function filterFields(e: CatalogEntry): string[] {
  return [e.id, e.kind, e.type, ...(e.prior ? [e.prior] : []), e.status, statusMarker(e), verifiedText(e)];
}
