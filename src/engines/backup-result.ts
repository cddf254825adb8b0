import type { Manifest } from '../repo/manifest.js';

/** What an engine adapter adds to the manifest after its tool finished. */
export type BackupResult = Pick<Manifest, 'tool' | 'format' | 'database'> &
  Partial<Pick<Manifest, 'postgres' | 'mysql' | 'tables'>>;
