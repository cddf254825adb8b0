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

const USAGE = usageLine('sandbox');

export async function sandboxCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseCommand(rest, { engine: { type: 'string' }, port: { type: 'string' } }, USAGE);
  noExtraPositionals(p, 0, USAGE);
  const engineText = str(p, 'engine') ?? 'postgres';
  if (!(ENGINES as readonly string[]).includes(engineText)) throw usage(`--engine "${engineText}" is not supported; use --engine postgres or --engine mysql.`);
  const engine = engineText as SandboxEngine;
  const configDir = resolveConfigDir(str(p, 'config'));
  const out = new Output(p.values.json === true);

  switch (sub) {
    case 'start': {
      const port = str(p, 'port');
      const job = startNamedSandbox(configDir, engine, { port: port === undefined ? undefined : parsePort(port) }, interruptSignal());
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
      const r = await stopNamedSandbox(configDir, engine);
      out.result(r, r.stopped ? `Stopped the ${engine} sandbox and removed target "${r.target}"${r.repo ? `; its backups stay in ${r.repo}` : ''}.` : `No ${engine} sandbox is running.`);
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
