import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Target } from '../../config/target.js';
import type { EngineContext } from '../context.js';
import { checkDestination, runRecovery, unpackBaseBackup, writeRecoveryConfig, type RecoveryOutcome, type ReplayExpectation } from './pitr-restore.js';
import { DbdrillError, isDbdrillError } from '../../errors.js';
import type { ReplayCheck } from '../../pitr/reached.js';
import { DEFAULT_SEGMENT_BYTES, segmentOfLsn } from '../../pitr/wal-names.js';
import type { Manifest } from '../../repo/manifest.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../../runner/process.js';
import { sandboxParent } from '../../sandbox/dirs.js';
import { freePort } from '../../sandbox/ports.js';
import { register, unregister } from '../../sandbox/registry.js';
import { serverAccount } from '../../sandbox/users.js';
import { restoreCommand } from '../../wal/command.js';

/**
 * A base backup restored into a throw-away directory on a free port, for drills and
 * verify --restore. It is registered like a sandbox, so an exit or a signal never leaves the
 * server running, and stop() removes it (unless kept).
 */
export class PhysicalScratch {
  #pid: number | undefined;

  private constructor(
    readonly source: Target,
    readonly dir: string,
    readonly port: number,
    readonly keep: boolean,
  ) {}

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** The restored server answers with the source's roles and passwords on its own port. */
  get target(): Target {
    return { ...this.source, host: '127.0.0.1', port: this.port };
  }

  static async provision(source: Target, tag: string, keep = false): Promise<PhysicalScratch> {
    const dir = mkdtempSync(join(sandboxParent(), `dbdrill-${tag}-${source.name}-`));
    const account = serverAccount('postgres');
    // The restored server runs as postgres when we are root: its parent directory is its own.
    if (account) chownSync(dir, account.uid, account.gid);
    register({ dir, keep, emergencySignal: 'SIGQUIT' });
    const port = await freePort();
    const s = new PhysicalScratch(source, dir, port, keep);
    await checkDestination(s.dataDir, port);
    return s;
  }

  /** Returns the bytes of the base backup it unpacked. */
  async restoreBase(ctx: EngineContext, m: Manifest, backupDir: string, settings: Record<string, string>): Promise<number> {
    const bytes = await unpackBaseBackup(ctx, backupDir, this.dataDir);
    writeRecoveryConfig(this.dataDir, m, settings, restoreCommand(this.source.repo), this.port);
    return bytes;
  }

  /**
   * Replays WAL and checks the point reached against `expect.check` (without one: the backup's
   * own consistent point, what restoreBase with recovery_target=immediate aims at). A recovery
   * short of it fails here, unless the caller takes the verdict itself (deferShort: a drill fails
   * it at its verify step).
   */
  async replay(ctx: EngineContext, m: Manifest, expect: ReplayExpectation, opts: { deferShort?: boolean } = {}): Promise<RecoveryOutcome> {
    let outcome: RecoveryOutcome;
    try {
      outcome = await runRecovery(ctx, this.dataDir, Number(m.serverVersion.split('.')[0]), { ...expect, check: expect.check ?? consistentPointCheck(m) }, join(this.dir, 'recovery.log'), (pid) => {
        this.#pid = pid;
        register({ pid, dir: this.dir, keep: this.keep, emergencySignal: 'SIGQUIT' });
      });
    } catch (e) {
      // runRecovery speaks for a restore, whose directory stays; a scratch one goes at stop().
      if (isDbdrillError(e) && e.code === 'aborted') throw new DbdrillError('aborted', `WAL replay was cancelled; the scratch server was stopped${this.keep ? ` and ${this.dir} kept` : ''}.`);
      throw e;
    }
    if (!outcome.verdict.ok && !opts.deferShort) throw new DbdrillError('failed', outcome.verdict.sentence, { logFile: outcome.logFile });
    return outcome;
  }

  async stop(): Promise<void> {
    if (this.#pid !== undefined && isPidAlive(this.#pid)) {
      signalProcess(this.#pid, 'SIGINT');
      await waitForPidExit(this.#pid, 30_000);
    }
    unregister(this.dir);
    if (!this.keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A base backup restored to its own end: recovery must report it consistent at the backup's stop LSN. */
export function consistentPointCheck(m: Manifest): ReplayCheck {
  const pg = m.postgres!;
  const timeline = pg.timeline ?? 1;
  const segmentBytes = pg.walSegmentBytes ?? DEFAULT_SEGMENT_BYTES;
  return {
    target: { kind: 'immediate' },
    settings: { recovery_target: 'immediate' },
    promise: { kind: 'consistent', lsn: pg.stopLsn ?? pg.startLsn! },
    legs: [{ timeline, fromSeg: segmentOfLsn(timeline, pg.startLsn!, segmentBytes).segNo }],
    segmentBytes,
  };
}
