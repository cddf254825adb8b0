import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommitCollector, isoSecond } from '../src/binlog/commits.js';
import { scanBinlogBuffer } from '../src/binlog/events.js';
import { commitsInDump } from '../src/engines/postgres/waldump.js';
import { isoMicros } from '../src/pitr/micros.js';

// The restore picker steps by commits; these read them from captured real output: pg_waldump's
// commit records (PostgreSQL 15) and a MariaDB 10.11 binlog (fixtures/*/README.md).

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

describe('commit moments from the archive', () => {
  it('pg_waldump: every COMMIT record, to the microsecond, in log order', () => {
    const text = fixture('pg_waldump/transaction-records.txt').toString();
    const commits = commitsInDump(text);
    expect(commits).toHaveLength(text.split('\n').filter((l) => / desc: COMMIT /.test(l)).length);
    expect(commits[0]).toMatchObject({ lsn: '0/010CC490' });
    expect(isoMicros(commits[0]!.micros)).toBe('2026-11-25T18:03:37.702673Z');
    expect(isoMicros(commits[1]!.micros)).toBe('2026-11-25T18:03:37.706286Z');
    for (let i = 1; i < commits.length; i++) expect(commits[i]!.micros).toBeGreaterThanOrEqual(commits[i - 1]!.micros);
    // Aborts and other records are not commits.
    expect(commitsInDump('rmgr: Transaction len (rec/tot): 34/ 34, tx: 9, lsn: 0/01000028, prev 0/01000000, desc: ABORT 2026-11-25 18:03:37.702673 UTC')).toEqual([]);
  });

  it('a MariaDB binlog: one moment per second holding a commit (each transaction ends at its last event)', () => {
    const c = new CommitCollector();
    const scan = scanBinlogBuffer(fixture('mariadb-binlog/closed.000004'), c.onEvent);
    expect(scan.transactions).toBe(5);
    // 18:25:31: CREATE TABLE fx, an insert, a two-table transaction; 18:25:32: an insert, DROP TABLE.
    expect(c.seconds().map(isoSecond)).toEqual(['2026-11-25T18:25:31Z', '2026-11-25T18:25:32Z']);
    // The file the server still writes: its finished transactions count too.
    const open = new CommitCollector();
    scanBinlogBuffer(fixture('mariadb-binlog/active.000005'), open.onEvent);
    expect(open.seconds().map(isoSecond)).toEqual(['2026-11-25T18:25:32Z']);
  });
});
