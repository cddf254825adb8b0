import { resolveConfigDir } from '../../config/paths.js';
import { parsePort } from '../../config/target.js';
import { usage } from '../../errors.js';
import { namedSandboxStatus, startNamedSandbox, stopNamedSandbox } from '../../ops/sandbox.js';
import type { SandboxEngine } from '../../sandbox/index.js';
import { noExtraPositionals, parseCommand, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';
import { usageLine } from '../command-table.js';
import { engineEntry } from '../../engines/registry.js';
import { ENGINES } from '../../config/engines.js';
import { METHODS } from '../../config/methods.js';
import type { SandboxStopReport } from '../../ops/sandbox.js';
import { formatBytes } from '../../util/bytes.js';

const USAGE = usageLine('sandbox');

export async function sandboxCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseCommand(rest, { engine: { type: 'string' }, port: { type: 'string' }, remove: { type: 'boolean' }, method: { type: 'string' } }, USAGE);
  noExtraPositionals(p, 0, USAGE);
  const engineText = str(p, 'engine') ?? 'postgres';
  if (!(ENGINES as readonly string[]).includes(engineText)) throw usage(`--engine "${engineText}" is not supported; use --engine postgres or --engine mysql.`);
  const engine = engineText as SandboxEngine;
  const configDir = resolveConfigDir(str(p, 'config'));
  const out = new Output(p.values.json === true);
  if (p.values.remove === true && sub !== 'stop') throw usage('--remove goes with sandbox stop only; it removes what a stopped sandbox left.');
  const method = str(p, 'method');
  if (method !== undefined && sub !== 'start') throw usage('--method goes with sandbox start only; it chooses how the new sandbox is backed up.');
  if (method !== undefined && !METHODS[engine].includes(method)) throw usage(`--method "${method}" is not a ${engine} backup method; use ${METHODS[engine].map((m) => `--method ${m}`).join(' or ')}.`);

  switch (sub) {
    case 'start': {
      const port = str(p, 'port');
      const job = startNamedSandbox(configDir, engine, { port: port === undefined ? undefined : parsePort(port), ...(method !== undefined ? { method } : {}) }, interruptSignal());
      out.follow(job);
      const r = await job.result;
      out.result(r, () =>
        [
          `${r.alreadyRunning ? 'Already running' : 'Started'}: ${engine} sandbox ${r.info.version} on ${r.info.host}:${r.info.port} as target "${r.target.name}" (database ${r.target.dbname}).`,
          `Try: dbdrill target test ${r.target.name}; dbdrill backup ${r.target.name} --kind logical; stop it with dbdrill sandbox stop${engineEntry(engine).sandboxFlag}.`,
        ].join('\n'),
      );
      return 0;
    }
    case 'stop': {
      const r = await stopNamedSandbox(configDir, engine, { remove: p.values.remove === true });
      out.result(r, () => stopText(engine, r));
      return 0;
    }
    case 'status': {
      const r = await namedSandboxStatus(configDir, engine);
      out.result(r, () =>
        !r.exists
          ? `No ${engine} sandbox; start one with dbdrill sandbox start${engineEntry(engine).sandboxFlag}.`
          : `${r.status!.running ? 'OK   running' : 'DOWN not running'}: ${engine} sandbox ${r.info!.version} on ${r.info!.host}:${r.info!.port}, pid ${r.info!.pid}, data in ${r.info!.dataDir}`,
      );
      return 0;
    }
    default:
      throw usage(sub ? `Unknown sandbox command "${sub}"; use start, stop or status.` : `A sandbox command is missing; usage: ${USAGE}.`);
  }
}

/** What stop did, then each thing left on disk with its size, and how to remove them. */
function stopText(engine: SandboxEngine, r: SandboxStopReport): string {
  const lines = [r.stopped ? `Stopped the ${engine} sandbox and removed target "${r.target}".` : `No ${engine} sandbox is running.`];
  for (const s of r.restoresStopped) lines.push(`Stopped restored server ${s.name} (127.0.0.1:${s.port}, pid ${s.pid}).`);
  const list = (items: SandboxStopReport['left']) => {
    const w = Math.max(...items.map((l) => formatBytes(l.bytes).length));
    return items.map((l) => `  ${formatBytes(l.bytes).padStart(w)}  ${l.what === 'repository' ? 'repository' : 'restored  '}  ${l.path}`);
  };
  const total = (items: SandboxStopReport['left']) => formatBytes(items.reduce((n, l) => n + l.bytes, 0));
  if (r.removed.length) lines.push(`Removed ${total(r.removed)}:`, ...list(r.removed));
  if (r.left.length) {
    lines.push(`Left on disk, ${total(r.left)}:`, ...list(r.left));
    lines.push(`Remove them with: dbdrill sandbox stop${engineEntry(engine).sandboxFlag} --remove`);
  } else if (!r.removed.length) lines.push('Nothing of it is left on disk.');
  return lines.join('\n');
}
