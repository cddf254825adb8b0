/**
 * A throw-away pgBackRest stanza over a sandbox, for the wal-push bench: config, repository, log
 * and lock directories in one temp dir owned by the server's user (pgBackRest runs as that user,
 * as it would from archive_command).
 */
import { chownSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxInfo } from '../src/sandbox/index.js';
import { exec, mustRun, type Ran } from './util.js';
import { ARCHIVE_PUSH_OPTIONS } from '../src/engines/postgres/pgbackrest/conf.js';

export interface Stanza {
  config: string;
  dir: string;
  stanza: string;
  uid: number;
  gid: number;
  push(segment: string): Promise<Ran>;
}

/**
 * Writes a config under `dir` (which must be enterable by uid) and runs stanza-create.
 * `options` go into [global], e.g. {"compress-type": "none"}.
 */
export async function createStanza(pgbackrest: string, dir: string, sb: SandboxInfo, owner: { uid: number; gid: number }, options: Record<string, string>): Promise<Stanza> {
  for (const sub of ['', 'repo', 'log', 'lock', 'spool']) {
    mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
    chownSync(join(dir, sub), owner.uid, owner.gid);
  }
  const config = join(dir, 'pgbackrest.conf');
  const global = {
    'repo1-path': join(dir, 'repo'),
    'log-path': join(dir, 'log'),
    'lock-path': join(dir, 'lock'),
    'spool-path': join(dir, 'spool'),
    'log-level-console': 'warn',
    'log-level-stderr': 'off',
    'log-level-file': 'off',
    ...options,
  };
  const lines = [
    '[global]',
    ...Object.entries(global).map(([k, v]) => `${k}=${v}`),
    '',
    '[bench]',
    `pg1-path=${sb.dataDir}`,
    `pg1-port=${sb.port}`,
    `pg1-socket-path=${sb.socketDir}`,
    `pg1-user=${sb.user}`,
    '',
  ];
  writeFileSync(config, lines.join('\n'), { mode: 0o600 });
  chownSync(config, owner.uid, owner.gid);
  const as = { uid: owner.uid, gid: owner.gid, cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } };
  await mustRun(pgbackrest, [`--config=${config}`, '--stanza=bench', 'stanza-create'], as);
  return {
    config,
    dir,
    stanza: 'bench',
    ...owner,
    push: (segment) => exec(pgbackrest, [`--config=${config}`, '--stanza=bench', 'archive-push', segment], as),
  };
}

/**
 * The archive_command of an async stanza (archive-async, spool, process-max 2, zst) archiving
 * from `pgdata`, a simulated data directory: the conf is pointed at it (pgBackRest reads %p and
 * archive_status/ relative to pg1-path, and checks its pg_control), and the command runs as the
 * server's user, as the archiver would.
 */
export async function asyncArchiveCommand(pgbackrest: string, dir: string, sb: SandboxInfo, owner: { uid: number; gid: number }, pgdata: string): Promise<string> {
  const st = await createStanza(pgbackrest, dir, sb, owner, { 'compress-type': 'zst', 'archive-async': 'y', 'process-max': '2', ...Object.fromEntries(ARCHIVE_PUSH_OPTIONS) });
  mkdirSync(join(pgdata, 'global'), { recursive: true });
  copyFileSync(join(sb.dataDir, 'global', 'pg_control'), join(pgdata, 'global', 'pg_control'));
  chownTree(pgdata, owner);
  writeFileSync(st.config, readFileSync(st.config, 'utf8').replace(`pg1-path=${sb.dataDir}`, `pg1-path=${pgdata}`));
  return `setpriv --reuid=${owner.uid} --regid=${owner.gid} --clear-groups env HOME=${dir} ${pgbackrest} --config=${st.config} --stanza=${st.stanza} archive-push %p`;
}

function chownTree(path: string, owner: { uid: number; gid: number }): void {
  chownSync(path, owner.uid, owner.gid);
  if (!statSync(path).isDirectory()) return;
  for (const e of readdirSync(path)) chownTree(join(path, e), owner);
}
