import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';

// "pg_waldump: error: error in WAL record at 0/4F0A3D8: incorrect resource manager data checksum in record at 0/4F0A3D8"
const CRC = /incorrect resource manager data checksum in record at ([0-9A-F]+\/[0-9A-F]+)/;

/**
 * Reads every WAL record of the plain segments `first` … `last` in `dir` with pg_waldump (quiet:
 * only errors) and returns the LSN of the first record whose CRC fails, or undefined. A record
 * that fails its CRC was damaged before the segment was archived (the archive's own checksums
 * then agree with the damage), and PostgreSQL's recovery would end there as if the WAL ended.
 * Other errors (the WAL ends, a record goes on into a segment not given) are not damage.
 */
export async function firstBadRecord(dir: string, first: string, last: string, serverMajor = 15, signal?: AbortSignal): Promise<string | undefined> {
  const tool = await findTool('pg_waldump', { serverMajor });
  const r = await runTool({ tool, args: ['--path', dir, '--quiet', first, last], okExitCodes: [0, 1], ...(signal ? { signal } : {}) });
  for (const line of r.stderrTail) {
    const m = CRC.exec(line);
    if (m) return m[1];
  }
  return undefined;
}
