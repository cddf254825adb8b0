/**
 * The engine registry: the one table keyed by engine name. src/ops asks it for a target's engine
 * (engineFor) and never compares engine names itself. An engine's module is loaded on first use
 * with a dynamic import, so a command that needs no engine (wal-push, --version) loads none, and
 * one that needs PostgreSQL never loads MySQL's.
 */
import type { Engine } from '../config/engines.js';
import type { EngineModule } from './contract.js';

export type { EngineModule } from './contract.js';

/** What is known of an engine without loading it: enough for the checks made before a job starts. */
export interface EngineEntry {
  /** How sentences name it. */
  readonly label: string;
  /**
   * Its restores stop at whole seconds (binlog events), so a time target may say what to do with
   * the target second's transactions (--second).
   */
  readonly wholeSecondTimes: boolean;
  load(): Promise<EngineModule>;
}

const ENGINES: Readonly<Record<Engine, EngineEntry>> = {
  postgres: { label: 'PostgreSQL', wholeSecondTimes: false, load: async () => (await import('./postgres/index.js')).postgresEngine },
  mysql: { label: 'MySQL/MariaDB', wholeSecondTimes: true, load: async () => (await import('./mysql/index.js')).mysqlEngine },
};

const loaded = new Map<Engine, Promise<EngineModule>>();

/** The registry's row for an engine, without loading the engine. */
export function engineEntry(engine: Engine): EngineEntry {
  const e = ENGINES[engine];
  if (!e) throw new Error(`no engine module for "${String(engine)}"`);
  return e;
}

/** The engine module of a target (or a manifest: anything that names its engine), loaded once. */
export function engineFor(of: { engine: Engine }): Promise<EngineModule> {
  let p = loaded.get(of.engine);
  if (!p) {
    p = engineEntry(of.engine).load();
    loaded.set(of.engine, p);
  }
  return p;
}

/** --second is about binlog events' whole seconds; an engine whose restores keep microseconds refuses it. */
export function secondNotFor(target: { name: string; engine: Engine }): string | undefined {
  const e = engineEntry(target.engine);
  if (e.wholeSecondTimes) return undefined;
  return `--second is for MySQL/MariaDB time targets (binlog events carry whole seconds); target "${target.name}" is ${e.label}, whose restores keep microseconds, so leave it out.`;
}
