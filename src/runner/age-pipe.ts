import { toolMissing } from './errors.js';
import { searchPath } from './path-lookup.js';
import { childPipe, type ZstdPipe } from './zstd.js';

let cached: string | undefined;

/**
 * age between the caller and `onOutput`, for the WAL archive (wal-push / wal-fetch run once per
 * segment and avoid execa's start-up, as zstd does). Only public keys or an identity's path go
 * on argv, never key material.
 */
export function agePipe(args: string[], onOutput: (chunk: Buffer) => void): ZstdPipe {
  cached ??= searchPath('age');
  if (!cached) throw toolMissing('age', 'age');
  return childPipe('age', cached, args, onOutput);
}
