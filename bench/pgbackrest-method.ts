/**
 * The pgBackRest method (issue 14) against pgBackRest run by hand, on pgbench (-s 50 by default,
 * DBDRILL_BENCH_SCALE to change it): full, diff and incr backups after updating about 1% of the
 * accounts before each, `dbdrill backup --type` against raw `pgbackrest backup --type` with the
 * same conf (goal: dbdrill <= 1.05x raw + 0.3 s), seconds and repository bytes of each; then the
 * restore time to one same point from a full, from full+diff and from full+6 incr.
 */
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findTool } from '../src/runner/tools.js';
import { freePort } from '../src/sandbox/ports.js';
import { loadPgbench, toolAccess } from './backup-steps.js';
import { benchSandbox, dbdrill, exec, mb, median, mustRun, note, printTable, ratio, rmTemp, secs, stopBenchSandbox, tempDir } from './util.js';

const SCALE = Number(process.env.DBDRILL_BENCH_SCALE) > 0 ? Number(process.env.DBDRILL_BENCH_SCALE) : 50;
const goalMs = (rawMs: number) => rawMs * 1.05 + 300;
const DB = 'bench';
/** Backups of each type per side (DBDRILL_BENCH_ROUNDS). */
const BACKUP_ROUNDS = Number(process.env.DBDRILL_BENCH_ROUNDS) > 0 ? Number(process.env.DBDRILL_BENCH_ROUNDS) : 3;
const PW_ENV = 'DBDRILL_BENCH_PGPASSWORD';

interface Set { id: string; type: string; repoDelta?: number }

export async function run(): Promise<void> {
  const dir = tempDir('pgbr');
  // pgBackRest runs as the server's account, which must walk into the repository below.
  chmodSync(dir, 0o711);
  let sb: Awaited<ReturnType<typeof benchSandbox>> | undefined;
  const servers: number[] = [];
  try {
    sb = await benchSandbox({ archive: { command: '/bin/true' } });
    const s = sb.sandbox;
    const { env: pgEnv, conn } = toolAccess(s);
    await loadPgbench(s, DB, SCALE, pgEnv, conn);
    const psql = (await findTool('psql')).path;
    const sql = (q: string) => mustRun(psql, [...conn, '--dbname', DB, '-qAtc', q], { env: pgEnv });
    const accounts = SCALE * 100_000;
    let round = 0;
    // About 1% of the accounts, a different 1% each time.
    const touch = () => sql(`UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = ${round++ % 100}`);

    const configDir = join(dir, 'config');
    const repo = join(dir, 'repo');
    const cliEnv = { DBDRILL_CONFIG_DIR: configDir, [PW_ENV]: s.password };
    await dbdrill(['target', 'add', DB, '--engine', 'postgres', '--host', s.host, '--port', String(s.port), '--user', s.user, '--dbname', DB, '--repo', repo, '--password-env', PW_ENV, '--method', 'pgbackrest'], cliEnv);
    await dbdrill(['archiving', 'enable', DB, '--apply'], cliEnv);

    // Raw pgBackRest: the same generated conf, run as the account dbdrill runs it as.
    const conf = join(repo, 'pgbackrest-state', 'pgbackrest.conf');
    const st = statSync(join(repo, 'pgbackrest-state'));
    const pgbackrest = (await findTool('pgbackrest')).path;
    const asOwner = { uid: st.uid, gid: st.gid, cwd: join(repo, 'pgbackrest-state'), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPASSWORD: s.password } };
    const raw = async (type: string) => (await mustRun(pgbackrest, [`--config=${conf}`, `--config-include-path=${join(repo, 'pgbackrest-state', 'conf.d')}`, `--stanza=${DB}`, `--type=${type}`, 'backup'], asOwner)).ms;
    const ours = async (type: string) => (await dbdrill(['backup', DB, '--kind', 'physical', '--type', type, '--json'], cliEnv)).ms;
    const catalog = async (): Promise<Set[]> => (JSON.parse((await dbdrill(['catalog', DB, '--json'], cliEnv)).stdout) as { backups: Set[] }).backups;

    // The update leaves dirty pages and WAL full of page images: checkpointed, archived and on
    // disk before each backup starts, so neither side pays for them on the other's behalf.
    const settle = async () => {
      await sql('CHECKPOINT');
      for (let i = 0; i < 300; i++) {
        const waiting = Number((await sql(`SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'`)).stdout.trim());
        if (waiting === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await mustRun('sync', []);
    };

    // Rounds in alternating order, medians compared: one run each is within pgBackRest's own
    // spread (its wait for the last WAL segment to be archived differs by up to a second).
    const rows: string[][] = [];
    const spread: string[] = [];
    for (const type of ['full', 'diff', 'incr']) {
      const times = { raw: [] as number[], ours: [] as number[] };
      const bytes = { raw: 0, ours: 0 };
      for (let r = 0; r < BACKUP_ROUNDS; r++) {
        for (const who of r % 2 === 0 ? (['raw', 'ours'] as const) : (['ours', 'raw'] as const)) {
          await touch();
          await settle();
          times[who].push(who === 'raw' ? await raw(type) : await ours(type));
          bytes[who] = (await catalog())[0]!.repoDelta ?? 0;
        }
      }
      const r = median(times.raw);
      const o = median(times.ours);
      rows.push([type, secs(r), secs(o), ratio(o, r), `${secs(goalMs(r))}: ${o <= goalMs(r) ? 'met' : `missed by ${secs(o - goalMs(r))}`}`, mb(bytes.raw), mb(bytes.ours)]);
      spread.push(`${type}: raw ${times.raw.map(secs).join(' ')}; dbdrill ${times.ours.map(secs).join(' ')}`);
    }
    printTable(`pgBackRest backups: pgbench -s ${SCALE} (${accounts.toLocaleString('en-US')} accounts), ~1% of rows updated before each, median of ${BACKUP_ROUNDS} in alternating order`, ['type', 'raw pgbackrest', 'dbdrill', 'dbdrill/raw', 'goal 1.05x raw + 0.3 s', 'repo bytes raw', 'repo bytes dbdrill'], rows);
    note(`each run, in the order taken: ${spread.join(' | ')}`);

    if (process.env.DBDRILL_BENCH_RESTORES === '0') return;
    // One chain for the restores: full, diff, 6 incr, then the point all three restore to.
    await touch();
    await ours('full');
    const full = (await catalog())[0]!.id;
    await touch();
    await ours('diff');
    const diff = (await catalog())[0]!.id;
    let incr = '';
    for (let i = 0; i < 6; i++) {
      await touch();
      await ours('incr');
      incr = (await catalog())[0]!.id;
    }
    await touch();
    const to = (await sql(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`)).stdout.trim();
    // The window ends at the newest archived commit: one after the point puts the point inside it.
    await touch();
    await sql('SELECT pg_switch_wal()');
    for (let i = 0; i < 200; i++) {
      const w = JSON.parse((await dbdrill(['window', DB, '--json'], cliEnv)).stdout) as { to?: string };
      if (w.to && Date.parse(w.to) > Date.parse(to)) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const restores: string[][] = [];
    let first = 0;
    for (const [what, id] of [['full', full], ['full + diff', diff], ['full + 6 incr', incr]] as const) {
      await mustRun('sync', []);
      const into = join(dir, `restore-${id}`);
      const r = await dbdrill(['restore', DB, '--to', to, '--backup', id, '--into', into, '--port', String(await freePort()), '--json'], cliEnv);
      const rep = JSON.parse(r.stdout) as { pid: number; segmentsRestored?: number };
      servers.push(rep.pid);
      await exec('kill', ['-INT', String(rep.pid)]);
      first ||= r.ms;
      restores.push([what, id, secs(r.ms), ratio(r.ms, first), String(rep.segmentsRestored ?? '?')]);
    }
    printTable(`pgBackRest restores to one point (${to}), end to end (restore files, replay, proof)`, ['from', 'set', 'time', 'vs full', 'WAL segments replayed'], restores);
    note('archive-push (async, process-max 2) vs wal-push vs cp+sync: not measured here (see the wal-push bench, which times pgbackrest archive-push synchronously).');
  } finally {
    for (const pid of servers) await exec('kill', ['-INT', String(pid)]);
    try {
      await stopBenchSandbox(sb);
    } finally {
      rmTemp(dir);
    }
  }
}
