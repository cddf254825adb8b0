import type { WalInventory } from '../../src/pitr/inventory.js';
import { segmentName } from '../../src/pitr/wal-names.js';
import { computeWindow, type RecoverableWindow } from '../../src/pitr/window.js';
import type { Manifest } from '../../src/repo/manifest.js';

/**
 * A target's repository as the screens see it, from real manifest shapes: two physical base
 * backups with a WAL gap between their runs, a logical backup, a failed one. The window and
 * plans are computed by the real pure code (src/pitr) over a fixture WAL inventory.
 */
const lsn = (seg: number, off: number) => `0/${(seg * 0x1000000 + off).toString(16).toUpperCase()}`;
const wal = (seg: number) => segmentName({ timeline: 1, segNo: seg });

export function physical(id: string, startSeg: number, consistentAt: string, extra: Partial<Manifest> = {}): Manifest {
  return {
    formatVersion: 1,
    id,
    target: 'prod',
    engine: 'postgres',
    kind: 'physical',
    type: 'full',
    status: 'complete',
    tool: {
      name: 'pg_basebackup',
      version: '15.8',
      argv: ['/usr/lib/postgresql/15/bin/pg_basebackup', '--host', '10.0.0.5', '--port', '5432', '--username', 'backup', '--pgdata', `/srv/backups/prod/backups/${id}/base`, '--format', 'tar', '--wal-method', 'stream', '--checkpoint', 'fast'],
    },
    serverVersion: '15.8',
    startedAt: new Date(Date.parse(consistentAt) - 65_000).toISOString(),
    finishedAt: consistentAt,
    sizeBytes: 100_663_296,
    format: 'pg_basebackup-tar',
    files: [
      { path: 'base/base.tar', bytes: 83_886_080, sha256: '3f2a9c1e5b7d00112233445566778899aabbccddeeff00112233445566778899' },
      { path: 'base/pg_wal.tar', bytes: 16_777_216, sha256: '9c0ffee05b7d00112233445566778899aabbccddeeff00112233445566778899' },
      { path: 'base/backup_manifest', bytes: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    ],
    postgres: { systemId: '7311234567890123456', timeline: 1, startLsn: lsn(startSeg, 0x28), stopLsn: lsn(startSeg, 0x100), walStart: wal(startSeg), walEnd: wal(startSeg), consistentAt },
    ...extra,
  };
}

export function logical(id: string, startedAt: string, extra: Partial<Manifest> = {}): Manifest {
  return {
    formatVersion: 1,
    id,
    target: 'prod',
    engine: 'postgres',
    kind: 'logical',
    type: 'full',
    status: 'complete',
    tool: { name: 'pg_dump', version: '15.8', argv: ['/usr/lib/postgresql/15/bin/pg_dump', '--host', '10.0.0.5', '--dbname', 'shop', '--format', 'custom', '--file', 'dump.pgdump'] },
    serverVersion: '15.8',
    startedAt,
    finishedAt: new Date(Date.parse(startedAt) + 4_000).toISOString(),
    sizeBytes: 3_355_443,
    format: 'pg_dump-custom',
    database: 'shop',
    files: [{ path: 'dump.pgdump', bytes: 3_355_443, sha256: 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12' }],
    tables: [
      { table: 'public.customers', rows: 500, digest: 'd1' },
      { table: 'public.orders', rows: 2000, digest: 'd2' },
      { table: 'public.order_items', rows: 4000, digest: 'd3' },
    ],
    verification: [
      { at: '2026-11-25T10:00:00.000Z', method: 'sha256', ok: true, detail: '1 file(s) match their checksums' },
      { at: '2026-11-25T10:00:00.000Z', method: 'pg_restore --list', ok: true, detail: 'table of contents lists 14 entries' },
      { at: '2026-11-25T10:00:00.000Z', method: 'restore', ok: true, detail: 'restored 3 tables; rows and digests match the backup (6500 rows)' },
    ],
    ...extra,
  };
}

export const BASE_A = '20261125T090025Z-F';
export const BASE_B = '20261125T090725Z-F';
export const LOGICAL = '20261125T095500Z-L';
export const FAILED = '20261125T093000Z-L';

/** Newest first, as the repository lists them. */
export function prodManifests(): Manifest[] {
  return [
    logical(LOGICAL, '2026-11-25T09:55:00.000Z'),
    logical(FAILED, '2026-11-25T09:30:00.000Z', {
      status: 'failed',
      files: [],
      sizeBytes: 0,
      tables: [],
      verification: [],
      error: 'pg_dump: error: connection to server at "10.0.0.5", port 5432 failed: timeout expired',
    }),
    physical(BASE_B, 8, '2026-11-25T09:08:30.000Z'),
    physical(BASE_A, 2, '2026-11-25T09:01:30.000Z'),
  ];
}

/** Segments 2–6 and 8–10 on timeline 1: segment 7 is missing, so A's run ends at 6. */
export function prodInventory(): WalInventory {
  return { timelines: new Map([[1, [2, 3, 4, 5, 6, 8, 9, 10]]]), histories: [], newestArchivedAt: new Map([[1, Date.parse('2026-11-25T09:10:05Z')]]) };
}

/** Segment n's last commit: 09:00 + n minutes (the window then ends at 09:10:00). */
export const prodLastCommit = (_tl: number, seg: number) => new Date(Date.parse('2026-11-25T09:00:00Z') + seg * 60_000);

export function prodWindow(): RecoverableWindow {
  return computeWindow(prodManifests(), prodInventory(), prodLastCommit);
}
