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
