import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../repo/atomic.js';
import type { MysqlSample } from './mysql-sample.js';
import type { PgSample } from './pg-sample.js';

/**
 * The samples of earlier `dbdrill health NAME` runs, kept per target in the config directory
 * (state/NAME/health-samples.json; not in the repository, which other hosts share and which may be
 * the thing that is broken). A run from cron every minute sees what the previous run saw: that the
 * archiver's pid changed, that failed_count rose, how fast WAL is written. Bounded in count and
 * age, written atomically; a missing, old-format or damaged file is an empty history, never an
 * error (health must answer whatever state its state is in).
 */
export type StoredSeries = { engine: 'postgres'; samples: PgSample[] } | { engine: 'mysql'; samples: MysqlSample[] };

const VERSION = 1;
export const HISTORY_MAX_SAMPLES = 40;
export const HISTORY_MAX_AGE_MS = 15 * 60_000;

export function sampleHistoryFile(configDir: string, target: string): string {
  return join(configDir, 'state', target, 'health-samples.json');
}

function fresh<T extends { at: string }>(samples: readonly T[], now: number): T[] {
  return samples.filter((s) => now - Date.parse(s.at) <= HISTORY_MAX_AGE_MS && Date.parse(s.at) <= now + 60_000).slice(-HISTORY_MAX_SAMPLES);
}

export function loadSampleHistory(configDir: string, target: string, engine: StoredSeries['engine'], now = Date.now()): StoredSeries {
  const empty = { engine, samples: [] } as StoredSeries;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(sampleHistoryFile(configDir, target), 'utf8'));
  } catch {
    return empty;
  }
  const d = doc as { version?: unknown; engine?: unknown; samples?: unknown };
  if (d?.version !== VERSION || d.engine !== engine || !Array.isArray(d.samples)) return empty;
  const samples = d.samples.filter(
    (s): s is { at: string; systemId: string } =>
      typeof s === 'object' && s !== null && typeof (s as { at?: unknown }).at === 'string' && !Number.isNaN(Date.parse((s as { at: string }).at)) && typeof (s as { systemId?: unknown }).systemId === 'string',
  );
  return { engine, samples: fresh(samples, now) } as StoredSeries;
}

/**
 * What derivation needs of archive_command: whether one is set. The command itself may carry a
 * credential an administrator put there, and has no business in another file.
 */
function redactCommand(command: string): string {
  return command === '' || command === '(disabled)' ? command : '(set)';
}

/** Saves the newest samples; returns the error's sentence when the file cannot be written. */
export function saveSampleHistory(configDir: string, target: string, series: StoredSeries, now = Date.now()): string | undefined {
  // binlog-sync's run records travel with the newest MySQL sample only; older copies are noise.
  const samples =
    series.engine === 'mysql'
      ? fresh(series.samples, now).map((s, i, all) => (i === all.length - 1 ? s : { ...s, sync: undefined }))
      : fresh(series.samples, now).map((s) => ({ ...s, archiveCommand: redactCommand(s.archiveCommand) }));
  try {
    writeFileAtomic(sampleHistoryFile(configDir, target), `${JSON.stringify({ version: VERSION, engine: series.engine, samples })}\n`);
    return undefined;
  } catch (e) {
    return `${sampleHistoryFile(configDir, target)} cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}

/**
 * The stored samples a sampler of `engine` goes on from: the newest `size` of `seed` when the seed
 * is a series of that engine, else none (a target removed and added again with the other engine
 * under the same name must not derive from the old server's samples).
 */
export function continuedSeries<E extends StoredSeries['engine']>(engine: E, seed: StoredSeries | undefined, size: number): Extract<StoredSeries, { engine: E }> {
  const samples = seed?.engine === engine ? seed.samples.slice(-size) : [];
  return { engine, samples } as Extract<StoredSeries, { engine: E }>;
}
