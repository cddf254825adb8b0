import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { toolFailed, toolMissing } from './errors.js';
import { searchPath } from './path-lookup.js';

/**
 * The zstd CLI for the WAL archive. node:child_process rather than execa because wal-push and
 * wal-fetch run once per segment and execa alone costs about 150 ms of start-up (measured). The
 * caller hashes what goes in and what comes out in the same pass: whole buffers for files that
 * fit in memory (zstdSync), a pipe for segments of up to 1 GB (zstdPipe).
 */
let cached: string | undefined;

function zstd(): string {
  cached ??= searchPath('zstd');
  if (!cached) throw toolMissing('zstd', 'zstd');
  return cached;
}

function stderrLines(chunks: Buffer[]): string[] {
  return Buffer.concat(chunks).toString('utf8').split('\n');
}

// Level 1: on WAL it compresses about as well as the default 3 (measured on segments of inserts:
// 1.18 MB against 1.23 MB of 16 MB) in about 60% of the time, and archiving must keep up.
const ARGS = { compress: ['-1', '-q', '-c'], decompress: ['-d', '-q', '-c'] } as const;

export interface ZstdPipe {
  /** Feeds input; resolves when zstd can take more (backpressure), rejects when zstd failed. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the input; resolves once zstd exited 0 and every output chunk was handed to onOutput. */
  end(): Promise<void>;
  /** Stops zstd (the caller gave up, e.g. on a checksum mismatch). */
  kill(): void;
}

/**
 * zstd compressing or decompressing between the caller and `onOutput`. The CLI writes a content
 * checksum into every frame and checks it when decompressing, so a damaged frame fails here. An
 * exception from onOutput (a full disk) stops zstd and is what end() rejects with.
 */
export function zstdPipe(mode: 'compress' | 'decompress', onOutput: (chunk: Buffer) => void): ZstdPipe {
  return childPipe('zstd', zstd(), [...ARGS[mode]], onOutput);
}

/**
 * Any filter program between the caller and `onOutput` (zstd, and age for an encrypted archive),
 * with the same backpressure and failure rules as zstdPipe; `name` is how failures call it.
 */
export function childPipe(name: string, path: string, args: string[], onOutput: (chunk: Buffer) => void, env?: NodeJS.ProcessEnv): ZstdPipe {
  const child = spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  const stderr: Buffer[] = [];
  let failure: unknown;
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(toolFailed(name, undefined, undefined, [e.message])));
    child.on('close', (code, signal) => {
      if (failure !== undefined) reject(failure);
      else if (code === 0) resolve();
      else reject(toolFailed(name, code ?? undefined, signal ?? undefined, stderrLines(stderr)));
    });
  });
  // Reported through write()/end(); a caller that gave up early must not crash on it.
  exited.catch(() => undefined);
  child.stdout.on('data', (c: Buffer) => {
    if (failure !== undefined) return;
    try {
      onOutput(c);
    } catch (e) {
      failure = e;
      child.kill('SIGKILL');
    }
  });
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  // EPIPE when zstd stopped reading (a corrupt frame): its exit status says why.
  child.stdin.on('error', () => undefined);
  return {
    async write(chunk) {
      if (child.stdin.write(chunk)) return;
      // Not once(): it rejects on EPIPE, and zstd's own exit says better why it stopped reading.
      let resume!: () => void;
      const ready = new Promise<void>((r) => (resume = r));
      child.stdin.once('drain', resume).once('close', resume);
      try {
        await Promise.race([ready, exited]);
      } finally {
        child.stdin.off('drain', resume).off('close', resume);
      }
    },
    async end() {
      child.stdin.end();
      await exited;
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}

function check(r: SpawnSyncReturns<Buffer>): Buffer {
  // EPIPE: zstd stopped reading a corrupt frame and exited; its status and stderr say why.
  const epipe = (r.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE' && (r.status !== null || r.signal !== null);
  if (r.error && !epipe) throw toolFailed('zstd', undefined, undefined, [r.error.message]);
  if (epipe && r.status === 0) throw toolFailed('zstd', undefined, undefined, ['it stopped reading its input before the end']);
  if (r.status !== 0) throw toolFailed('zstd', r.status ?? undefined, r.signal ?? undefined, r.stderr.toString('utf8').split('\n'));
  return r.stdout;
}

/**
 * Compresses or decompresses a buffer in one call straight into the open file `fd`, at its
 * current offset: for files that fit in memory (a 16 MB segment) this is much cheaper than
 * passing the output through JavaScript.
 */
export function zstdIntoFd(mode: 'compress' | 'decompress', input: Uint8Array, fd: number): void {
  check(spawnSync(zstd(), [...ARGS[mode]], { input, stdio: ['pipe', fd, 'pipe'] }));
}

/**
 * Compresses the open file `input` (read by zstd itself from offset 0 of the shared descriptor:
 * the caller's own reads must be positional) straight into `fd`, without blocking the event
 * loop. Nothing passes through this process: fed through a pipe 64 KB at a time, a 16 MB
 * segment cost as much in handovers between the two processes as zstd's own work.
 */
export function zstdFileIntoFd(input: number, fd: number): Promise<void> {
  const child = spawn(zstd(), [...ARGS.compress], { stdio: [input, fd, 'pipe'] });
  const stderr: Buffer[] = [];
  // With stdin and stdout file descriptors the typings cannot tell stderr is a pipe; it is.
  child.stderr!.on('data', (c: Buffer) => stderr.push(c));
  return new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(toolFailed('zstd', undefined, undefined, [e.message])));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(toolFailed('zstd', code ?? undefined, signal ?? undefined, stderrLines(stderr)));
    });
  });
}

/** The same into a buffer, for small files; output beyond maxOutput fails. */
export function zstdSync(mode: 'compress' | 'decompress', input: Uint8Array, maxOutput: number): Buffer {
  return check(spawnSync(zstd(), [...ARGS[mode]], { input, maxBuffer: maxOutput }));
}
