import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DbdrillError } from '../src/errors.js';
import { listProcesses, waitForPidExit } from '../src/runner/process.js';
import { runTool } from '../src/runner/run.js';
import { sandboxStatus, stopSandbox, type SandboxInfo } from '../src/sandbox/index.js';

/**
 * What happens to a sandbox when the process that started it goes away: `dbdrill sandbox start`
 * (detach) must leave it running for `sandbox stop` in another process; anything else (a test,
 * a drill) must take its servers with it on exit, SIGINT and SIGTERM. That needs real child
 * processes running the real code, so src/ is transpiled to plain JS once for them.
 */

const ROOT = join(import.meta.dirname, '..');
let buildDir: string;
let childScript: string;
const leftovers: SandboxInfo[] = [];

beforeAll(() => {
  // Inside the project (and git-ignored) so the children resolve pg, mysql2 and execa from its
  // node_modules.
  buildDir = mkdtempSync(join(ROOT, '.vitest-sandbox-'));
  for (const dir of ['src/runner', 'src/sandbox']) {
    for (const f of readdirSync(join(ROOT, dir)).filter((n) => n.endsWith('.ts'))) transpile(join(dir, f));
  }
  transpile('src/errors.ts');
  childScript = join(buildDir, 'child.mjs');
  writeFileSync(
    childScript,
    `import { startPostgresSandbox, sandboxInfo } from './src/sandbox/index.js';
const mode = process.argv[2];
// Like the CLI's interrupt handler: it owns SIGINT, and ends the process its own way.
if (mode === 'handled') process.on('SIGINT', () => process.exit(3));
const sandbox = await startPostgresSandbox({ detach: mode === 'detach' });
process.stdout.write(JSON.stringify(sandboxInfo(sandbox)) + '\\n');
// Signals arrive asynchronously: keep the loop alive until one does.
if (mode === 'sigterm' || mode === 'sigint' || mode === 'handled') setInterval(() => {}, 1000);
if (mode === 'sigterm') process.kill(process.pid, 'SIGTERM');
// 'exit' and 'detach' simply run out of work and exit.
`,
  );
});

afterAll(() => {
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const info of leftovers.splice(0)) await stopSandbox(info);
});

function transpile(file: string): void {
  const out = ts.transpileModule(readFileSync(join(ROOT, file), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: file,
  });
  const target = join(buildDir, file.replace(/\.ts$/, '.js'));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, out.outputText);
}

/** Runs the child; resolves with the sandbox it printed and how the child ended. */
async function runChild(mode: 'detach' | 'exit' | 'sigint' | 'sigterm' | 'handled'): Promise<{ info: SandboxInfo; ended: string }> {
  const ac = new AbortController();
  let info: SandboxInfo | undefined;
  let ended = 'still running';
  try {
    await runTool({
      tool: process.execPath,
      args: [relative(ROOT, childScript), mode],
      cwd: ROOT,
      signal: ac.signal,
      timeoutMs: 60_000,
      onEvent: (e) => {
        if (e.type === 'exit') ended = e.signal ?? `exit ${e.exitCode}`;
        if (e.type !== 'line' || e.stream !== 'stdout' || !e.text.startsWith('{')) return;
        info = JSON.parse(e.text) as SandboxInfo;
        leftovers.push(info);
        if (mode === 'sigint' || mode === 'handled') ac.abort();
      },
    });
  } catch (e) {
    // A child that died of a signal is what some of these tests want; the exit event tells which.
    if (!(e instanceof DbdrillError)) throw e;
  }
  if (!info) throw new Error(`the child (${mode}) printed no sandbox (ended: ${ended})`);
  return { info, ended };
}

async function expectCleanedUp(info: SandboxInfo): Promise<void> {
  // SIGKILL is delivered asynchronously; give the kernel a moment to finish the job.
  expect(await waitForPidExit(info.pid, 5_000)).toBe(true);
  const stragglers = listProcesses().filter((p) => p.commandLine.includes(info.dir) || (p.cwd?.startsWith(info.dir) ?? false));
  expect(stragglers).toEqual([]);
  expect(existsSync(info.dir)).toBe(false);
}

describe('a sandbox and the process that started it', () => {
  it('a detached sandbox outlives its starter and is stopped from another process', async () => {
    const { info, ended } = await runChild('detach');
    expect(ended).toBe('exit 0');
    expect(await sandboxStatus(info)).toEqual({ running: true, pidAlive: true, accepting: true });
    await stopSandbox(info);
    await expectCleanedUp(info);
  });

  it('is killed and removed when its process simply exits', async () => {
    const { info, ended } = await runChild('exit');
    expect(ended).toBe('exit 0');
    await expectCleanedUp(info);
  });

  it('is killed on SIGINT, and the process still dies of the signal', async () => {
    const { info, ended } = await runChild('sigint');
    expect(ended).toBe('SIGINT');
    await expectCleanedUp(info);
  });

  it('leaves SIGINT to a handler the program installed, and is still killed when it exits', async () => {
    const { info, ended } = await runChild('handled');
    expect(ended).toBe('exit 3');
    await expectCleanedUp(info);
  });

  it('is killed on SIGTERM, and the process still dies of the signal', async () => {
    const { info, ended } = await runChild('sigterm');
    expect(ended).toBe('SIGTERM');
    await expectCleanedUp(info);
  });
});
