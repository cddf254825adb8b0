import { usageLine } from '../command-table.js';
import { resolveConfigDir } from '../../config/paths.js';
import { usage } from '../../errors.js';
import { installSchedule, scheduleUnits, type ScheduleUnits } from '../../ops/schedule-install.js';
import { noExtraPositionals, parseCommand, str } from '../args.js';
import { Output } from '../output.js';

const USAGE = usageLine('schedule');

export async function scheduleCommand(argv: string[]): Promise<number> {
  if (argv[0] !== 'install') throw usage(argv[0] === undefined ? `schedule needs install; usage: ${USAGE}.` : `schedule ${argv[0]} is not known; usage: ${USAGE}.`);
  const p = parseCommand(argv.slice(1), { cron: { type: 'boolean' }, systemd: { type: 'boolean' }, apply: { type: 'boolean' }, dir: { type: 'string' } }, USAGE);
  noExtraPositionals(p, 0, USAGE);
  if (p.values.cron && p.values.systemd) throw usage(`Give --cron or --systemd, not both; usage: ${USAGE}.`);
  const scheduler = p.values.systemd ? 'systemd' : 'cron';
  const dir = str(p, 'dir');
  if (dir !== undefined && !dir.startsWith('/')) throw usage(`--dir "${dir}" must be an absolute path.`);
  const configDir = resolveConfigDir(str(p, 'config'));
  const out = new Output(p.values.json === true);
  const units = p.values.apply ? await installSchedule(configDir, scheduler, dir) : scheduleUnits(configDir, scheduler, dir);
  for (const w of units.warnings) out.log(`WARN ${w}`);
  out.result(units, () => render(units));
  return 0;
}

function render(u: ScheduleUnits): string {
  if (u.applied) {
    return [...u.applied.written.map((w) => `wrote ${w}`), u.applied.enabled ? 'enabled and started dbdrill-tick.timer' : (u.applied.note ?? '')].filter(Boolean).join('\n');
  }
  return u.files.map((f) => `# ${u.dir}/${f.name}\n${f.content}`).join('\n') + `\n# Install with: dbdrill schedule install --${u.scheduler} --apply (as root)`;
}
