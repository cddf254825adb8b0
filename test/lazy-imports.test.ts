import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, tempConfigDir } from './helpers/cli.js';
import { readDbw, sharedSegments } from './helpers/wal-files.js';

/**
 * What a command loads, traced by a module hook in the real process: wal-push (once per WAL
 * segment) and --version must not load the schema library the catalog uses to check manifests.
 */
const HOOK = resolve(import.meta.dirname, 'helpers/trace-imports.mjs');

let tmp: ReturnType<typeof tempConfigDir>;
beforeAll(() => {
  tmp = tempConfigDir();
});
afterAll(() => tmp.cleanup());

/** Runs the CLI and returns its exit code and the module URLs it loaded. */
function traced(name: string, args: string[]): Promise<{ code: number; stderr: string; modules: string[] }> {
  const trace = join(tmp.dir, `${name}.trace`);
  writeFileSync(trace, '');
  return new Promise((done) => {
    execFile(process.execPath, ['--import', HOOK, CLI, ...args], { env: { ...process.env, DBDRILL_TRACE_IMPORTS: trace } }, (err, _stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stderr, modules: readFileSync(trace, 'utf8').split('\n').filter(Boolean) });
    });
  });
}

const loads = (modules: string[], pkg: string) => modules.some((u) => u.includes(`/node_modules/${pkg}/`));

describe('lazy imports', () => {
  it('--version and wal-push (by repository and by target name) never load valibot; catalog does', async () => {
    const repo = join(tmp.dir, 'repo');
    const wal = join(tmp.dir, 'pg_wal');
    mkdirSync(wal);
    // Real segments: wal-push checks each one's first page (a made-up file is refused).
    const [first, second] = (await sharedSegments(2, wal)).map((p) => basename(p));
    const cfg = ['--config', tmp.dir];
    expect((await traced('add', ['target', 'add', 'lz', '--engine', 'postgres', '--repo', repo, ...cfg])).code).toBe(0);

    const version = await traced('version', ['--version']);
    const pushRepo = await traced('push-repo', ['wal-push', '--repo', repo, join(wal, first!)]);
    const pushName = await traced('push-name', ['wal-push', 'lz', join(wal, second!), ...cfg]);
    const catalog = await traced('catalog', ['catalog', 'lz', ...cfg]);
    for (const r of [version, pushRepo, pushName, catalog]) expect(r.code, r.stderr).toBe(0);
    // The pushes really archived (the trace saw the whole command, not an early exit).
    expect(readDbw(join(repo, 'wal', second!.slice(0, 8), `${second}.dbw`)).payload.length).toBe(16 * 1024 * 1024);

    expect(loads(version.modules, 'valibot')).toBe(false);
    expect(loads(pushRepo.modules, 'valibot')).toBe(false);
    expect(loads(pushName.modules, 'valibot')).toBe(false);
    // The trace does see it where it is used: the check is not vacuous.
    expect(loads(catalog.modules, 'valibot')).toBe(true);
  });
});
