import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli, tempConfigDir } from './helpers/cli.js';

const cfg = tempConfigDir();
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
const scratch = mkdtempSync(join(tmpdir(), 'dbdrill-stream-refusals-'));
afterAll(() => {
  cfg.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

it('refuses to stream into an encrypted repository (pg_receivewal writes plain text there), before connecting', async () => {
  execFileSync('age-keygen', ['-o', join(scratch, 'id.txt')], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', join(scratch, 'id.txt')]).toString().trim();
  const repo = join(scratch, 'repo');
  // Nothing listens on port 1: a refusal that came after connecting would say so instead.
  const add = await runCli(['target', 'add', 'sealed', '--engine', 'postgres', '--host', '127.0.0.1', '--port', '1', '--repo', repo, '--encrypt-to', recipient], { env });
  expect(add.code, add.stderr).toBe(0);
  const r = await runCli(['stream', 'sealed'], { env });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(/^dbdrill: Target "sealed" keeps its repository encrypted \(encryptTo\), and pg_receivewal writes the segment it receives in plain text there; archive with archive_command/),
  ]);
  let files: string[] = [];
  try {
    files = readdirSync(join(repo, 'stream'));
  } catch {
    files = [];
  }
  expect(files).toEqual([]);
});
