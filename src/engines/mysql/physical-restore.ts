import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DbdrillError, invalid } from '../../errors.js';
import { BackupFiles } from '../../repo/backup-files.js';
import type { Manifest } from '../../repo/manifest.js';
import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';
import type { EngineContext } from '../context.js';
import { watchGrowth } from '../growth.js';
import { forwardToolEvents } from '../tool-events.js';
import { BACKUP_CNF, CHECKPOINTS_FILES, isSealedStream, parseCheckpoints, PREPARED_TYPES, SEALED_STREAM, serverSettingsOf } from './backup-info.js';
import { majorMinor, versionAtLeast } from './dump-args.js';
import { verifyPhysical } from './verify.js';

/**
 * What a server needs to start on a mariadb-backup backup: the backup must be prepared (its
 * files consistent), the local mariadbd must read its InnoDB format (the backup's release series
 * or a newer one), and the source's page size and tablespace layout (backup-my.cnf) must be set.
 * Checked before anything is copied.
 */
export async function physicalRestoreSettings(m: Manifest, backupDir: string): Promise<Record<string, string>> {
  const prepared = verifyPhysical(m, backupDir);
  if (!prepared.ok) throw invalid(`Backup ${m.id} cannot be restored: ${prepared.detail}; run dbdrill verify ${m.target} --backup ${m.id} and restore another backup.`);
  await checkServerReads(m);
  // Encrypted: backup-my.cnf is inside the stream; unpackSealed reads it once unpacked.
  if (isSealedStream(m)) {
    BackupFiles.at(backupDir).needKey();
    return {};
  }
  const cnf = join(backupDir, 'base', BACKUP_CNF);
  return existsSync(cnf) ? serverSettingsOf(readFileSync(cnf, 'utf8')) : {};
}

/** The local mariadbd must read the InnoDB format of the backup's release series (or be newer). */
export async function checkServerReads(m: Manifest): Promise<void> {
  const server = await findTool(['mariadbd', 'mysqld']);
  if (!versionAtLeast(server.version, majorMinor(m.serverVersion))) {
    throw invalid(
      `Backup ${m.id} holds the data files of MariaDB ${m.serverVersion}, which ${server.name} ${server.version} on this host cannot open; restore it on a host with MariaDB ${majorMinor(m.serverVersion)} or newer.`,
    );
  }
}

/**
 * Copies a prepared backup into a data directory that does not exist yet, with
 * mariadb-backup --copy-back: the backup in the repository is only read (its checksums stay
 * valid, so --move-back is out), and --no-defaults keeps this host's my.cnf from sending InnoDB
 * files anywhere but the new directory.
 */
export async function copyBack(ctx: EngineContext, backupDir: string, dataDir: string): Promise<void> {
  const tool = await findTool(['mariadb-backup', 'mariabackup']);
  // --copy-back opens and copies the files itself, so there is no stream to hash on the way: each
  // recorded file is read once right before, and a damaged backup (named, marked corrupt) never
  // reaches the new data directory.
  await ctx.step('check backup files', () =>
    BackupFiles.at(backupDir).check((rel) => rel.startsWith('base/'), ctx.signal, `before copying anything into ${dataDir}`),
  );
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const stop = watchGrowth(ctx, 'copying', dataDir);
  try {
    await runTool({
      tool,
      args: ['--no-defaults', '--copy-back', `--target-dir=${join(backupDir, 'base')}`, `--datadir=${dataDir}`],
      signal: ctx.signal,
      onEvent: forwardToolEvents(ctx),
    });
  } finally {
    stop();
  }
}

/**
 * An encrypted backup into a data directory that does not exist yet: the checked ciphertext
 * through `age -d` into `mbstream -x` there (the restore destination is the only place its
 * plaintext ever lands), then mariadb-backup --prepare in place, as the backup itself does when
 * it is not encrypted. Returns the source's InnoDB settings from the unpacked backup-my.cnf.
 */
export async function unpackSealed(ctx: EngineContext, m: Manifest, backupDir: string, dataDir: string): Promise<Record<string, string>> {
  const files = BackupFiles.at(backupDir).needKey();
  const mbstream = await findTool('mbstream');
  const tool = await findTool(['mariadb-backup', 'mariabackup']);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const stop = watchGrowth(ctx, 'unpacking', dataDir);
  try {
    await ctx.step('decrypt and unpack', () =>
      files.read(SEALED_STREAM, ctx.signal, `while unpacking it into ${dataDir}`, (stream) =>
        runTool({ tool: mbstream, args: ['-x', '-C', dataDir], stdin: { stream }, signal: ctx.signal, onEvent: forwardToolEvents(ctx) }),
      ),
    );
  } finally {
    stop();
  }
  await ctx.step('prepare', () => runTool({ tool, args: ['--no-defaults', '--prepare', `--target-dir=${dataDir}`], signal: ctx.signal, onEvent: forwardToolEvents(ctx) }));
  const cp = CHECKPOINTS_FILES.map((f) => join(dataDir, f)).find((p) => existsSync(p));
  const type = cp ? parseCheckpoints(readFileSync(cp, 'utf8')).backup_type : undefined;
  if (!type || !PREPARED_TYPES.has(type)) {
    throw new DbdrillError('failed', `Backup ${m.id} was unpacked into ${dataDir} but mariadb-backup --prepare left it ${type ?? 'without a checkpoints file'}, not prepared; restore another backup (dbdrill catalog ${m.target}).`, { backup: m.id });
  }
  const cnf = join(dataDir, BACKUP_CNF);
  return existsSync(cnf) ? serverSettingsOf(readFileSync(cnf, 'utf8')) : {};
}
