import { DbdrillError } from '../errors.js';

export function toolMissing(tool: string, pkg: string): DbdrillError {
  return new DbdrillError(
    'tool-missing',
    `${tool} is not installed (looked in PATH and /usr/lib/postgresql/*/bin); install it with: apt-get install ${pkg}.`,
    { tool, package: pkg },
  );
}

export function toolTooOld(tool: string, toolVersion: string, serverVersion: string, pkg: string): DbdrillError {
  return new DbdrillError(
    'tool-too-old',
    `${tool} ${toolVersion} is older than the server (${serverVersion}) and cannot back it up safely; install it with: apt-get install ${pkg}.`,
    { tool, toolVersion, serverVersion, package: pkg },
  );
}

export function toolFailed(tool: string, exitCode: number | undefined, signal: string | undefined, lastLines: string[]): DbdrillError {
  const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
  const last = messages(lastLines).slice(-3).join(' | ');
  return new DbdrillError('tool-failed', `${tool} ${how}${last ? `: ${last}` : ''}.`, {
    tool,
    exitCode,
    signal,
    stderrTail: lastLines,
  });
}

export function aborted(tool: string): DbdrillError {
  return new DbdrillError('aborted', `${tool} was stopped because the run was cancelled.`, { tool });
}

/**
 * Lines as messages: an indented line continues the one before it (libpq's "server closed the
 * connection unexpectedly" is followed by two tab-indented lines of explanation), so the last
 * few messages keep their first, telling line.
 */
function messages(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line) && out.length > 0) out[out.length - 1] += ` ${line.trim()}`;
    else out.push(line.trim());
  }
  return out;
}
