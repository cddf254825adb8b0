import type { EngineContext } from '../../context.js';
import { forwardToolEvents } from '../../tool-events.js';
import { runPgbackrest, type Pgbackrest } from './command.js';
import { isWrongCipherPass, otherSystem, wrongCipherPass } from './errors.js';
import { currentDb, parseInfo, STATUS_MISSING_STANZA, type StanzaInfo } from './info.js';

/** `pgbackrest info --output=json` for the target's stanza; undefined when the stanza does not exist yet. */
export async function readStanzaInfo(pb: Pgbackrest, signal?: AbortSignal): Promise<StanzaInfo | undefined> {
  const r = await runPgbackrest(pb, 'info', ['--output=json'], { capture: true, signal });
  // info reports an unreadable repository in its JSON (with raw bytes of the garbage it decrypted).
  if (isWrongCipherPass(pb, r.stdout)) throw wrongCipherPass(pb, { tool: 'pgbackrest', command: 'info' });
  const stanza = parseInfo(r.stdout).find((s) => s.name === pb.stanza);
  if (!stanza || (stanza.status.code === STATUS_MISSING_STANZA && stanza.db.length === 0)) return undefined;
  return stanza;
}

/**
 * Refuses a stanza that serves another cluster, naming both system ids. pgBackRest's own refusal
 * (stanza-create's error 028) names neither.
 */
export function checkStanzaSystem(pb: Pgbackrest, info: StanzaInfo | undefined, serverSystemId: string): void {
  const db = info && currentDb(info);
  if (db && db.systemId !== serverSystemId) throw otherSystem(pb, db.systemId, serverSystemId);
}

/**
 * Creates the stanza (the repository's backup.info and archive.info for this cluster), or checks
 * that the existing one is this cluster's: running it again is harmless.
 */
export async function stanzaCreate(ctx: EngineContext, pb: Pgbackrest, serverSystemId: string): Promise<StanzaInfo> {
  checkStanzaSystem(pb, await readStanzaInfo(pb, ctx.signal), serverSystemId);
  await ctx.step('stanza-create', () => runPgbackrest(pb, 'stanza-create', [], { signal: ctx.signal, onEvent: forwardToolEvents(ctx) }));
  return (await readStanzaInfo(pb, ctx.signal))!;
}

/**
 * `pgbackrest check`: connects, forces a WAL switch and waits until that segment is in the
 * repository, which proves archive_command pushes to this stanza.
 */
export async function stanzaCheck(ctx: EngineContext, pb: Pgbackrest): Promise<void> {
  await ctx.step('check', () => runPgbackrest(pb, 'check', [], { signal: ctx.signal, onEvent: forwardToolEvents(ctx) }));
}
