import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { repositoryIdentity } from '../../crypto/identity.js';
import { BackupFiles } from '../../repo/backup-files.js';
import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';
import type { Manifest } from '../../repo/manifest.js';
import type { EngineContext } from '../context.js';
import { forwardToolEvents } from '../tool-events.js';
import { parseToc } from './toc.js';

export interface CheckOutcome {
  method: string;
  ok: boolean;
  detail: string;
}

/**
 * An encrypted backup read without the identity: its stored bytes were checked against their
 * sha256 (which catches any damage at rest), but the tool's own check needs the plain content.
 */
function sealedOnly(method: string): CheckOutcome {
  return { method, ok: true, detail: `encrypted with age: the ciphertext matches its sha256; give --identity FILE to also run ${method} on the decrypted backup` };
}

function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}

/**
 * pg_verifybackup checks a base backup against its own manifest and parses the WAL it needs.
 * PostgreSQL 15's pg_verifybackup reads plain directories only, so the tar files are unpacked into
 * a scratch directory first (and removed after).
 */
export async function verifyBaseBackup(ctx: EngineContext, m: Manifest, dir: string): Promise<CheckOutcome> {
  const major = majorOf(m.serverVersion);
  const verify = await findTool('pg_verifybackup', { serverMajor: major, serverVersion: m.serverVersion });
  const tar = await findTool('tar');
  const files = BackupFiles.at(dir);
  if (files.encrypted && !repositoryIdentity()) return sealedOnly('pg_verifybackup');
  const scratch = mkdtempSync(join(tmpdir(), 'dbdrill-verify-'));
  try {
    const base = join(dir, 'base');
    let manifestPath = join(base, 'backup_manifest');
    if (files.encrypted) {
      // One tar holding pg_wal/ and backup_manifest, unpacked from the decrypted stream.
      await files.read('base/base.tar', ctx.signal, 'while verifying it', (stream) => runTool({ tool: tar, args: ['-xf', '-', '-C', scratch], stdin: { stream }, signal: ctx.signal }));
      manifestPath = join(scratch, 'backup_manifest');
    } else {
      await runTool({ tool: tar, args: ['-xf', join(base, 'base.tar'), '-C', scratch], signal: ctx.signal });
      mkdirSync(join(scratch, 'pg_wal'), { recursive: true });
      await runTool({ tool: tar, args: ['-xf', join(base, 'pg_wal.tar'), '-C', join(scratch, 'pg_wal')], signal: ctx.signal });
    }
    const r = await runTool({
      tool: verify,
      args: ['--manifest-path', manifestPath, scratch],
      signal: ctx.signal,
      okExitCodes: [0, 1],
      onEvent: forwardToolEvents(ctx),
    });
    const said = [...r.stderrTail, ...r.stdoutTail].filter(Boolean);
    return r.exitCode === 0
      ? { method: 'pg_verifybackup', ok: true, detail: said.at(-1) ?? 'backup successfully verified' }
      : { method: 'pg_verifybackup', ok: false, detail: said.slice(-3).join('; ') };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** pg_restore --list must read the whole table of contents and find data for every table counted at backup time. */
export async function verifyDumpToc(ctx: EngineContext, m: Manifest, dumpPath: string): Promise<CheckOutcome> {
  const tool = await findTool('pg_restore', { serverMajor: majorOf(m.serverVersion), serverVersion: m.serverVersion });
  const files = BackupFiles.at(dirname(dumpPath));
  if (files.encrypted && !repositoryIdentity()) return sealedOnly('pg_restore --list');
  const r = files.encrypted
    ? await files.read(basename(dumpPath), ctx.signal, 'while verifying it', (stream) => runTool({ tool, args: ['--list'], stdin: { stream }, capture: true, signal: ctx.signal, okExitCodes: [0, 1] }))
    : await runTool({ tool, args: ['--list', dumpPath], capture: true, signal: ctx.signal, okExitCodes: [0, 1] });
  if (r.exitCode !== 0) {
    return { method: 'pg_restore --list', ok: false, detail: r.stderrTail.slice(-2).join('; ') || `exit code ${r.exitCode}` };
  }
  const { entries, declared } = parseToc(r.stdout);
  const withData = new Set(entries.filter((e) => e.type === 'TABLE DATA').map((e) => `${e.schema}.${e.name}`));
  const missing = (m.tables ?? []).map((t) => t.table).filter((t) => !withData.has(t));
  if (missing.length > 0) {
    return { method: 'pg_restore --list', ok: false, detail: `no data in the dump for ${missing.join(', ')}` };
  }
  return { method: 'pg_restore --list', ok: true, detail: `${declared ?? entries.length} entries, data for ${withData.size} tables` };
}
