import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalid } from '../../errors.js';
import { BackupFiles } from '../../repo/backup-files.js';
import type { Manifest } from '../../repo/manifest.js';
import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';
import type { EngineContext } from '../context.js';
import { watchGrowth } from '../growth.js';
import { forwardToolEvents } from '../tool-events.js';
import { BACKUP_CNF, serverSettingsOf } from './backup-info.js';
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
