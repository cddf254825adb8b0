import { statSync } from 'node:fs';
import type { Target } from '../../config/target.js';
import { Repository } from '../../repo/repository.js';
import { archiveCommand, blockedFor, cliEntry } from '../../wal/command.js';
import { prepareWalDir, walRoot } from '../../wal/layout.js';
import type { ArchivingPlan, ArchivingRequest } from '../contract.js';
import { connectPostgres } from './client.js';
import { probePostgres } from './probe.js';

function sqlString(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

/**
 * What it takes to archive a PostgreSQL target's WAL into its repository with wal-push, as
 * ALTER SYSTEM statements to show (and with apply, to run). wal_level and archive_mode need a
 * restart; archive_command and archive_timeout a reload.
 */
export async function pgEnableArchiving(target: Target, opts: ArchivingRequest, method?: { command: string }): Promise<ArchivingPlan> {
  const probe = await probePostgres(target);
  const repo = new Repository(target.repo);
  repo.ensure(target, probe.systemId);
  // Batching (a spool record answered by the shell) unless told not to: it is what keeps a busy
  // server's .ready backlog from growing (README "WAL that keeps up").
  // A method with a tool of its own (pgBackRest's archive-push) brings its command; set up with the target.
  const command = method?.command ?? archiveCommand(target.repo, { compress: opts.compress, ...(opts.batch === false ? {} : { batch: { systemId: probe.systemId } }) });
  const warnings: string[] = [];

  const client = await connectPostgres(target);
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'archive_mode', 'archive_command', 'archive_timeout', 'data_directory')`,
    );
    const cur = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    if (cur.archive_command === '(disabled)') {
      // With archive_mode off the setting reads "(disabled)"; the configured value is in the files.
      const f = await client.query<{ setting: string }>(`SELECT setting FROM pg_file_settings WHERE name = 'archive_command' AND applied ORDER BY seqno DESC LIMIT 1`);
      cur.archive_command = f.rows[0]?.setting ?? '';
    }
    const statements: string[] = [];
    let restartNeeded = false;
    if (cur.wal_level === 'minimal') {
      statements.push(`ALTER SYSTEM SET wal_level = 'replica'`);
      restartNeeded = true;
    }
    if (cur.archive_mode === 'off') {
      statements.push(`ALTER SYSTEM SET archive_mode = 'on'`);
      restartNeeded = true;
    }
    if (cur.archive_command !== command) statements.push(`ALTER SYSTEM SET archive_command = ${sqlString(command)}`);
    const timeout = opts.archiveTimeout ?? '60s';
    if (cur.archive_timeout === '0') statements.push(`ALTER SYSTEM SET archive_timeout = ${sqlString(timeout)}`);

    // The server's own user runs wal-push: on this host it must reach node, dbdrill and the repository.
    const local = ['127.0.0.1', 'localhost', '::1'].includes(target.host);
    if (method) {
      // The method's setup already made its directories for the server's user.
    } else if (local && cur.data_directory) {
      try {
        const owner = statSync(cur.data_directory);
        const wal = prepareWalDir(target.repo, process.getuid?.() === 0 && owner.uid !== 0 ? owner : undefined);
        for (const p of [process.execPath, cliEntry(), wal]) {
          const blocked = blockedFor(p, owner.uid, owner.gid);
          if (blocked) warnings.push(`the server's user (uid ${owner.uid}) cannot enter ${blocked}, so archive_command cannot run ${p}; install dbdrill and the repository where that user can reach them`);
        }
      } catch {
        warnings.push(`could not inspect ${cur.data_directory}; make sure the server's user can run ${cliEntry()} and write ${walRoot(target.repo)}`);
      }
    } else {
      warnings.push(`archive_command runs on the database host: install dbdrill there at ${cliEntry()} and make ${target.repo} reachable from it`);
    }

    let pendingRestart: string[] = [];
    if (opts.apply) {
      for (const s of statements) await client.query(s);
      await client.query('SELECT pg_reload_conf()');
      // The reload is asynchronous; give the postmaster a moment before reading pending_restart.
      await new Promise((r) => setTimeout(r, 300));
      const pr = await client.query<{ name: string }>(`SELECT name FROM pg_settings WHERE pending_restart`);
      pendingRestart = pr.rows.map((r) => r.name);
    }
    return { target: target.name, statements, restartNeeded, applied: opts.apply, pendingRestart, archiveCommand: command, warnings };
  } finally {
    await client.end().catch(() => {});
  }
}
