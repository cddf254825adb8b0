import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DbdrillError, invalid } from '../../../errors.js';
import { commandLine, isPidAlive } from '../../../runner/process.js';
import type { PgbackrestLayout } from './layout.js';

/** pgBackRest's "ERROR: [050]: message" with its HINT lines and the WARN lines before it. */
export interface PgbackrestErrorText {
  code: number;
  message: string;
  hints: string[];
  /** Continuation lines that are not hints (nested errors, retries). */
  more: string[];
  warnings: string[];
}

/** Reads pgBackRest's error report from its stderr (log lines may carry a timestamp and process prefix). */
export function parseErrorText(lines: string[]): PgbackrestErrorText | undefined {
  let found: PgbackrestErrorText | undefined;
  const warnings: string[] = [];
  for (const raw of lines) {
    const line = raw.replace(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} P\d+\s+/, '');
    const e = /^ERROR: \[(\d{3})\]: (.*)$/.exec(line);
    if (e) {
      found = { code: Number(e[1]), message: e[2]!.trim(), hints: [], more: [], warnings: [...warnings] };
      continue;
    }
    const w = /^WARN: (.*)$/.exec(line);
    if (w) {
      warnings.push(w[1]!.trim());
      continue;
    }
    if (found && /^\s+\S/.test(line)) {
      const t = line.trim();
      const h = /^HINT: (.*)$/.exec(t);
      if (h) found.hints.push(h[1]!);
      else found.more.push(t);
    }
  }
  return found;
}

/** Who holds a pgBackRest lock file: it holds {"execId","pid"} of the process that took it. */
export function lockHolder(file: string): { pid: number; command?: string } | undefined {
  try {
    const pid = Number((JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return { pid, ...(isPidAlive(pid) ? { command: commandLine(pid) } : {}) };
  } catch {
    return undefined;
  }
}

export interface FailureContext {
  stanza: string;
  layout: PgbackrestLayout;
  /** Set when the repository is encrypted (the pass itself is never put into a sentence). */
  cipherPass?: string;
}

/**
 * An encrypted repository read with another pass: pgBackRest decrypts its info files into
 * garbage and reports them as unreadable ("key/value found outside of section"), not as a wrong
 * pass. Read from its error text or from info's JSON status message.
 */
export function isWrongCipherPass(ctx: Pick<FailureContext, 'cipherPass'>, text: string): boolean {
  return ctx.cipherPass !== undefined && /unable to load info file/.test(text) && /FormatError|CryptoError|cipher/.test(text);
}

export function wrongCipherPass(ctx: FailureContext, detail: Record<string, unknown> = {}): DbdrillError {
  return invalid(
    `pgBackRest cannot decrypt the repository of stanza "${ctx.stanza}" in ${ctx.layout.repoPath}: the target's cipher pass is not the one the repository was encrypted with; give the target the right pass (its cipher pass file or variable).`,
    detail,
  );
}

/**
 * One sentence for a failed pgBackRest command, or undefined to keep the generic one (tool,
 * exit code, last messages). Known causes get what to do about them.
 */
export function explainFailure(ctx: FailureContext, command: string, stderr: string[], exitCode?: number): DbdrillError | undefined {
  const err = parseErrorText(stderr);
  if (!err) return undefined;
  const detail = { tool: 'pgbackrest', command, pgbackrestError: err.code, exitCode, stderrTail: stderr };
  if (isWrongCipherPass(ctx, [err.message, ...err.more].join('\n'))) return wrongCipherPass(ctx, detail);
  switch (err.code) {
    case 50: {
      const file = /lock on file '([^']+)'/.exec(err.message)?.[1] ?? join(ctx.layout.lockPath, `${ctx.stanza}-backup.lock`);
      const kind = /-(\w+)\.lock$/.exec(basename(file))?.[1] ?? 'a';
      const holder = lockHolder(file);
      const who = holder
        ? `process ${holder.pid}${holder.command ? ` (${holder.command})` : ''}`
        : 'another pgBackRest process';
      return new DbdrillError('failed', `pgBackRest ${command} of stanza "${ctx.stanza}" did not start: ${who} holds its ${kind} lock (${file}); wait for it to finish, or stop it, and run this again.`, { ...detail, lockFile: file, holder });
    }
    case 55:
      return invalid(`The pgBackRest stanza "${ctx.stanza}" does not exist in ${ctx.layout.repoPath} yet; create it (stanza-create) before pgBackRest ${command}.`, detail);
    case 51: {
      const m = /system-id (\d+) do not match stanza version \S+, system-id (\d+)/.exec(err.message);
      if (m) return otherSystem(ctx, m[2]!, m[1]!, detail);
      break;
    }
    case 27: {
      // "no database found": the WARN line before it says why libpq could not connect.
      const warning = err.warnings.find((w) => /unable to connect/.test(w));
      const why = warning && (/ failed: (?:FATAL:\s+)?(.*)$/.exec(warning)?.[1] ?? /'': (.*)$/.exec(warning)?.[1]);
      const auth = why && /password authentication failed|no password supplied|authentication failed|role .* does not exist/.test(why);
      return new DbdrillError(
        auth ? 'auth-failed' : 'unreachable',
        `pgBackRest could not connect to the PostgreSQL server of stanza "${ctx.stanza}" through its Unix socket${why ? `: ${why.replace(/\s+/g, ' ').replace(/\.$/, '')}` : ''}; ${auth ? "check the target's user and password" : 'check that the server runs and pg1-socket-path/pg1-port in the generated configuration match it'}.`,
        detail,
      );
    }
    case 26: {
      const m = /error restoring '([^']+)': actual checksum '(\w+)' does not match expected checksum '(\w+)'/.exec(err.message);
      if (m) {
        return new DbdrillError('failed', `pgBackRest stopped the restore: the repository's copy of ${m[1]} does not match its checksum (expected ${m[3]}, read ${m[2]}), so the repository is damaged; run verify and restore from another backup.`, { ...detail, file: m[1] });
      }
      break;
    }
    case 82: {
      const seg = /WAL segment (\w+)/.exec(err.message)?.[1];
      return new DbdrillError('failed', `pgBackRest ${command} waited in vain for WAL${seg ? ` segment ${seg}` : ''} to reach the repository: archive_command does not push to stanza "${ctx.stanza}" or is failing; set it to pgBackRest's archive-push for this target and look at the server log.`, detail);
    }
    case 87:
      return invalid(`The server of stanza "${ctx.stanza}" has archive_mode off, and pgBackRest needs WAL archiving; turn archiving on (archive_mode needs a restart).`, detail);
  }
  // Any other failure while restoring one file (a damaged file that no longer decompresses):
  // name the file, whatever the error's number.
  const restoring = /error restoring '([^']+)': (.*)$/.exec(err.message);
  if (restoring) {
    return new DbdrillError('failed', `pgBackRest stopped the restore at ${restoring[1]}: ${restoring[2]!.replace(/\.$/, '')}; the repository copy of that file is damaged or unreadable, so run verify and restore from another backup.`, { ...detail, file: restoring[1] });
  }
  const hint = err.hints[0] ? ` (${err.hints[0].replace(/\?$/, '')})` : '';
  return new DbdrillError('tool-failed', `pgbackrest ${command} failed with error ${err.code}: ${err.message.replace(/:$/, '')}${hint}.`, detail);
}

/** The stanza was made for another cluster: both ids are named, so the operator sees which is which. */
export function otherSystem(ctx: FailureContext, stanzaSystemId: string, serverSystemId: string, detail: Record<string, unknown> = {}): DbdrillError {
  return invalid(
    `The pgBackRest stanza "${ctx.stanza}" in ${ctx.layout.repoPath} belongs to another cluster (system id ${stanzaSystemId}), not to this target's server (system id ${serverSystemId}); give the target a repository of its own, or remove that stanza if its cluster is gone.`,
    { ...detail, stanzaSystemId, serverSystemId },
  );
}
