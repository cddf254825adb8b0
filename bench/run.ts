import { availableParallelism, loadavg, totalmem } from 'node:os';

/**
 * Runs the benchmarks: all of them, or those named (`node dist/bench/run.js catalog wal-push`).
 * Each prints its own tables; a bench that fails is reported and the others still run.
 */
const BENCHES: Record<string, { what: string; load: () => Promise<{ run: () => Promise<void> }> }> = {
  catalog: { what: '10,000 manifests and 100,000 WAL names', load: () => import('./catalog.js') },
  'wal-push': { what: 'archiving 16 MB WAL segments: cp, dbdrill wal-push, pgbackrest archive-push', load: () => import('./wal-push.js') },
  backup: { what: `dbdrill backup against raw pg_dump / pg_basebackup on pgbench -s ${process.env.DBDRILL_BENCH_SCALE || 50}`, load: () => import('./backup.js') },
  console: { what: 'console first frame and JobStore memory', load: () => import('./console.js') },
  encrypt: { what: 'dbdrill backup --encrypt-to (age) against unencrypted and against pg_dump | age by hand, pgbench -s 50', load: () => import('./encrypt.js') },
  copies: { what: 'dbdrill copy to a directory, to SFTP (rclone) and with age, against cp / rclone copy / age', load: () => import('./copies.js') },
  'pgbackrest-method': { what: 'pgBackRest full/diff/incr backups (dbdrill backup --type) against pgbackrest backup by hand, and restores from full, full+diff, full+6 incr', load: () => import('./pgbackrest-method.js') },
  'mariadb-chain': { what: 'MariaDB full/diff/incr backups and restores (dbdrill backup --type) against mariadb-backup by hand', load: () => import('./mariadb-chain.js') },
  stream: { what: 'RPO after kill -9: dbdrill stream vs archive_command; commit latency with --synchronous', load: () => import('./stream.js') },
  fleet: { what: 'the console over 100 targets: 20 real PostgreSQL, 80 silent addresses', load: () => import('./fleet.js') },
  'health-sampling': { what: 'CPU cost of the health panel sampling a sandbox once a second', load: () => import('./health-sampling.js') },
};

/** Cores and load: figures from a busy machine are not comparable with an idle one. */
function machine(): string {
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  return `${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${load}, Node ${process.version}`;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`usage: node dist/bench/run.js [${Object.keys(BENCHES).join('|')} ...]\n`);
    for (const [name, b] of Object.entries(BENCHES)) process.stdout.write(`  ${name.padEnd(9)} ${b.what}\n`);
    return 0;
  }
  const unknown = argv.filter((a) => !(a in BENCHES));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown bench ${unknown.map((u) => `"${u}"`).join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}.\n`);
    return 2;
  }
  const names = argv.length > 0 ? argv : Object.keys(BENCHES);
  let failed = 0;
  for (const name of names) {
    const bench = BENCHES[name]!;
    process.stdout.write(`\n=== ${name}: ${bench.what} ===\n${machine()}\n`);
    const t0 = performance.now();
    try {
      await (await bench.load()).run();
      process.stdout.write(`(${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    } catch (e) {
      failed++;
      process.stdout.write(`FAILED ${name}: ${(e as Error)?.stack ?? String(e)}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
