import { resolveConfigDir } from '../../config/paths.js';
import { readWindow } from '../../ops/pitr.js';
import { describeMysqlWindow } from '../../binlog/window.js';
import { TargetStore } from '../../config/store.js';
import { describeWindow, type RecoverableWindow } from '../../pitr/window.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { Output } from '../output.js';
import { usageLine } from '../command-table.js';
import { engineEntry } from '../../engines/registry.js';

const USAGE = usageLine('window');

export async function windowCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, {}, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const out = new Output(p.values.json === true);
  const w = await readWindow(resolveConfigDir(str(p, 'config')), name);
  out.result(w, () =>
    isMysqlTarget(str(p, 'config'), name) ? mysqlText(w) : [
      `recoverable: ${describeWindow(w)}`,
      `archive:     ${w.segments} segment(s) on timeline(s) ${w.timelines.join(', ') || '—'}${w.newestSegment ? `, newest ${w.newestSegment}` : ''}${w.newestArchivedAt ? ` archived ${w.newestArchivedAt}` : ''}`,
      ...(w.perTimeline ?? []).map((t) => `  timeline ${t.timeline}: ${t.segments} segment(s), ${t.first}…${t.last}${t.timeline > 1 ? (t.history ? ', history archived' : ', NO history file') : ''}`),
      ...w.ranges.map((r) => `  from backup ${r.backup} (timeline ${r.timeline}): ${r.from} → ${r.to}`),
      ...(w.gaps.length ? w.gaps.map((g) => `GAP  timeline ${g.timeline}: ${g.from}…${g.to} missing (${g.missing} segment(s))`) : ['gaps:        none']),
    ].join('\n'),
  );
  return 0;
}

function isMysqlTarget(config: string | undefined, name: string): boolean {
  return engineEntry(new TargetStore(resolveConfigDir(config)).get(name).engine).archive === 'binlog';
}

/** The window in binlog terms: files instead of segments, no timelines. */
function mysqlText(w: RecoverableWindow): string {
  return [
    `recoverable: ${describeMysqlWindow(w)}`,
    `archive:     ${w.segments} binlog file(s)${w.newestSegment ? `, newest ${w.newestSegment}` : ''}${w.newestArchivedAt ? ` archived ${w.newestArchivedAt}` : ''}`,
    ...w.ranges.map((r) => `  from backup ${r.backup}: ${r.from} → ${r.to}`),
    ...(w.gaps.length ? w.gaps.map((g) => `GAP  ${g.from === g.to ? g.from : `${g.from}…${g.to}`} missing (${g.missing} file(s))`) : ['gaps:        none']),
  ].join('\n');
}
