import { parseDuration } from '../config/duration.js';
import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import { engineFor } from '../engines/registry.js';
import { Repository } from '../repo/repository.js';
import { forecast, type Forecast, type SizedJob } from '../strategy/forecast.js';
import { measuredSizes } from '../strategy/sizes.js';
import { listDrills } from './drill-history.js';
import { sampleHealth } from './health.js';

export interface StrategyPlan extends Forecast {
  target: string;
  days: number;
  measured: { sizes: Partial<Record<SizedJob, number>>; archiveBytesPerDay?: number; archiveTimeoutSeconds?: number; serverError?: string };
}

const DAY = 86_400_000;
const RATE_WINDOW_DAYS = 7;

/** Bytes per day the archive grew over the last week (the files' arrival times), or undefined with too little history. */
export async function archiveRate(target: Target, now: Date): Promise<number | undefined> {
  const files = (await (await engineFor(target)).archive()).filesBelow(target.repo);
  const since = now.getTime() - RATE_WINDOW_DAYS * DAY;
  const recent = files.filter((f) => f.archivedAt >= since);
  if (recent.length < 2) return undefined;
  const span = (now.getTime() - Math.min(...recent.map((f) => f.archivedAt))) / DAY;
  return span > 0 ? Math.round(recent.reduce((n, f) => n + f.bytes, 0) / span) : undefined;
}

export async function strategyPlan(configDir: string, name: string, opts: { days?: number; now?: Date } = {}): Promise<StrategyPlan> {
  const target = new TargetStore(configDir).get(name);
  const now = opts.now ?? new Date();
  const days = opts.days ?? 7;
  const manifests = new Repository(target.repo).catalog().manifests;
  const sizes = measuredSizes(manifests);
  const archiveBytesPerDay = await archiveRate(target, now);
  let archiveTimeoutSeconds: number | undefined;
  let serverError: string | undefined;
  // An engine whose server closes archive files on a timer: that timer bounds the RPO the plan forecasts.
  if ((await (await engineFor(target)).archive()).closesOnTimer) {
    try {
      const h = await sampleHealth(configDir, name);
      archiveTimeoutSeconds = h.archive?.archiveTimeoutSeconds;
      if (!h.server.reachable) serverError = h.server.error ?? 'not reachable';
    } catch (e) {
      serverError = (e as Error).message;
    }
  }
  const drills = listDrills(configDir, name).map((d) => ({ id: d.id, startedAt: d.startedAt, status: d.status, ...(d.rto ? { rtoSeconds: d.rto.seconds } : {}) }));
  const f = forecast({
    policy: target.policy,
    now,
    days,
    sizes,
    ...(archiveBytesPerDay !== undefined ? { archiveBytesPerDay } : {}),
    ...(archiveTimeoutSeconds !== undefined ? { archiveTimeoutSeconds } : {}),
    engine: target.engine,
    ...(target.rpo ? { rpoSeconds: parseDuration(target.rpo, 'rpo') } : {}),
    ...(target.rto ? { rtoSeconds: parseDuration(target.rto, 'rto') } : {}),
    drills,
  });
  return {
    target: target.name,
    days,
    measured: { sizes, ...(archiveBytesPerDay !== undefined ? { archiveBytesPerDay } : {}), ...(archiveTimeoutSeconds !== undefined ? { archiveTimeoutSeconds } : {}), ...(serverError ? { serverError } : {}) },
    ...f,
  };
}
