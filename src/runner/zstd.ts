import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { toolFailed, toolMissing } from './errors.js';
import { searchPath } from './path-lookup.js';

/**
 * The zstd CLI for the WAL archive. node:child_process rather than execa because wal-push and
 * wal-fetch run once per segment and execa alone costs about 150 ms of start-up (measured); the
 * data goes straight between zstd and a file descriptor, never through a JavaScript buffer.
 */
let cached: string | undefined;

function zstd(): string {
  cached ??= searchPath('zstd');
  if (!cached) throw toolMissing('zstd', 'zstd');
  return cached;
}

function check(r: SpawnSyncReturns<Buffer>): void {
  if (r.error) throw toolFailed('zstd', undefined, undefined, [r.error.message]);
  if (r.status !== 0) throw toolFailed('zstd', r.status ?? undefined, r.signal ?? undefined, r.stderr.toString('utf8').split('\n'));
}

/** Compresses `data` into the open file `fd` (zstd's frame carries a checksum of the content). */
export function zstdCompressInto(data: Uint8Array, fd: number): void {
  check(spawnSync(zstd(), ['-q', '-c'], { input: data, stdio: ['pipe', fd, 'pipe'] }));
}

/** Decompresses the file `src` into the open file `fd`; a corrupt frame fails its checksum. */
export function zstdDecompressInto(src: string, fd: number): void {
  check(spawnSync(zstd(), ['-d', '-q', '-c', '--', src], { stdio: ['ignore', fd, 'pipe'] }));
}

/** sha256 and size of the content of a .zst file, streamed: segments may be up to 1 GB. */
export function zstdContentSha256(src: string): Promise<{ sha256: string; bytes: number }> {
  return new Promise((done, fail) => {
    const child = spawn(zstd(), ['-d', '-q', '-c', '--', src], { stdio: ['ignore', 'pipe', 'pipe'] });
    const hash = createHash('sha256');
    let bytes = 0;
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', (e) => fail(toolFailed('zstd', undefined, undefined, [e.message])));
    child.on('close', (code, signal) => {
      if (code === 0) done({ sha256: hash.digest('hex'), bytes });
      else fail(toolFailed('zstd', code ?? undefined, signal ?? undefined, Buffer.concat(stderr).toString('utf8').split('\n')));
    });
  });
}
