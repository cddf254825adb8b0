import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { CURSOR } from '../widgets/TextField/TextField.js';
import type { RestoreEstimate } from '../../src/drill/estimate.js';
import type { PitrReport } from '../../src/ops/pitr.js';
import type { AmbiguousSecond } from '../../src/binlog/window.js';
import { formatDuration } from '../../src/config/duration.js';
import { formatBytes } from '../../src/util/bytes.js';
import { utc, utcExact } from '../text/time.js';
import { fit, wrapText } from '../text/width.js';

export interface PlanViewProps {
  target: string;
  report: PitrReport;
  /** What the operator typed in the time field. */
  typed: string;
  /** The confirmation typed so far. */
  confirm: string;
  hint: string | undefined;
  /** MySQL/MariaDB: the operator's choice for the target second's transactions, once made. */
  second?: 'inclusive' | 'exclusive' | undefined;
  /** From this target's drills; undefined while they are read. */
  estimate?: RestoreEstimate;
  width: number;
  height: number;
}

const LABEL = 11;

/** A MySQL/MariaDB plan replays binlog files from a position (src/ops/pitr-mysql.ts reportPlan). */
export function isBinlogPlan(report: PitrReport): boolean {
  return report.plan.archive === 'binlog';
}

/**
 * The transactions of the target's second the operator chooses all or none of: offered by the
 * console's dry run (chooseSecond), or chosen already (the plan's own list). One place, so what the
 * plan shows and what the screen waits for cannot differ.
 */
export function secondListed(report: PitrReport | undefined): AmbiguousSecond | undefined {
  const p = report?.plan;
  return report?.chooseSecond ?? (p?.archive === 'binlog' ? p.ambiguousSecond : undefined);
}

/** The lines of a plan, label and text, wrapped to `width`. */
export function planLines(report: PitrReport, typed: string, width: number, estimate?: RestoreEstimate, second?: 'inclusive' | 'exclusive'): Array<[string, string]> {
  const p = report.plan;
  const room = Math.max(10, width - LABEL - 2);
  const out: Array<[string, string]> = [];
  const add = (label: string, text: string) => wrapText(text, room).forEach((line, i) => out.push([i === 0 ? label : '', line]));
  const t = p.target;
  add(
    'to',
    t.kind === 'time'
      ? `${utcExact(t.at, t.usec)} (UTC${typed.trim() !== t.at.toISOString() && typed.trim() !== utcExact(t.at, t.usec).replace(' ', 'T') ? `; typed "${typed.trim()}"` : ''})`
      : t.kind === 'latest'
        ? 'latest: everything archived is replayed'
        : t.kind === 'lsn'
          ? `LSN ${t.lsn}`
          : t.kind === 'xid'
            ? `transaction ${t.xid}`
            : t.kind === 'name'
              ? `restore point "${t.name}"`
              : t.kind === 'gtid'
                ? `after GTID ${t.gtid}`
                : t.kind === 'position'
                  ? `binlog ${t.file}:${t.position}`
                  : `the backup's own moment`,
  );
  // A second that holds several transactions: which came before the target cannot be told from
  // binlog events (whole seconds), so the operator chooses — shown first, where it cannot scroll away.
  const listed = secondListed(report);
  if (listed) {
    const n = listed.transactions.length + (listed.more ?? 0);
    add('second', `${utc(new Date(listed.second))} holds ${n} transaction${n === 1 ? '' : 's'}; binlog events carry whole seconds, so which came before the target cannot be told:`);
    for (const x of listed.transactions.slice(0, 4)) add('', `${x.gtid} at ${x.at.slice(11, 19)}${x.statement ? ` ${x.statement}` : ''}`);
    if (n > 4) add('', `and ${n - 4} more`);
    add('choose', second === undefined ? '← none of them (stop before that second) or → all of them' : second === 'exclusive' ? '› none of them (stop before that second); → all of them' : '› all of them (replay to the end of that second); ← none of them');
  }
  const settings = Object.entries(p.settings).map(([k, v]) => `${k}=${v}`).join('  ');
  if (p.archive === 'binlog') {
    add('backup', p.backup);
    add('binlogs', `${p.walFrom} … ${p.walTo}, ${p.segments} file${p.segments === 1 ? '' : 's'}`);
    add('size', `about ${formatBytes(p.estimatedBytes)} to copy`);
    if (estimate) add('time', timeText(estimate));
    add('replay', settings);
  } else {
    add('backup', `${p.backup}, timeline ${p.timeline}`);
    add('WAL', `${p.walFrom} … ${p.walTo}, ${p.segments} segment${p.segments === 1 ? '' : 's'}`);
    add('size', `about ${formatBytes(p.estimatedBytes)} to copy`);
    if (estimate) add('time', timeText(estimate));
    add('recovery', settings);
    // writeRecoveryConfig always adds these; shown so nobody wonders whether it pauses or archives.
    add('', 'then promote (recovery_target_action); archive_mode=off');
  }
  add('into', `${report.dataDir} (new or empty, checked)`);
  add('port', `${report.port} on 127.0.0.1 (free, checked)`);
  for (const n of p.notes) add('note', n);
  return out;
}

function timeText(e: RestoreEstimate): string {
  if (e.seconds === undefined) return 'unknown: no drill of this target has measured one yet (Drill, 4)';
  return `about ${formatDuration(e.seconds)} at ${formatBytes(e.bytesPerSecond!)}/s, the median of ${e.drills} drill${e.drills === 1 ? '' : 's'}`;
}

/** The dry run's plan, then the typed-name confirmation that gates the real run. */
export function PlanView({ target, report, typed, confirm, hint, second, estimate, width, height }: PlanViewProps): ReactNode {
  const lines = planLines(report, typed, width, estimate, second);
  const room = Math.max(0, height - 5 - (hint ? 1 : 0));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {`Plan: restore ${target} into a new server (dry run: nothing written yet)`}
      </Text>
      {lines.slice(0, room).map(([label, text], i) => (
        <Text key={i} wrap="truncate-end">
          {'  '}
          <Text bold>{fit(label, LABEL)}</Text>
          {text}
        </Text>
      ))}
      <Text> </Text>
      <Text wrap="truncate-end">
        {'Type '}
        <Text bold>{target}</Text>
        {' and press enter to start the restore (the source is never touched):'}
      </Text>
      <Text wrap="truncate-end">
        {'› '}
        {confirm}
        {CURSOR}
      </Text>
      {hint && (
        <Text color="yellow" wrap="truncate-end">
          {hint}
        </Text>
      )}
    </Box>
  );
}
