import type { Manifest } from '../repo/manifest.js';
import type { SizedJob } from './forecast.js';

/** Recent enough to describe today's database, many enough not to follow one odd run. */
const SIZE_SAMPLES = 5;

/**
 * Median size of the newest complete backups of each kind (manifests newest first). Shared by the
 * plan's forecast and health's "would the next full fit" check, so both judge by the same number.
 */
export function measuredSizes(manifests: Manifest[]): Partial<Record<SizedJob, number>> {
  const out: Partial<Record<SizedJob, number>> = {};
  for (const what of ['full', 'diff', 'incr', 'logical'] as const) {
    const sizes = manifests
      .filter((m) => m.status === 'complete' && (what === 'logical' ? m.kind === 'logical' : m.kind === 'physical' && m.type === what))
      .slice(0, SIZE_SAMPLES)
      .map((m) => m.sizeBytes)
      .sort((a, b) => a - b);
    if (sizes.length) out[what] = sizes[Math.floor(sizes.length / 2)]!;
  }
  return out;
}
