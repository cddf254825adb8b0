import { TargetStore } from '../config/store.js';
import { invalid } from '../errors.js';
import { engineEntry, engineFor } from '../engines/registry.js';
import type { StreamSetup } from '../engines/contract.js';
import { runTool } from '../runner/run.js';

export interface StreamOptions {
  synchronous: boolean;
  /** Stops the stream (SIGTERM/SIGINT in the CLI): the receiver gets SIGINT and flushes. */
  signal: AbortSignal;
  log: (line: string) => void;
  /** How often completed files are moved into the archive (ms). */
  settleEveryMs?: number;
}

export interface StreamSummary {
  target: string;
  slot: string;
  synchronous: boolean;
  /** Times the receiver was started (1 when it never died). */
  starts: number;
  /** Files moved from the stream directory into the archive. */
  moved: number;
  /** Files the archive refused (left in the stream directory), with the sentence. */
  refused: { name: string; reason: string }[];
}

/** Backoff between restarts of a receiver that died: 1 s doubling to 30 s, back to 1 s after a minute of running. */
export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_MAX_MS = 30_000;
const STABLE_MS = 60_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * `dbdrill stream NAME`: the engine readies the server (slot; with synchronous, the synchronous
 * standby), then this runs the receiver in the foreground for a service manager, restarting it
 * with backoff whenever it ends, and moves each completed file into the archive every
 * settleEveryMs (which archive is the method's: setup.settle). Returns when the signal aborts, after a last move.
 */
export async function runStream(configDir: string, name: string, opts: StreamOptions): Promise<StreamSummary> {
  const target = new TargetStore(configDir).get(name);
  const engine = await engineFor(target);
  if (!engine.stream) throw invalid(`Target "${name}" is ${engineEntry(target.engine).label}, whose log dbdrill does not stream; archive it with its own archiving instead.`);
  const setup: StreamSetup = await engine.stream.prepare(target, { synchronous: opts.synchronous });
  for (const n of setup.notes) opts.log(`OK   ${n}`);
  opts.log(`streaming ${target.name} into ${setup.dir} with slot ${setup.slot}${setup.synchronous ? ' (synchronous)' : ''}; completed segments go into ${setup.archive}`);

  const summary: StreamSummary = { target: target.name, slot: setup.slot, synchronous: setup.synchronous, starts: 0, moved: 0, refused: [] };
  const reported = new Set<string>();
  const settle = async () => {
    const r = await setup.settle();
    summary.moved += r.moved.length;
    for (const m of r.moved) opts.log(`archived ${m}`);
    for (const f of r.refused) {
      if (reported.has(f.name)) continue;
      reported.add(f.name);
      summary.refused.push(f);
      opts.log(`REFUSED ${f.reason} (left in ${setup.dir})`);
    }
  };

  // Moving runs beside the receiver, never two at once.
  let settling: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    settling = settling.then(settle).catch((e: unknown) => opts.log(`WARN could not move streamed files: ${(e as Error).message}`));
  }, opts.settleEveryMs ?? 500);
  try {
    let backoff = BACKOFF_FIRST_MS;
    while (!opts.signal.aborted) {
      const started = Date.now();
      summary.starts++;
      try {
        await runTool({ ...setup.call, signal: opts.signal, killGraceMs: 5000 });
        if (opts.signal.aborted) break;
        opts.log('WARN pg_receivewal ended on its own');
      } catch (e) {
        if (opts.signal.aborted) break;
        opts.log(`WARN the receiver stopped: ${(e as Error).message}`);
      }
      if (Date.now() - started >= STABLE_MS) backoff = BACKOFF_FIRST_MS;
      opts.log(`restarting it in ${(backoff / 1000).toFixed(0)} s`);
      await sleep(backoff, opts.signal);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  } finally {
    clearInterval(timer);
    await settling;
    await settle().catch(() => {});
  }
  return summary;
}
