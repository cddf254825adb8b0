import type { Target } from '../../config/target.js';
import { derivePgArchive } from '../../health/pg-derive.js';
import type { PgSample } from '../../health/pg-sample.js';
import { postgresSource } from '../../health/sources.js';
import type { EngineHealthOptions, EngineHealthSampler } from '../contract.js';
import { continuedSeries } from '../../health/sample-history.js';
import { deriveSlots } from '../../health/pg-slots.js';
import { streamSlotName } from './stream-names.js';

/** PostgreSQL's health: the archiver's statistics sampled over time, derived into archiving checks. */
export function pgHealthSampler(target: Target, o: EngineHealthOptions): EngineHealthSampler {
  const src = postgresSource(target, o.timeoutMs);
  const series: PgSample[] = continuedSeries('postgres', o.seed, o.size).samples;
  return {
    async sample() {
      const s = await src.sample();
      return {
        derive() {
          series.push(s);
          if (series.length > o.size) series.splice(0, series.length - o.size);
          const slots = deriveSlots(series, streamSlotName(target.name), target.name, s.walDisk ?? null);
          // While the stream runs, what the repository lacks is what it has not flushed, not the open segment.
          const d = derivePgArchive(series, o.thresholds, { ...(o.rpoSeconds === undefined ? {} : { rpoSeconds: o.rpoSeconds }), ...(slots.rpo ? { rpo: slots.rpo } : {}) });
          if (slots.stream) d.view.stream = slots.stream;
          const n = s.serverVersionNum;
          const version = `${Math.floor(n / 10000)}.${n % 10000}`;
          return {
            server: { reachable: true, version, systemId: s.systemId },
            checks: [{ name: 'server', status: 'OK', reason: `PostgreSQL ${version} at ${target.host}:${target.port} answers.` }, ...d.checks, ...slots.checks],
            archive: d.view,
          };
        },
      };
    },
    series: () => ({ engine: 'postgres', samples: [...series] }),
    close: () => src.close(),
  };
}
