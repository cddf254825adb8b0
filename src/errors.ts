import { existsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Errors that dbdrill expects and explains. Each carries one sentence for the operator (what is
 * wrong and how to fix it) and the exit code the command contract assigns: 2 for bad usage or
 * bad input, 1 for a run that failed. Anything that is not a DbdrillError is a bug and may show a
 * stack trace; these never do.
 */
export type ErrorCode =
  | 'usage'
  | 'invalid-input'
  | 'unknown-target'
  | 'duplicate-target'
  | 'tool-missing'
  | 'tool-too-old'
  | 'tool-failed'
  | 'unreachable'
  | 'auth-failed'
  | 'aborted'
  | 'sandbox'
  /** The file system refused: permission, read-only, a file where a directory belongs, full. */
  | 'filesystem'
  | 'failed';

const EXIT_BAD_INPUT = 2;
const EXIT_FAILED = 1;

const BAD_INPUT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'usage',
  'invalid-input',
  'unknown-target',
  'duplicate-target',
  'tool-missing',
  'tool-too-old',
  'unreachable',
  'auth-failed',
]);

export class DbdrillError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** Extra facts for --json output; never secrets. */
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = 'DbdrillError';
    this.code = code;
    this.exitCode = BAD_INPUT.has(code) ? EXIT_BAD_INPUT : EXIT_FAILED;
    this.detail = detail;
  }
}

export function isDbdrillError(e: unknown): e is DbdrillError {
  return e instanceof DbdrillError;
}

export function usage(message: string): DbdrillError {
  return new DbdrillError('usage', message);
}

export function invalid(message: string, detail?: Record<string, unknown>): DbdrillError {
  return new DbdrillError('invalid-input', message, detail);
}

/** What the operation was doing, in words, from the system call Node names. */
const DOING: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the directory',
  mkdtemp: 'create a directory in',
  rmdir: 'remove the directory',
  rm: 'remove',
  unlink: 'remove',
  rename: 'rename',
  copyfile: 'copy',
  link: 'link',
  symlink: 'link',
  scandir: 'list',
  opendir: 'list',
  stat: 'inspect',
  lstat: 'inspect',
  access: 'access',
  chmod: 'change the mode of',
  chown: 'change the owner of',
  fsync: 'flush',
  utime: 'touch',
};

function whoAmI(): string {
  const uid = process.getuid?.();
  return uid === undefined ? 'dbdrill' : uid === 0 ? 'dbdrill (running as root)' : `dbdrill (running as uid ${uid})`;
}

/**
 * The one place where an error the file system raised (a repository on a read-only disk, a path
 * that is a file, a directory another user owns) becomes one sentence for the operator: the
 * path, what dbdrill tried to do there and what to fix. Anything else is left alone (undefined):
 * it is a bug and must say so.
 */
export function explainSystemError(e: unknown): DbdrillError | undefined {
  if (isDbdrillError(e) || typeof e !== 'object' || e === null) return undefined;
  const err = e as NodeJS.ErrnoException & { dest?: string };
  if (typeof err.code !== 'string' || typeof err.path !== 'string') return undefined;
  const path = err.path;
  const doing = DOING[err.syscall ?? ''] ?? err.syscall ?? 'use';
  const detail = { path, errno: err.code, ...(err.syscall ? { syscall: err.syscall } : {}) };
  const say = (message: string) => new DbdrillError('filesystem', message, detail);
  switch (err.code) {
    case 'EACCES':
    case 'EPERM': {
      // Opening a file that is not there is creating it (often a temp name): the directory refuses.
      const what = err.syscall === 'open' && !existsSync(path) ? `create files in ${dirname(path)}` : `${doing} ${path}`;
      return say(`Permission denied: ${whoAmI()} cannot ${what}; give that user access to it and the directories above it, or run dbdrill as a user that has it.`);
    }
    case 'EROFS':
      return say(`${path} is on a read-only file system, so dbdrill cannot ${doing} it; remount it read-write or point dbdrill at a writable directory.`);
    case 'ENOTDIR':
      return say(`${path} cannot be used: a part of that path is a file, not a directory; move the file away or fix the path in the target's settings.`);
    case 'EISDIR':
      return say(`${path} is a directory where dbdrill expected a file; move it away or fix the path.`);
    case 'ENOSPC':
    case 'EDQUOT':
      return say(`No space left on device for ${path} (${err.code === 'EDQUOT' ? 'disk quota exceeded' : 'the disk is full'}); free space there and run again.`);
    case 'ENAMETOOLONG':
      return say(`The path ${path} is too long for the file system; choose a shorter one.`);
    case 'ELOOP':
      return say(`${path} leads through a loop of symbolic links; fix the links or give the real path.`);
    case 'ENOENT':
      return say(`${path} does not exist (dbdrill tried to ${doing} it); check that the path is right and the disk is mounted.`);
    case 'EEXIST':
      return say(`${path} already exists and dbdrill will not write over it; move it away or choose another path.`);
    default:
      return undefined;
  }
}

/** The error as one sentence when it can be explained; the error itself otherwise. */
export function explained(e: unknown): unknown {
  return explainSystemError(e) ?? e;
}
