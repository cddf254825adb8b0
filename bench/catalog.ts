/**
 * Catalog and WAL-inventory speed: 10,000 manifests read through `dbdrill catalog --json` and
 * in-process, and 100,000 archived WAL segment names read by readInventory + findGaps.
 * Goal for both: well under a second.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCatalog } from '../src/ops/catalog.js';
import { findGaps, readInventory } from '../src/pitr/inventory.js';
import { segmentName, timelineHex } from '../src/pitr/wal-names.js';
import { backupId, type BackupKind, type Manifest } from '../src/repo/manifest.js';
import { Repository } from '../src/repo/repository.js';
import { dbdrill, median, ms, note, printTable, rmTemp, tempDir, timeIt } from './util.js';

const MANIFESTS = 10_000;
const SEGMENTS = 100_000;
const RUNS = 5;

export async function run(): Promise<void> {
  const dir = tempDir('catalog');
  try {
    await catalogBench(dir);
    await inventoryBench(join(dir, 'wal-repo'));
  } finally {
    rmTemp(dir);
  }
}

const hex = (seed: string) => createHash('sha256').update(seed).digest('hex');

/** A manifest like the ones `dbdrill backup` writes: logical with table stats, physical with LSNs. */
function manifest(i: number, at: Date): Manifest {
  const kind: BackupKind = i % 4 === 0 ? 'physical' : 'logical';
  const id = backupId(at, kind, 'full');
  const failed = i % 97 === 0;
  const seconds = 30 + (i % 300);
  const finished = new Date(at.getTime() + seconds * 1000).toISOString();
  const base: Manifest = {
    formatVersion: 1,
    id,
    target: 'prod',
    engine: 'postgres',
    kind,
    type: 'full',
    status: failed ? 'failed' : 'complete',
    tool: kind === 'logical'
      ? { name: 'pg_dump', version: '15.14', argv: ['/usr/lib/postgresql/15/bin/pg_dump', '--host', 'db1', '--port', '5432', '--username', 'backup', '--no-password', '--dbname', 'app', '--format', 'custom', '--file', `/srv/dbdrill/prod/backups/${id}/dump.pgdump`, '--snapshot', '00000003-0000001B-1'] }
      : { name: 'pg_basebackup', version: '15.14', argv: ['/usr/lib/postgresql/15/bin/pg_basebackup', '--host', 'db1', '--port', '5432', '--username', 'backup', '--no-password', '--pgdata', `/srv/dbdrill/prod/backups/${id}/base`, '--format', 'tar', '--wal-method', 'stream', '--checkpoint', 'fast', '--manifest-checksums', 'SHA256', '--label', 'dbdrill prod', '--progress', '--verbose'] },
    serverVersion: '15.14',
    startedAt: at.toISOString(),
    finishedAt: finished,
    sizeBytes: 0,
    files: [],
  };
  if (failed) return { ...base, error: 'pg_dump exited 1: connection to server at "db1" (10.0.0.5), port 5432 failed: FATAL: the database system is shutting down' };
  const files = kind === 'logical'
    ? [{ path: 'dump.pgdump', bytes: 180_000_000 + i * 1000, sha256: hex(`${i}d`) }]
    : [
        { path: 'base/backup_manifest', bytes: 190_000 + i, sha256: hex(`${i}m`) },
        { path: 'base/base.tar', bytes: 790_000_000 + i * 4096, sha256: hex(`${i}b`) },
        { path: 'base/pg_wal.tar', bytes: 16_778_752, sha256: hex(`${i}w`) },
      ];
  const m: Manifest = { ...base, files, sizeBytes: files.reduce((n, f) => n + f.bytes, 0) };
  if (kind === 'logical') {
    m.format = 'pg_dump-custom';
    m.database = 'app';
    m.tables = Array.from({ length: 12 }, (_, t) => ({ table: `public.table_${t}`, rows: 1000 * (t + 1) + i, digest: String(BigInt(`0x${hex(`${i}/${t}`).slice(0, 15)}`)) }));
  } else {
    const lsn = (n: number) => `${(n >> 8).toString(16).toUpperCase()}/${(((n & 0xff) << 24) >>> 0).toString(16).toUpperCase()}`;
    m.format = 'pg_basebackup-tar';
    m.postgres = { systemId: '7311234567890123456', timeline: 1, startLsn: lsn(i * 3), stopLsn: lsn(i * 3 + 1), walStart: segmentName({ timeline: 1, segNo: i * 3 }), walEnd: segmentName({ timeline: 1, segNo: i * 3 + 1 }), consistentAt: finished };
  }
  if (i % 3 === 0) m.verification = [{ at: finished, method: 'checksums', ok: true, detail: `${files.length} file(s) match` }, { at: finished, method: kind === 'logical' ? 'pg_restore --list' : 'pg_verifybackup', ok: true, detail: 'ok' }];
  return m;
}

async function catalogBench(dir: string): Promise<void> {
  const repoDir = join(dir, 'repo');
  const configDir = join(dir, 'config');
  const repo = new Repository(repoDir);
  repo.ensure({ name: 'prod', engine: 'postgres' });
  // Setup only: plain writes (no fsync per file), in the exact layout and JSON form writeManifest uses.
  const t0 = Date.UTC(2024, 0, 1);
  const setup = await timeIt(() => {
    for (let i = 0; i < MANIFESTS; i++) {
      // One backup every 2 h with up to 30 min of jitter: unique ids that sort by time.
      const m = manifest(i, new Date(t0 + i * 7_200_000 + ((i * 7919) % 1800) * 1000));
      mkdirSync(repo.backupDir(m.id), { mode: 0o700 });
      writeFileSync(join(repo.backupDir(m.id), 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600 });
    }
  });
  note(`setup: ${MANIFESTS} manifests written in ${ms(setup.ms)}`);

  const env = { DBDRILL_CONFIG_DIR: configDir };
  await dbdrill(['target', 'add', 'prod', '--engine', 'postgres', '--host', 'db1', '--port', '5432', '--user', 'backup', '--dbname', 'app', '--repo', repoDir], env);

  const cli: number[] = [];
  let entries = 0;
  let outBytes = 0;
  for (let r = 0; r < RUNS; r++) {
    const res = await dbdrill(['catalog', 'prod', '--json'], env);
    cli.push(res.ms);
    entries = (JSON.parse(res.stdout) as { backups: unknown[] }).backups.length;
    outBytes = res.stdout.length;
  }
  if (entries !== MANIFESTS) throw new Error(`dbdrill catalog listed ${entries} backups, expected ${MANIFESTS}`);
  const baseline: number[] = [];
  for (let r = 0; r < RUNS; r++) baseline.push((await dbdrill(['--version'])).ms);
  const inProc: number[] = [];
  const ops: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    inProc.push((await timeIt(() => repo.catalog())).ms);
    ops.push((await timeIt(() => readCatalog(configDir, 'prod'))).ms);
  }
  printTable(`catalog: ${MANIFESTS} manifests (warm page cache, median of ${RUNS})`, ['what', 'time', 'goal'], [
    ['dbdrill catalog prod --json (CLI, end to end)', ms(median(cli)), '< 1000 ms'],
    ['  of which node start-up (dbdrill --version)', ms(median(baseline)), ''],
    ['Repository.catalog() in-process', ms(median(inProc)), '< 1000 ms'],
    ['readCatalog() in-process (+ catalog entries)', ms(median(ops)), ''],
  ]);
  note(`CLI output: ${entries} entries, ${(outBytes / 1024).toFixed(0)} KiB of JSON`);
  rmSync(repoDir, { recursive: true, force: true });
}

async function inventoryBench(repoDir: string): Promise<void> {
  const wal = join(repoDir, 'wal');
  // Timeline 1 then timeline 2 forking off near its end, 100,000 segments in all, 3 holes.
  const split = 60_000;
  const holes = new Set([1_234, 45_678, split + 20_000]);
  const setup = await timeIt(() => {
    for (const tl of [1, 2]) mkdirSync(join(wal, timelineHex(tl)), { recursive: true, mode: 0o700 });
    writeFileSync(join(wal, `${timelineHex(2)}.history`), '1\t0/EA000000\tno recovery target specified\n');
    for (let i = 0; i < SEGMENTS; i++) {
      if (holes.has(i)) continue;
      const tl = i < split ? 1 : 2;
      const name = segmentName({ timeline: tl, segNo: 0x100 + (i < split ? i : i - 100) });
      writeFileSync(join(wal, name.slice(0, 8), name), '');
    }
  });
  note(`\nsetup: ${SEGMENTS - holes.size} empty segment files in ${ms(setup.ms)}`);
  const times: number[] = [];
  let gaps = 0;
  let segs = 0;
  for (let r = 0; r < RUNS; r++) {
    const t = await timeIt(() => {
      const inv = readInventory(wal);
      return { inv, gaps: findGaps(inv) };
    });
    times.push(t.ms);
    gaps = t.value.gaps.length;
    segs = [...t.value.inv.timelines.values()].reduce((n, s) => n + s.length, 0);
  }
  if (gaps !== holes.size) throw new Error(`findGaps found ${gaps} gaps, expected ${holes.size}`);
  printTable(`WAL inventory: ${segs} segments on 2 timelines (median of ${RUNS})`, ['what', 'time', 'goal'], [
    ['readInventory + findGaps', ms(median(times)), '< 1000 ms'],
  ]);
  note(`found ${gaps} gaps (3 planted)`);
}
