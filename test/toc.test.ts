import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseToc } from '../src/engines/postgres/toc.js';

describe('pg_restore --list (captured fixture)', () => {
  const { entries, declared } = parseToc(readFileSync(new URL('../fixtures/pg_restore/list-pgbench.txt', import.meta.url), 'utf8'));

  it('reads the declared entry count and every entry', () => {
    expect(declared).toBe(16);
    expect(entries.length).toBeGreaterThanOrEqual(11);
  });

  it('tells table data from table definitions', () => {
    const data = entries.filter((e) => e.type === 'TABLE DATA').map((e) => `${e.schema}.${e.name}`);
    expect(data.sort()).toEqual(['public.pgbench_accounts', 'public.pgbench_branches', 'public.pgbench_history', 'public.pgbench_tellers']);
    expect(entries.find((e) => e.type === 'CONSTRAINT')).toMatchObject({ schema: 'public', name: 'pgbench_accounts' });
  });
});
