/**
 * The replication slot `dbdrill stream NAME` holds, also the application_name the server sees it
 * as (pg_stat_replication, synchronous_standby_names): `dbdrill_<target>`, folded to what slot
 * names allow (lower-case letters, digits, underscore; at most 63 bytes).
 */
export function streamSlotName(target: string): string {
  return `dbdrill_${target.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}
