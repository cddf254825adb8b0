/** Reads `pg_restore --list` output (see fixtures/pg_restore/): what a dump holds. */
export interface TocEntry {
  dumpId: number;
  type: string;
  schema: string;
  name: string;
}

// "3358; 0 16390 TABLE DATA public pgbench_accounts postgres"
const ENTRY = /^(\d+); \d+ \d+ (.+?) (\S+|-) (\S+) (\S+)$/;
const TYPES = ['TABLE DATA', 'SEQUENCE SET', 'MATERIALIZED VIEW DATA', 'TABLE', 'SEQUENCE', 'INDEX', 'CONSTRAINT', 'FK CONSTRAINT', 'VIEW', 'FUNCTION', 'SCHEMA', 'EXTENSION', 'TRIGGER', 'DEFAULT', 'COMMENT', 'ACL', 'TYPE'];

export function parseToc(text: string): { entries: TocEntry[]; declared?: number } {
  const entries: TocEntry[] = [];
  let declared: number | undefined;
  for (const line of text.split('\n')) {
    const d = /^;\s+TOC Entries: (\d+)/.exec(line);
    if (d) declared = Number(d[1]);
    if (line.startsWith(';') || line.trim() === '') continue;
    const m = ENTRY.exec(line);
    if (!m) continue;
    // The type can hold spaces ("TABLE DATA"); match the longest known type at the start.
    const rest = `${m[2]} ${m[3]} ${m[4]}`;
    const type = TYPES.find((t) => rest.startsWith(`${t} `)) ?? m[2]!;
    const [schema = '-', name = ''] = rest.slice(type.length + 1).split(' ');
    entries.push({ dumpId: Number(m[1]), type, schema, name });
  }
  return { entries, declared };
}
