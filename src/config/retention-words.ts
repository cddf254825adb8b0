import type { Retention } from './policy.js';

/** "keep-full 4, keep-diff 7, gfs 7d4w": a retention as `policy set` takes it; undefined when none. */
export function retentionWords(r: Retention | undefined): string | undefined {
  if (!r) return undefined;
  const parts = [
    r.keepFull !== undefined ? `keep-full ${r.keepFull}` : '',
    r.keepDiff !== undefined ? `keep-diff ${r.keepDiff}` : '',
    r.keepDays !== undefined ? `keep-days ${r.keepDays}` : '',
    r.keepArchive !== undefined ? `keep-archive ${r.keepArchive}` : '',
    r.gfs ? `gfs ${r.gfs}` : '',
  ];
  return parts.filter(Boolean).join(', ');
}
