import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINES } from '../src/config/engines.js';
import { engineEntry, engineFor, secondNotFor } from '../src/engines/registry.js';
import { continuedSeries, type StoredSeries } from '../src/health/sample-history.js';
import { CLI } from './helpers/cli.js';

/**
 * src/ops orchestrates and asks the registry for an engine; it does not compare engine names, and
 * neither do the CLI's commands (what differs per engine is a fact in the registry's row).
 * KNOWN lists the ops files that still do, with how many comparisons each has: the counts may only
 * go down (and must be lowered here when they do), and a file not listed must have none.
 */
const KNOWN: Record<string, number> = {};

/** The ops files the engine contract moved the engine halves out of: no engine name may come back. */
const MOVED = ['archiving.ts', 'backup.ts', 'drill.ts', 'health.ts', 'pitr.ts', 'plan.ts', 'prune.ts', 'restore.ts', 'retention-view.ts', 'sandbox.ts', 'targets.ts', 'verify.ts'];

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

  it('the CLI commands compare no engine name', () => {
    const cli = join(import.meta.dirname, '..', 'src', 'cli', 'commands');
    const found = readdirSync(cli).filter((f) => f.endsWith('.ts')).map((f) => [f, comparisons(join(cli, f))] as const).filter(([, n]) => n > 0);
    expect(found).toEqual([]);
  });

  it('grep finds no engine comparison in src/ops or src/cli (the issue\'s own check)', async () => {
    const root = join(import.meta.dirname, '..');
    // grep exits 1 when nothing matches, 0 with the matching lines, 2 on an error (a missing directory).
    const r = await new Promise<{ code: number; out: string }>((done) =>
      execFile('grep', ['-rn', 'engine === \\|engine !== ', 'src/ops', 'src/cli'], { cwd: root }, (err, stdout) => done({ code: err ? Number(err.code) : 0, out: stdout })),
    );
    expect(r.out).toBe('');
    expect(r.code).toBe(1);
  });

  it('a stored health series is continued only by a sampler of its own engine', () => {
    const at = '2026-12-01T10:00:00.000Z';
    const pgSeed = { engine: 'postgres', samples: [1, 2, 3].map((i) => ({ at, systemId: String(i) })) } as unknown as StoredSeries;
    expect(continuedSeries('postgres', pgSeed, 2).samples.map((s) => s.systemId)).toEqual(['2', '3']);
    expect(continuedSeries('mysql', pgSeed, 2)).toEqual({ engine: 'mysql', samples: [] });
    expect(continuedSeries('postgres', undefined, 2)).toEqual({ engine: 'postgres', samples: [] });
  });

  it('the ops files whose engine halves moved into src/engines compare no engine name', () => {
    for (const f of MOVED) expect(`${f}: ${counts[f] ?? 'missing'}`).toBe(`${f}: 0`);
  });

  it('has one module per engine, each implementing the whole contract', async () => {
    for (const name of ENGINES) {
      const e = await engineFor({ engine: name });
      expect(e.engine).toBe(name);
      expect(e.label).toBe(engineEntry(name).label);
      expect(e.methods.native?.backup).toBeTypeOf('function');
      expect(e.methodOf({ name: 't', engine: name, host: 'h', port: 1, user: 'u', dbname: 'd', repo: '/r' })).toBe(e.methods.native);
      for (const member of ['probe', 'verifyStructure', 'restoreCheck', 'logicalRestore', 'readWindow', 'commitMoments', 'pointInTimeRestore', 'archive', 'healthSampler'] as const) expect(e[member]).toBeTypeOf('function');
      expect(e.drill.pick).toBeTypeOf('function');
      expect(e.sandbox.start).toBeTypeOf('function');
      expect(e.sandbox.startTraining).toBeTypeOf('function');
      // The optional capabilities follow the registry's row: binlog-sync pulls only what the engine can pull,
      // and training runs only where the engine implements its server side.
      expect(e.archivePull !== undefined, `${name} archivePull`).toBe(engineEntry(name).archive === 'binlog');
      if (e.archivePull) for (const member of ['list', 'fetcher'] as const) expect(e.archivePull[member]).toBeTypeOf('function');
      expect(e.training !== undefined, `${name} training`).toBe(engineEntry(name).training);
      if (e.training) expect(e.training.connect).toBeTypeOf('function');
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

  it('each engine positions its archive: WAL by segment number, binlogs in binlog order', async () => {
    const pg = await (await engineFor({ engine: 'postgres' })).archive();
    const my = await (await engineFor({ engine: 'mysql' })).archive();
    expect(pg.compare('0000000000000009', '000000000000000A')).toBeLessThan(0);
    // mysql-bin.999999 comes before mysql-bin.1000000, which plain string order gets wrong.
    expect(my.compare('mysql-bin.999999', 'mysql-bin.1000000')).toBeLessThan(0);
    expect(pg.closesOnTimer).toBe(true);
    expect(my.closesOnTimer).toBe(false);
    const base = { formatVersion: 1, id: 'b', target: 't', kind: 'physical', type: 'full', status: 'complete', tool: { name: '', version: '', argv: [] }, serverVersion: '15.1', startedAt: '2026-12-01T10:00:00.000Z', sizeBytes: 0, files: [] };
    expect(pg.pitrStart({ ...base, engine: 'postgres', postgres: { startLsn: '0/3000028', stopLsn: '0/3000100', timeline: 1, consistentAt: '2026-12-01T10:00:05.000Z' } } as never)).toEqual({
      pitrFrom: '2026-12-01T10:00:05.000Z',
      archiveFrom: '0000000000000003',
    });
    expect(pg.pitrStart({ ...base, engine: 'postgres', kind: 'logical' } as never)).toBeUndefined();
    expect(my.pitrStart({ ...base, engine: 'mysql', kind: 'logical', mysql: {} } as never)).toBeUndefined();
    expect(my.pitrStart({ ...base, engine: 'mysql', kind: 'logical', mysql: { binlogFile: 'mysql-bin.000004', binlogPosition: 328 } } as never)?.archiveFrom).toBe('mysql-bin.000004');
  });

  it('refuses --second for an engine whose restores keep microseconds, in the sentence the CLI printed before', () => {
    expect(secondNotFor({ name: 'pg', engine: 'postgres' })).toBe(
      '--second is for MySQL/MariaDB time targets (binlog events carry whole seconds); target "pg" is PostgreSQL, whose restores keep microseconds, so leave it out.',
    );
    expect(secondNotFor({ name: 'my', engine: 'mysql' })).toBeUndefined();
  });

  it('dbdrill --version and wal-push load neither the registry nor an engine; target test loads only its own engine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbdrill-contract-'));
    try {
      const traced = (name: string, args: string[]) =>
        new Promise<{ code: number; stderr: string; modules: string[] }>((done) => {
          const trace = join(dir, `${name}.trace`);
          writeFileSync(trace, '');
          execFile(process.execPath, ['--import', resolve(import.meta.dirname, 'helpers/trace-imports.mjs'), CLI, ...args], { env: { ...process.env, DBDRILL_TRACE_IMPORTS: trace } }, (err, _o, stderr) =>
            done({ code: err ? Number(err.code ?? 1) : 0, stderr, modules: readFileSync(trace, 'utf8').split('\n').filter(Boolean) }),
          );
        });
      const engines = (modules: string[]) => modules.filter((u) => /\/src\/engines\/(registry|postgres\/index|mysql\/index)\.js$/.test(u)).map((u) => u.replace(/^.*\/src\//, 'src/'));
      const history = join(dir, '00000002.history');
      writeFileSync(history, '1\t0/3000000\tno recovery target specified\n');
      const version = await traced('version', ['--version']);
      const push = await traced('push', ['wal-push', '--repo', join(dir, 'repo'), history]);
      for (const r of [version, push]) expect(r.code, r.stderr).toBe(0);
      expect(engines(version.modules)).toEqual([]);
      expect(engines(push.modules)).toEqual([]);
      // The trace sees the registry where it is used: a MySQL target's test loads MySQL's module only.
      const cfg = ['--config', join(dir, 'config')];
      expect((await traced('add', ['target', 'add', 'my', '--engine', 'mysql', '--host', '127.0.0.1', '--port', '1', '--dbname', 'shop', '--repo', join(dir, 'my-repo'), ...cfg])).code).toBe(0);
      const test = await traced('test', ['target', 'test', 'my', ...cfg]);
      expect(test.code).not.toBe(0);
      expect(engines(test.modules).sort()).toEqual(['src/engines/mysql/index.js', 'src/engines/registry.js']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
