import { resolveConfigDir } from '../../config/paths.js';
import { usage } from '../../errors.js';
import { runStream } from '../../ops/stream.js';
import { installStreamUnit, streamUnit } from '../../ops/stream-unit.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { usageLine } from '../command-table.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';

const USAGE = usageLine('stream');

export async function streamCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { synchronous: { type: 'boolean' }, 'install-systemd': { type: 'boolean' }, apply: { type: 'boolean' }, dir: { type: 'string' } }, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const configDir = resolveConfigDir(str(p, 'config'));
  const out = new Output(p.values.json === true);
  const synchronous = p.values.synchronous === true;
  const dir = str(p, 'dir');
  if (!p.values['install-systemd'] && (p.values.apply || dir !== undefined)) throw usage(`--apply and --dir go with --install-systemd; usage: ${USAGE}.`);
  if (dir !== undefined && !dir.startsWith('/')) throw usage(`--dir "${dir}" must be an absolute path.`);
  if (p.values['install-systemd']) {
    const unit = p.values.apply ? installStreamUnit(configDir, name, synchronous, dir) : streamUnit(configDir, name, synchronous, dir);
    for (const w of unit.warnings) out.log(`WARN ${w}`);
    out.result(unit, () =>
      unit.written
        ? `wrote ${unit.written}\nenable it with: systemctl daemon-reload && systemctl enable --now ${unit.name}`
        : `# ${unit.dir}/${unit.name}\n${unit.content}\n# Install with: dbdrill stream ${name} --install-systemd${synchronous ? ' --synchronous' : ''} --apply (as root)`,
    );
    return 0;
  }
  const signal = interruptSignal();
  const summary = await runStream(configDir, name, { synchronous, signal, log: (l) => out.log(l) });
  out.result(summary, () =>
    [
      `stream of ${summary.target} stopped: ${summary.moved} file(s) moved into the archive, pg_receivewal started ${summary.starts} time(s)`,
      ...summary.refused.map((r) => `REFUSED ${r.name}: ${r.reason}`),
    ].join('\n'),
  );
  return summary.refused.length > 0 ? 1 : 0;
}
