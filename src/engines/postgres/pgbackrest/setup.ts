import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { runTool } from '../../../runner/run.js';
import { findTool } from '../../../runner/tools.js';
import { join } from 'node:path';
import type { Target } from '../../../config/target.js';
import { invalid } from '../../../errors.js';
import { writeFileAtomic } from '../../../repo/atomic.js';
import { isRoot } from '../../../sandbox/users.js';
import { pgSecret } from '../connection-args.js';
import { runPgbackrest, type CipherSource, type Pgbackrest } from './command.js';
import { DEFAULT_PROCESS_MAX, renderConf } from './conf.js';
import { pgbackrestLayout, type PgbackrestLayout } from './layout.js';
import { discoverLocalServer, runAsFor, type LocalServer } from './local-server.js';
import { checkStanzaSystem, readStanzaInfo } from './stanza.js';

export interface PgbackrestSetupOptions {
  processMax?: number;
  checkpoint?: 'fast' | 'spread';
  /** Name of the environment variable holding the repository cipher pass; set: the repository is encrypted. */
  cipherPassEnv?: string;
}

export interface PreparedPgbackrest {
  pb: Pgbackrest;
  server: LocalServer;
  /** The conf as written (for `target show`). */
  conf: string;
}

/**
 * Gets a target ready for pgBackRest: finds the tool, learns from the server where its data
 * directory and socket are (and that they are on this host), and writes the generated conf and
 * the state directories, owned by the account pgBackRest and archive_command run as. The next
 * step is stanza-create. Running it again rewrites the conf (a moved data directory, a new port).
 */
export async function preparePgbackrest(target: Target, opts: PgbackrestSetupOptions = {}): Promise<PreparedPgbackrest> {
  const tool = await findTool('pgbackrest');
  const cipherSource = cipherSourceOf(target, opts.cipherPassEnv);
  const cipherPass = resolveCipherPass(target, cipherSource);
  const server = await discoverLocalServer(target);
  const runAs = runAsFor(server.owner, server.dataDir);
  const layout = pgbackrestLayout(target.repo);
  const secret = pgSecret(target);
  const pb: Pgbackrest = { tool, stanza: target.name, layout, ...(runAs ? { runAs } : {}), ...(secret ? { secret } : {}), ...(cipherPass !== undefined ? { cipherPass, cipherSource } : {}) };
  // A conf already there serves a stanza that may be another cluster's: refuse before
  // rewriting it, or that cluster's archive_command would start pushing with this one's paths.
  if (existsSync(layout.confFile)) checkStanzaSystem(pb, await readStanzaInfo(pb), server.systemId);
  const conf = renderConf({
    stanza: target.name,
    layout,
    pg: { dataDir: server.dataDir, port: server.port, socketDir: server.socketDir, user: target.user, database: target.dbname },
    processMax: opts.processMax ?? DEFAULT_PROCESS_MAX,
    checkpoint: opts.checkpoint ?? 'fast',
    cipher: cipherPass !== undefined,
  });
  writeLayout(target.repo, layout, conf, runAs);
  return { pb, server, conf };
}

/**
 * pgBackRest for a target prepared earlier, without asking the server anything: the run-as
 * account is whoever owns the state directory (preparePgbackrest gave it to the server's user).
 */
export async function openPgbackrest(target: Target, opts: { cipherPassEnv?: string } = {}): Promise<Pgbackrest> {
  const layout = pgbackrestLayout(target.repo);
  if (!existsSync(layout.confFile)) throw invalid(`Target "${target.name}" has no pgBackRest configuration (${layout.confFile}); set the target up for pgBackRest first.`);
  const tool = await findTool('pgbackrest');
  const st = statSync(layout.stateDir);
  const runAs = isRoot() && st.uid !== 0 ? { uid: st.uid, gid: st.gid } : undefined;
  const secret = pgSecret(target);
  const cipherSource = cipherSourceOf(target, opts.cipherPassEnv);
  const cipherPass = resolveCipherPass(target, cipherSource);
  return { tool, stanza: target.name, layout, ...(runAs ? { runAs } : {}), ...(secret ? { secret } : {}), ...(cipherPass !== undefined ? { cipherPass, cipherSource } : {}) };
}

/** The generated conf as it is on disk (for `target show`). */
export function readConf(target: Target): string {
  return readFileSync(pgbackrestLayout(target.repo).confFile, 'utf8');
}

/** Where the target keeps its repository cipher pass (none: the repository is not encrypted). */
export function cipherSourceOf(target: Target, env?: string): CipherSource | undefined {
  if (target.cipherPassFile !== undefined) return { file: target.cipherPassFile };
  const name = target.cipherPassEnv ?? env;
  return name !== undefined ? { env: name } : undefined;
}

/**
 * The pass itself, read when a command needs it and kept in memory only: pgBackRest gets it as
 * PGBACKREST_REPO1_CIPHER_PASS in its environment. A file must be private (0600), as password files.
 */
function resolveCipherPass(target: Target, source: CipherSource | undefined): string | undefined {
  if (source === undefined) return undefined;
  if ('env' in source) {
    const v = process.env[source.env];
    if (v === undefined || v === '') throw invalid(`Target "${target.name}" encrypts its pgBackRest repository with the pass in $${source.env}, which is not set; export ${source.env} before running dbdrill.`);
    return v;
  }
  let text: string;
  try {
    if ((statSync(source.file).mode & 0o077) !== 0) throw invalid(`The cipher pass file ${source.file} of target "${target.name}" is readable by others; run chmod 600 ${source.file}.`);
    text = readFileSync(source.file, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'invalid-input') throw e;
    throw invalid(`The cipher pass file ${source.file} of target "${target.name}" cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); restore the file or point the target at another one.`);
  }
  const pass = text.split('\n')[0] ?? '';
  if (pass === '') throw invalid(`The cipher pass file ${source.file} of target "${target.name}" has an empty first line; the pass goes on its first line.`);
  return pass;
}

/**
 * The repository root becomes enterable (0711) but not listable when another account must reach
 * its own directories below it, as for native WAL archiving; everything else is 0700/0600 and
 * belongs to that account.
 */
function writeLayout(repo: string, layout: PgbackrestLayout, conf: string, owner: { uid: number; gid: number } | undefined): void {
  mkdirSync(repo, { recursive: true, mode: 0o700 });
  if (owner) chmodSync(repo, 0o711);
  for (const dir of [layout.repoPath, layout.stateDir, layout.includeDir, layout.spoolPath, layout.logPath, layout.lockPath]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (owner) chownSync(dir, owner.uid, owner.gid);
  }
  writeFileAtomic(layout.confFile, conf, 0o600);
  if (owner) chownSync(layout.confFile, owner.uid, owner.gid);
}

/**
 * A pgBackRest repository fetched from a copy (the primary may be gone, and its generated conf
 * with it): a conf of its own in the fetched repository's state directory, pointing repo1-path at
 * the fetched sets and archive, so restore, archive-get, info and verify read the copy. No server
 * is asked anything: restores name their own --pg1-path; pg1-path here is a placeholder.
 */
export async function preparePgbackrestCopy(target: Target, repo: string, owner?: { uid: number; gid: number }): Promise<void> {
  const layout = pgbackrestLayout(repo);
  const cipher = cipherSourceOf(target) !== undefined;
  const conf = renderConf({
    stanza: target.name,
    layout,
    pg: { dataDir: join(layout.stateDir, 'no-server'), port: target.port, socketDir: layout.stateDir, user: target.user, database: target.dbname },
    processMax: target.processMax ?? DEFAULT_PROCESS_MAX,
    checkpoint: 'fast',
    cipher,
  });
  const noServer = join(layout.stateDir, 'no-server');
  writeLayout(repo, layout, conf, owner);
  // pgBackRest runs as the state directory's owner: it must read every fetched file.
  if (owner) chownTree(layout.repoPath, owner);
  await placeControlFile(await openPgbackrest({ ...target, repo }), noServer, owner);
}

/**
 * archive-get reads pg1-path's global/pg_control (version and system id) before it fetches a
 * segment; with the server out of reach, the newest set's own pg_control stands in for it,
 * taken out of the copy with repo-get (which decrypts) and decompressed by the set's compressor.
 */
async function placeControlFile(pb: Pgbackrest, noServer: string, owner?: { uid: number; gid: number }): Promise<void> {
  const info = await readStanzaInfo(pb);
  const newest = info?.backup.at(-1);
  if (!newest) throw invalid(`The copy of pgBackRest stanza "${pb.stanza}" holds no backup set; there is nothing to restore from it.`);
  mkdirSync(join(noServer, 'global'), { recursive: true, mode: 0o700 });
  const packed = join(noServer, 'global', 'pg_control.packed');
  const setDir = join(pb.layout.repoPath, 'backup', pb.stanza, newest.label, 'pg_data', 'global');
  const stored = readdirSync(setDir).find((n) => /^pg_control(\.(zst|gz|lz4|bz2))?$/.test(n));
  if (!stored) throw invalid(`The copy's pgBackRest set ${newest.label} has no global/pg_control; the copy is incomplete, so send it again with dbdrill copy.`);
  if (owner) chownTree(noServer, owner);
  await runPgbackrest(pb, 'repo-get', [], { positional: [join(setDir, stored)], stdout: { file: packed } });
  const ext = /\.(\w+)$/.exec(stored)?.[1];
  const control = join(noServer, 'global', 'pg_control');
  if (ext === undefined) renameSync(packed, control);
  else {
    const tool = await findTool(ext === 'zst' ? 'zstd' : ext === 'gz' ? 'gzip' : ext === 'lz4' ? 'lz4' : 'bzip2');
    await runTool({ tool, args: ['-d', '-c', packed], stdout: { file: control } });
    rmSync(packed, { force: true });
  }
  if (owner) chownTree(noServer, owner);
}

function chownTree(path: string, owner: { uid: number; gid: number }): void {
  chownSync(path, owner.uid, owner.gid);
  if (statSync(path).isDirectory()) for (const n of readdirSync(path)) chownTree(join(path, n), owner);
}
