import { resolveConfigDir } from '../../config/paths.js';
import { readWindow } from '../../ops/pitr.js';
import { describeWindow } from '../../pitr/window.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { Output } from '../output.js';

const USAGE = 'dbdrill window NAME [--json]';

export async function windowCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, {}, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const out = new Output(p.values.json === true);
  const w = await readWindow(resolveConfigDir(str(p, 'config')), name);
  out.result(w, () =>
    [
      `recoverable: ${describeWindow(w)}`,
      `archive:     ${w.segments} segment(s) on timeline(s) ${w.timelines.join(', ') || '—'}${w.newestSegment ? `, newest ${w.newestSegment}` : ''}${w.newestArchivedAt ? ` archived ${w.newestArchivedAt}` : ''}`,
      ...w.ranges.map((r) => `  from backup ${r.backup} (timeline ${r.timeline}): ${r.from} → ${r.to}`),
      ...(w.gaps.length ? w.gaps.map((g) => `GAP  timeline ${g.timeline}: ${g.from}…${g.to} missing (${g.missing} segment(s))`) : ['gaps:        none']),
    ].join('\n'),
  );
  return 0;
}
