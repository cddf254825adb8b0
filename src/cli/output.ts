import { DbdrillError, explained, isDbdrillError } from '../errors.js';
import type { Job, JobEvent } from '../ops/job.js';
import { formatLsn } from '../pitr/wal-names.js';

/**
 * How a headless command talks: with --json exactly one JSON document on stdout and everything
 * else on stderr; without, readable lines. Errors get one sentence, never a stack trace, unless
 * the error is a bug (not a DbdrillError) and DBDRILL_DEBUG is set.
 */
export class Output {
  #lastProgress = 0;
  #lastProgressLine = '';

  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  /** The command's result: JSON document or the text the caller renders. */
  result(data: unknown, text: string | (() => string)): void {
    if (this.json) this.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else {
      const t = typeof text === 'function' ? text() : text;
      if (t) this.stdout.write(t.endsWith('\n') ? t : `${t}\n`);
    }
  }

  log(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  /** Follows a job's events on stderr, so stdout stays the result alone. */
  follow<R>(job: Job<R>): () => void {
    return job.on((e) => this.event(e));
  }

  event(e: JobEvent): void {
    switch (e.type) {
      case 'step':
        if (e.status === 'running') this.log(`… ${e.step}`);
        else if (e.status === 'done') this.log(`OK ${e.step}${e.detail ? `: ${e.detail}` : ''}`);
        else if (e.status === 'failed') this.log(`FAIL ${e.step}${e.detail ? `: ${e.detail}` : ''}`);
        else if (e.status === 'skipped') this.log(`-- ${e.step} skipped${e.detail ? `: ${e.detail}` : ''}`);
        break;
      case 'log':
        this.log(e.level === 'info' ? e.text : `${e.level.toUpperCase()} ${e.text}`);
        break;
      case 'progress': {
        const from = e.start ?? 0;
        const pct = e.total && e.total > from ? ` ${((100 * ((e.done ?? from) - from)) / (e.total - from)).toFixed(0)}%` : '';
        const lsns = e.unit === 'lsn' && e.done !== undefined && e.total ? ` at ${formatLsn(BigInt(e.done))} of ${formatLsn(BigInt(e.total))}` : '';
        const line = `   ${e.phase}${pct}${lsns}${e.etaSeconds !== undefined ? ` eta ${Math.round(e.etaSeconds)}s` : ''}`;
        // One progress line every 2 s at most, so logs of cron runs stay readable; a finished
        // phase is said at once, but once (pgBackRest's estimate reads 100% after many files).
        const now = Date.now();
        if (now - this.#lastProgress < 2000 && (e.done !== e.total || line === this.#lastProgressLine)) break;
        this.#lastProgress = now;
        this.#lastProgressLine = line;
        this.log(line);
        break;
      }
      case 'tool-line':
        if (process.env.DBDRILL_VERBOSE) this.log(`   ${e.tool}: ${e.text}`);
        break;
    }
  }

  /** Reports an error and returns the exit code the contract gives it. */
  error(raw: unknown): number {
    const e = explained(raw);
    if (isDbdrillError(e)) {
      if (this.json) this.stdout.write(`${JSON.stringify({ ok: false, error: errorJson(e) }, null, 2)}\n`);
      this.stderr.write(`dbdrill: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    if (this.json) {
      this.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'internal', message: err?.message ?? String(e) } })}\n`);
    }
    this.stderr.write(`dbdrill: internal error: ${err?.message ?? String(e)} (this is a bug; rerun with DBDRILL_DEBUG=1 and report it)\n`);
    if (process.env.DBDRILL_DEBUG && err?.stack) this.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

function errorJson(e: DbdrillError) {
  return { code: e.code, message: e.message, ...(e.detail ?? {}) };
}
