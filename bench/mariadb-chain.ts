/**
 * MariaDB chains (issue 15): seconds and bytes of a full, incrementals and a differential taken by
 * `dbdrill backup --type …` on a generated database of ~1 GB (DBDRILL_BENCH_SCALE=MB shrinks it)
 * after changing ~1% of its rows each time, and restore time from a full, full+diff and full+3
 * incr — each against running mariadb-backup by hand with the same options (the argv dbdrill
 * recorded in the manifest, pointed at another directory): --backup (+ --prepare for the full),
 * and for a restore copy, --prepare --incremental-dir per member, --move-back.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { Manifest } from '../src/repo/manifest.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { exec, dbdrill, mb, mustRun, note, printTable, ratio, rmTemp, secs, tempDir } from './util.js';

/** MB of table data to generate: ~1 GB unless DBDRILL_BENCH_SCALE says otherwise. */
const SCALE_MB = Number(process.env.DBDRILL_BENCH_SCALE) > 0 ? Number(process.env.DBDRILL_BENCH_SCALE) : 1000;
/** ~140 bytes a row on disk (int, a 200-char pad of hex digits and x, int; InnoDB compacts the pad). */
const ROWS = Math.round((SCALE_MB * 1024 * 1024) / 140);
const PW_ENV = 'DBDRILL_BENCH_MYPASSWORD';

interface Taken {
  name: string;
  m: Manifest;
  dbdrillMs: number;
  rawMs: number;
  rawBytes: number;
  rawDir: string;
}

export async function run(): Promise<void> {
  const dir = tempDir('mychain');
  // The servers run as mysql and must be able to walk into their directories.
  chmodSync(dir, 0o711);
  let sb: SandboxInstance | undefined;
  try {
    sb = await startMariadbSandbox({ baseDir: join(dir, 'sandbox'), binlog: true });
    const s = sb;
    const q = async (text: string) => {
      const c = await mysql.createConnection({ host: '127.0.0.1', port: s.port, user: s.user, password: s.password, multipleStatements: true });
      try {
        return (await c.query(text))[0] as mysql.RowDataPacket[];
      } finally {
        await c.end();
      }
    };
    const t0 = performance.now();
    await q(`CREATE DATABASE bench; CREATE TABLE bench.t (id int PRIMARY KEY, pad char(200) NOT NULL, n int NOT NULL) ENGINE=InnoDB;
             SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0, GLOBAL innodb_max_dirty_pages_pct = 0`);
    for (let from = 1; from <= ROWS; from += 500_000) {
      const to = Math.min(ROWS, from + 499_999);
      await q(`INSERT INTO bench.t SELECT seq, RPAD(MD5(seq), 200, 'x'), seq FROM bench.seq_${from}_to_${to}`);
    }
    // The tablespace file itself: information_schema's estimate lags right after a bulk insert.
    const bytes = statSync(join(s.dataDir, 'bench', 't.ibd')).size;
    note(`generated ${ROWS} rows, ${mb(bytes)} on disk, in ${secs(performance.now() - t0)}`);
    let round = 0;
    /**
     * ~1% of the rows changed, a different 1% each round: a run of ids, as most changes land on
     * recent or related rows (every 100th row instead touches every page, and an incremental is
     * then as large as the full).
     */
    const change = async () => {
      round++;
      const from = Math.floor((ROWS * (round * 17 % 100)) / 100);
      await q(`UPDATE bench.t SET n = n + 1, pad = RPAD(CONCAT(MD5(id), '${round}'), 200, 'y') WHERE id > ${from} AND id <= ${from + Math.ceil(ROWS / 100)}`);
      // The checkpoint past the changes, so a backup's to_lsn moves on.
      for (let i = 0; i < 600; i++) {
        const st = await q(`SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_lsn_current', 'Innodb_lsn_last_checkpoint')`);
        const v = Object.fromEntries(st.map((r) => [String(r.Variable_name), BigInt(String(r.Value))]));
        if (v.Innodb_lsn_last_checkpoint! >= v.Innodb_lsn_current!) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    const configDir = join(dir, 'config');
    const repo = join(dir, 'repo');
    const env = { DBDRILL_CONFIG_DIR: configDir, [PW_ENV]: s.password };
    await dbdrill(['target', 'add', 'b', '--engine', 'mysql', '--host', '127.0.0.1', '--port', String(s.port), '--user', s.user, '--dbname', 'bench', '--repo', repo, '--password-env', PW_ENV], env);
    const cnf = join(dir, 'raw.cnf');
    writeFileSync(cnf, `[client]\npassword="${s.password}"\n`, { mode: 0o600 });
    const rawRoot = join(dir, 'raw');
    mkdirSync(rawRoot);

    const taken: Taken[] = [];
    /** dbdrill's backup, then the same mariadb-backup argv by hand into raw/<name> (its base: the raw copy of dbdrill's base). */
    const take = async (name: string, type: 'full' | 'diff' | 'incr') => {
      const d = await dbdrill(['backup', 'b', '--kind', 'physical', '--type', type, '--json'], env);
      const m = (JSON.parse(d.stdout) as { backup: Manifest }).backup;
      const rawDir = join(rawRoot, name);
      const baseRaw = m.prior ? taken.find((x) => x.m.id === m.prior)!.rawDir : undefined;
      const [tool, ...args] = m.tool.argv;
      const rawArgs = [`--defaults-extra-file=${cnf}`, ...args.map((a) => (a.startsWith('--target-dir=') ? `--target-dir=${rawDir}` : a.startsWith('--incremental-basedir=') ? `--incremental-basedir=${baseRaw}` : a))];
      const r0 = performance.now();
      await mustRun(tool!, rawArgs);
      if (type === 'full') await mustRun(tool!, ['--prepare', `--target-dir=${rawDir}`]);
      const rawMs = performance.now() - r0;
      const du = await mustRun('du', ['-sb', rawDir]);
      taken.push({ name, m, dbdrillMs: d.ms, rawMs, rawBytes: Number(du.stdout.split('\t')[0]), rawDir });
    };

    await take('full', 'full');
    await change();
    await take('incr 1', 'incr');
    await change();
    await take('incr 2', 'incr');
    await change();
    await take('incr 3', 'incr');
    await take('diff (3% changed)', 'diff');
    printTable(
      `Backups (${ROWS} rows, ${mb(bytes)}; a different 1% of rows changed before each incr): dbdrill backup vs mariadb-backup by hand`,
      ['backup', 'dbdrill', 'raw', 'ratio', 'dbdrill bytes', 'raw bytes', 'of the full'],
      taken.map((t) => [t.name, secs(t.dbdrillMs), secs(t.rawMs), ratio(t.dbdrillMs, t.rawMs), mb(t.m.sizeBytes), mb(t.rawBytes), `${((100 * t.m.sizeBytes) / taken[0]!.m.sizeBytes).toFixed(1)}%`]),
    );

    // Restores: dbdrill restore --backup ID (copy checked, apply, move back, start the server) vs by
    // hand (cp, --prepare --incremental-dir per member, --move-back) and the server started the same way.
    const full = taken[0]!;
    const cases: { name: string; tip: Taken; members: Taken[] }[] = [
      { name: 'full', tip: full, members: [full] },
      { name: 'full + diff', tip: taken[4]!, members: [full, taken[4]!] },
      { name: 'full + 3 incr', tip: taken[3]!, members: [full, taken[1]!, taken[2]!, taken[3]!] },
    ];
    const rows: string[][] = [];
    for (const c of cases) {
      const into = join(dir, `restore-${rows.length}`);
      const port = await freePort();
      const d = await dbdrill(['restore', 'b', '--backup', c.tip.m.id, '--into', into, '--port', String(port), '--json'], env);
      const r = JSON.parse(d.stdout) as { pid: number; mysql: { stopCommand: string } };
      const [stopTool, ...stopArgs] = r.mysql.stopCommand.split(' ');
      await exec(stopTool!, stopArgs);
      rmTemp(into);

      const tool = full.m.tool.argv[0]!;
      const work = join(dir, `raw-restore-${rows.length}`);
      const r0 = performance.now();
      cpSync(full.rawDir, join(work, 'full'), { recursive: true });
      for (const m of c.members.slice(1)) {
        cpSync(m.rawDir, join(work, 'inc'), { recursive: true });
        await mustRun(tool, ['--no-defaults', '--prepare', `--target-dir=${join(work, 'full')}`, `--incremental-dir=${join(work, 'inc')}`]);
        rmTemp(join(work, 'inc'));
      }
      const rawApplied = performance.now() - r0;
      const data = join(work, 'data');
      await mustRun(tool, ['--no-defaults', '--move-back', `--target-dir=${join(work, 'full')}`, `--datadir=${data}`]);
      const rawMs = performance.now() - r0;
      // The same server start dbdrill's restore does (a MariaDB sandbox on the files), timed alone.
      const st0 = performance.now();
      const started = existsSync(data)
        ? await startMariadbSandbox({ baseDir: join(work, 'srv'), binlog: false, populate: async (dd) => cpSync(data, dd, { recursive: true }) })
        : undefined;
      const startMs = performance.now() - st0;
      await started?.stop();
      rmTemp(work);
      rows.push([c.name, secs(d.ms), secs(rawMs), secs(rawApplied), secs(startMs), ratio(d.ms, rawMs + startMs), mb(c.members.reduce((n, m) => n + m.m.sizeBytes, 0))]);
    }
    printTable(
      'Restores: dbdrill restore --backup (files checked while copied, applied, moved, server started) vs by hand',
      ['restore', 'dbdrill', 'raw cp+apply+move', 'of it cp+apply', 'server start (+copy)', 'ratio to raw + start', 'bytes read'],
      rows,
    );
    note('raw server start copies the moved files once more into the sandbox (populate), so "raw + start" overstates the by-hand restore slightly');
  } finally {
    await sb?.stop();
    rmTemp(dir);
    const left = await exec('pgrep', ['-af', dir]);
    const lines = left.stdout.split('\n').filter((l) => l.trim() !== '' && !l.includes('pgrep'));
    note(lines.length === 0 ? `sandbox stopped; no process of ${dir} left` : `WARNING: still running after stop:\n${lines.join('\n')}`);
  }
}
