import type { CatalogEntry } from '../../src/ops/catalog.js';

/**
 * The catalog's rows as chains: each diff or incr right under the full its chain starts from, in
 * the order they were taken, and the chains (and lone backups) newest first by their newest
 * member, so the backup taken last is still at the top. A member whose full is not in the list
 * (pruned, or filtered out before this) stays where its own id puts it.
 */
export function chainOrder(entries: readonly CatalogEntry[]): CatalogEntry[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const rootOf = (e: CatalogEntry): string => {
    let cur = e;
    for (let i = 0; cur.prior !== undefined && byId.has(cur.prior) && i < entries.length; i++) cur = byId.get(cur.prior)!;
    return cur.id;
  };
  const groups = new Map<string, CatalogEntry[]>();
  for (const e of entries) {
    const root = rootOf(e);
    groups.set(root, [...(groups.get(root) ?? []), e]);
  }
  const newest = (g: CatalogEntry[]) => g.reduce((n, e) => (e.id > n ? e.id : n), '');
  return [...groups.entries()]
    .sort(([, a], [, b]) => (newest(a) < newest(b) ? 1 : newest(a) > newest(b) ? -1 : 0))
    .flatMap(([root, g]) => [byId.get(root)!, ...g.filter((e) => e.id !== root).sort((a, b) => (a.id < b.id ? -1 : 1))]);
}

/** A diff or incr shows it was taken against another backup: "└incr". */
export function typeText(e: Pick<CatalogEntry, 'type' | 'prior'>): string {
  return e.prior !== undefined ? `└${e.type}` : e.type;
}
