import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINES } from '../src/config/engines.js';
import { engineEntry, engineFor, secondNotFor } from '../src/engines/registry.js';

/**
 * src/ops orchestrates and asks the registry for an engine; it does not compare engine names.
 * KNOWN lists the ops files that still do, with how many comparisons each has: the counts may only
 * go down (and must be lowered here when they do), and a file not listed must have none.
 */
const KNOWN: Record<string, number> = {
  'archiving.ts': 1,
  'binlog-sync-mysql.ts': 2,
  'health.ts': 7,
  'plan.ts': 2,
  'prune.ts': 1,
  'retention-view.ts': 3,
  'sandbox.ts': 4,
  'training.ts': 1,
};

/** The ops files the engine contract moved the engine halves out of: no engine name may come back. */
const MOVED = ['backup.ts', 'drill.ts', 'health.ts', 'pitr.ts', 'restore.ts', 'targets.ts', 'verify.ts'];

const NAME = `['"](?:${ENGINES.join('|')})['"]`;
/** engine === 'mysql', 'postgres' !== x, case 'mysql': */
const COMPARISON = new RegExp(`[!=]==\\s*${NAME}|${NAME}\\s*[!=]==|case\\s+${NAME}`, 'g');

function comparisons(file: string): number {
  const text = readFileSync(file, 'utf8').replace(/^\s*(\/\/|\*|\/\*).*$/gm, '');
  return text.match(COMPARISON)?.length ?? 0;
}

describe('the engine contract', () => {
  const dir = join(import.meta.dirname, '..', 'src', 'ops');
  const counts = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => [f, comparisons(join(dir, f))]));

  it('finds the comparisons it counts (the counter itself works)', () => {
    expect("if (target.engine === 'mysql') x; else if ('postgres' !== e) y; switch (e) { case 'mysql': }".match(COMPARISON)).toHaveLength(3);
  });

  it('src/ops compares engine names only in the files still listed, no more often than listed', () => {
    const found = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
    expect(found).toEqual(KNOWN);
  });

  it('the ops files whose engine halves moved into src/engines compare no engine name', () => {
    for (const f of MOVED) expect(`${f}: ${counts[f] ?? 'missing'}`).toBe(`${f}: ${f === 'health.ts' ? KNOWN[f] : 0}`);
    // health.ts kept its sampling branches (the next stage); its window comes from the engine.
    expect(readFileSync(join(dir, 'health.ts'), 'utf8')).toContain('readWindow(target)');
  });

  it('has one module per engine, each implementing the whole contract', async () => {
    for (const name of ENGINES) {
      const e = await engineFor({ engine: name });
      expect(e.engine).toBe(name);
      expect(e.label).toBe(engineEntry(name).label);
      expect(e.methods.native?.backup).toBeTypeOf('function');
      expect(e.methodOf({ name: 't', engine: name, host: 'h', port: 1, user: 'u', dbname: 'd', repo: '/r' })).toBe(e.methods.native);
      for (const member of ['probe', 'verifyStructure', 'restoreCheck', 'logicalRestore', 'readWindow', 'pointInTimeRestore'] as const) expect(e[member]).toBeTypeOf('function');
      expect(e.drill.pick).toBeTypeOf('function');
      expect(e.sandbox.start).toBeTypeOf('function');
      // Loaded once: the same module every time.
      expect(await engineFor({ engine: name })).toBe(e);
    }
  });

  it('names the drill replay step and the methods per engine', async () => {
    expect((await engineFor({ engine: 'postgres' })).drill.replayStep).toBe('replay WAL');
    expect((await engineFor({ engine: 'mysql' })).drill.replayStep).toBe('replay binlogs');
    const pg = await engineFor({ engine: 'postgres' });
    expect(pg.methods.native!.backupTypes.physical).toEqual(['full']);
    expect(pg.methods.pgbackrest!.backupTypes.physical).toEqual(['full', 'diff', 'incr']);
    expect(() => pg.methodOf({ name: 't', engine: 'postgres', host: 'h', port: 1, user: 'u', dbname: 'd', repo: '/r', method: 'barman' } as never)).toThrow(
      'Target "t" names the method "barman", which PostgreSQL does not have; use one of native, pgbackrest.',
    );
  });

  it('refuses --second for an engine whose restores keep microseconds, in the sentence the CLI printed before', () => {
    expect(secondNotFor({ name: 'pg', engine: 'postgres' })).toBe(
      '--second is for MySQL/MariaDB time targets (binlog events carry whole seconds); target "pg" is PostgreSQL, whose restores keep microseconds, so leave it out.',
    );
    expect(secondNotFor({ name: 'my', engine: 'mysql' })).toBeUndefined();
  });
});
