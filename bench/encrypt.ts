/**
 * Encryption at rest (issue 17): `dbdrill backup` of pgbench -s 50 (DBDRILL_BENCH_SCALE) into an
 * encrypted repository (--encrypt-to) against the same backup unencrypted and against the raw
 * tool piped through age by hand (`pg_dump -Fc | age`, `pg_basebackup -D - -Ft -X fetch | age`).
 * Two rounds in alternating order; the figures are the medians' ratios.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../src/repo/manifest.js';
import { findTool } from '../src/runner/tools.js';
import { loadPgbench, toolAccess } from './backup-steps.js';
import { benchSandbox, dbdrill, mb, median, mustRun, printTable, ratio, rmTemp, secs, stopBenchSandbox, tempDir } from './util.js';

const SCALE = Number(process.env.DBDRILL_BENCH_SCALE) > 0 ? Number(process.env.DBDRILL_BENCH_SCALE) : 50;
const ROUNDS = 2;
const DB = 'bench';
const PW_ENV = 'DBDRILL_BENCH_PGPASSWORD';

export async function run(): Promise<void> {
  const dir = tempDir('encrypt');
  let sb: Awaited<ReturnType<typeof benchSandbox>> | undefined;
  try {
    sb = await benchSandbox();
    const s = sb.sandbox;
    const { env: pgEnv, conn } = toolAccess(s);
    await loadPgbench(s, DB, SCALE, pgEnv, conn);
    execFileSync('age-keygen', ['-o', join(dir, 'id.txt')], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', join(dir, 'id.txt')]).toString().trim();

    const configDir = join(dir, 'config');
    const cliEnv = { DBDRILL_CONFIG_DIR: configDir, [PW_ENV]: s.password };
    const add = (name: string, extra: string[]) =>
      dbdrill(['target', 'add', name, '--engine', 'postgres', '--host', s.host, '--port', String(s.port), '--user', s.user, '--dbname', DB, '--repo', join(dir, `repo-${name}`), '--password-env', PW_ENV, ...extra], cliEnv);
    mkdirSync(join(dir, 'repo-sealed'), { mode: 0o700 });
    await add('plain', []);
    await add('sealed', ['--encrypt-to', recipient]);

    const age = (await findTool('age')).path;
    const pgDump = (await findTool('pg_dump')).path;
    const pgBase = (await findTool('pg_basebackup')).path;
    const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
    const byHand = (tool: string, args: string[], out: string) =>
      `${q(tool)} ${args.map(q).join(' ')} | ${q(age)} -e -r ${recipient} -o ${q(out)}`;
    const kinds = [
      { kind: 'logical', hand: (out: string) => byHand(pgDump, [...conn, '--dbname', DB, '--format', 'custom'], out), label: 'pg_dump -Fc | age' },
      { kind: 'physical', hand: (out: string) => byHand(pgBase, [...conn, '--pgdata', '-', '--format', 'tar', '--wal-method', 'fetch', '--checkpoint', 'fast'], out), label: 'pg_basebackup -D - -Ft -X fetch | age' },
    ];
    const rows: string[][] = [];
    for (const k of kinds) {
      const t = { plain: [] as number[], sealed: [] as number[], hand: [] as number[] };
      let sizes = { plain: 0, sealed: 0, hand: 0 };
      const ours = async (name: 'plain' | 'sealed') => {
        await mustRun('sync', []);
        const r = await dbdrill(['backup', name, '--kind', k.kind, '--json'], cliEnv);
        const m = (JSON.parse(r.stdout) as { backup: Manifest }).backup;
        sizes[name] = m.sizeBytes;
        rmSync(join(dir, `repo-${name}`, 'backups', m.id), { recursive: true, force: true });
        t[name].push(r.ms);
      };
      const hand = async () => {
        await mustRun('sync', []);
        const out = join(dir, 'by-hand.age');
        const r = await mustRun('bash', ['-c', `set -o pipefail; ${k.hand(out)}`], { env: pgEnv });
        sizes.hand = statSync(out).size;
        rmSync(out, { force: true });
        t.hand.push(r.ms);
      };
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? [() => ours('plain'), () => ours('sealed'), hand] : [hand, () => ours('sealed'), () => ours('plain')];
        for (const step of order) await step();
      }
      const [p, e, h] = [median(t.plain), median(t.sealed), median(t.hand)];
      rows.push([k.kind, t.plain.map(secs).join(' / '), t.sealed.map(secs).join(' / '), `${k.label}: ${t.hand.map(secs).join(' / ')}`, ratio(e, p), ratio(e, h), `${mb(sizes.plain)} / ${mb(sizes.sealed)} / ${mb(sizes.hand)}`]);
      sizes = { plain: 0, sealed: 0, hand: 0 };
    }
    printTable(
      `encryption: pgbench -s ${SCALE}, ${ROUNDS} runs each in alternating order (ratios of medians)`,
      ['kind', 'dbdrill plain', 'dbdrill --encrypt-to', 'by hand', 'encrypted/plain', 'encrypted/by hand', 'sizes plain / enc / hand'],
      rows,
    );
  } finally {
    try {
      await stopBenchSandbox(sb);
    } finally {
      rmTemp(dir);
    }
  }
}
