import { join } from 'node:path';
import { BackupFiles } from '../../repo/backup-files.js';
import { readDumpEnds } from './dump-head.js';
import { DumpScanner, LineSplitter, scanDump, type DumpScan } from './dump-sections.js';
import { DUMP_FILE } from './logical-backup.js';
import { StreamEnds } from './stream-ends.js';

/**
 * A dump's head and tail and (optionally) its sections, read from the file, or — when the backup
 * is encrypted — from one checked, decrypted pass through age that keeps only the ends in memory.
 */
export async function readDump(dir: string, signal: AbortSignal, opts: { scan?: { schema?: string } } = {}): Promise<{ head: string; tail: string; scan?: DumpScan }> {
  const files = BackupFiles.at(dir);
  if (!files.encrypted) {
    const ends = await readDumpEnds(join(dir, DUMP_FILE));
    return { head: ends.head, tail: ends.tail, ...(opts.scan ? { scan: await scanDump(join(dir, DUMP_FILE), opts.scan.schema, signal) } : {}) };
  }
  files.needKey();
  const ends = new StreamEnds();
  const scanner = opts.scan ? new DumpScanner(opts.scan.schema) : undefined;
  const lines = scanner ? new LineSplitter(scanner) : undefined;
  await files.read(DUMP_FILE, signal, 'while reading it', async (stream) => {
    for await (const chunk of stream) {
      ends.push(chunk as Buffer);
      lines?.push(chunk as Buffer);
    }
    lines?.end();
  });
  return { head: ends.head, tail: ends.tail, ...(scanner ? { scan: scanner.result() } : {}) };
}
