import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { BinlogWalker } from '../../binlog/events.js';
import { encryptArgs } from '../../crypto/age-args.js';
import type { SealedFetch, SealedLogFetcher } from '../contract.js';
import type { ProbeResult } from '../probe-types.js';
import { runTool } from '../../runner/run.js';
import { findTool, type Tool } from '../../runner/tools.js';
import type { Target } from '../../config/target.js';
import type { EngineContext } from '../context.js';
import { fetchBinlogs, findBinlogTool } from './binlog-server.js';

/**
 * Fetches one closed binlog straight into `age -e`: mariadb-binlog --raw writes the file named
 * <result-file prefix><binlog name>, and that path is a FIFO here, read by dbdrill, which hashes
 * and walks the plain bytes (for the index: times, transactions, closed or not) on their way into
 * age. The plain binlog never exists as a file. If the tool fails before opening the FIFO, opening
 * it for writing once releases the reader (which then sees an empty file and the tool's error wins).
 */
export async function fetchSealedBinlog(ctx: EngineContext, target: Target, tool: Tool, name: string, incoming: string, recipients: readonly string[]): Promise<SealedFetch> {
  const fifoDir = mkdtempSync(join(incoming, '.fifo-'));
  const fifo = join(fifoDir, name);
  const path = join(incoming, name);
  try {
    await runTool({ tool: await findTool('mkfifo'), args: ['-m', '600', fifo], signal: ctx.signal });
    const hash = createHash('sha256');
    let bytes = 0;
    const walker = new BinlogWalker();
    const tap = new Transform({
      transform(chunk: Buffer, _e, done) {
        hash.update(chunk);
        bytes += chunk.length;
        walker.push(chunk);
        done(null, chunk);
      },
    });
    const source = createReadStream(fifo, { highWaterMark: 1 << 20 });
    let opened = false;
    source.once('open', () => (opened = true));
    source.once('error', (e) => tap.destroy(e));
    source.pipe(tap);
    const sealing = runTool({ tool: await findTool('age'), args: encryptArgs(recipients, path), stdin: { stream: tap }, signal: ctx.signal });
    sealing.catch(() => undefined);
    try {
      await fetchBinlogs(ctx, target, tool, [name], `${fifoDir}/`);
    } catch (e) {
      // The reader may not have reached open() yet when the tool failed: keep releasing until it has.
      for (let i = 0; i < 100 && !opened; i++) {
        release(fifo);
        await new Promise((r) => setTimeout(r, 20));
      }
      await sealing.catch(() => undefined);
      throw e;
    }
    await sealing;
    return { path, plain: { bytes, sha256: hash.digest('hex') }, scan: walker.result() };
  } catch (e) {
    rmSync(path, { force: true });
    throw e;
  } finally {
    rmSync(fifoDir, { recursive: true, force: true });
  }
}

/** Opens the FIFO for writing and closes it: a reader still waiting in open() then sees end of file. */
function release(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: no reader waits (it already saw the tool's end); ENOENT: already gone.
  }
}

/** binlogFetcher for an encrypted repository (archivePull.sealedFetcher): one file at a time through a FIFO into age. */
export async function sealedBinlogFetcher(probe: ProbeResult): Promise<SealedLogFetcher> {
  const tool = await findBinlogTool(probe.flavor === 'mariadb' ? 'mariadb' : 'mysql');
  return (ctx, target, name, dir, recipients) => fetchSealedBinlog(ctx, target, tool, name, dir, recipients);
}
