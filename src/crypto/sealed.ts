import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { runPipe } from '../runner/pipe.js';
import { runTool, type RunEvent } from '../runner/run.js';
import type { ToolCall } from '../runner/tool-call.js';
import { findTool } from '../runner/tools.js';
import { encryptArgs } from './age.js';

/** A file's plain content, as the tool wrote it before encryption. */
export interface PlainSum {
  bytes: number;
  sha256: string;
}

/**
 * Where a backup's tool output goes, chosen once from the target: in plain, or encrypted with
 * age to the target's recipients. An encrypting sink takes a tool's stdout straight into
 * `age -e -o FILE`, hashing the plain bytes on their way, so no plaintext ever touches the disk;
 * the manifest then records both the stored (ciphertext) and the plain sums.
 */
export interface BackupSink {
  /** The age public keys files are encrypted to; undefined when the repository is not encrypted. */
  readonly encryptTo: readonly string[] | undefined;
  /** Runs `call` and stores its stdout as `rel` in the backup's directory (encrypted when the sink is). */
  fromStdout(call: ToolCall, rel: string, opts: { signal?: AbortSignal; onEvent?: (e: RunEvent) => void; tap?: (chunk: Buffer) => void }): Promise<void>;
  /** The plain size and sha256 of each file an encrypting sink wrote. */
  readonly plain: ReadonlyMap<string, PlainSum>;
  /**
   * Files the engine writes itself that hold no row data (LSNs, a schema's character set), kept
   * readable so that planning and chaining need no key. Anything else in plain fails the backup.
   */
  readonly plainByDesign: ReadonlySet<string>;
  declarePlain(rel: string): void;
}

export function backupSink(dir: string, encryptTo: readonly string[] | undefined): BackupSink {
  const plain = new Map<string, PlainSum>();
  const plainByDesign = new Set<string>();
  const recipients = encryptTo?.length ? [...encryptTo] : undefined;
  return {
    encryptTo: recipients,
    plain,
    plainByDesign,
    declarePlain(rel) {
      plainByDesign.add(rel);
    },
    async fromStdout(call, rel, opts) {
      const out = join(dir, rel);
      if (!recipients) {
        await runTool({ ...call, stdout: { file: out }, signal: opts.signal, onEvent: opts.onEvent });
        return;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      await runPipe({
        from: call,
        to: { tool: await findTool('age'), args: encryptArgs(recipients, out) },
        signal: opts.signal,
        onEvent: opts.onEvent,
        tap: (c) => {
          hash.update(c);
          bytes += c.length;
          opts.tap?.(c);
        },
      });
      plain.set(rel, { bytes, sha256: hash.digest('hex') });
    },
  };
}
