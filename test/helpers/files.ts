import { closeSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/** Every regular file below `dir` (no links followed), sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** The error lines (progress lines before them are the command's own), and never a stack trace. */
export function sentences(stderr: string): string[] {
  expect(stderr).not.toMatch(/\n\s+at /);
  return stderr.split('\n').filter((l) => l.startsWith('dbdrill:'));
}

/** Flips one byte of `file` at `at`; returns the function that puts it back. */
export function flipByte(file: string, at: number): () => void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  const before = b[0]!;
  writeSync(fd, Buffer.from([before ^ 0x55]), 0, 1, at);
  closeSync(fd);
  return () => {
    const f = openSync(file, 'r+');
    writeSync(f, Buffer.from([before]), 0, 1, at);
    closeSync(f);
  };
}
