import { resolveConfigDir } from '../../config/paths.js';
import { parseDuration } from '../../config/duration.js';
import { DbdrillError, usage } from '../../errors.js';
import { formatReport, formatWatchLine } from '../../health/format.js';
import { checkHealth, exitCodeOf, openHealthSampler, renderPromTextfile, watchSampler, type HealthReport } from '../../ops/health.js';
import { writeFileAtomic } from '../../repo/atomic.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';
import { usageLine } from '../command-table.js';

const USAGE = usageLine('health');

/** --interval takes seconds ("5", "0.5") or a duration ("1m"). */
function parseInterval(text: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : parseDuration(text, '--interval');
  if (!(seconds >= 0.2 && seconds <= 86400)) throw usage(`--interval "${text}" is out of range; give seconds from 0.2 to 86400, e.g. --interval 5.`);
  return seconds;
}

/**
 * Checks archiving and backup health once (exit 0 OK, 3 WARN, 4 CRIT, Nagios style; see
 * checkHealth for how a one-shot run gets its evidence), or with --watch once per interval until
 * Ctrl-C, a line (or with --json a JSON document) per sample. --prom rewrites a Prometheus
 * textfile atomically after every sample.
 */
export async function healthCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { watch: { type: 'boolean' }, interval: { type: 'string' }, prom: { type: 'string' } }, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const watch = p.values.watch === true;
  const intervalText = str(p, 'interval');
  if (intervalText !== undefined && !watch) throw usage(`--interval only applies with --watch; usage: ${USAGE}.`);
  const intervalMs = Math.round((intervalText === undefined ? 5 : parseInterval(intervalText)) * 1000);
  const prom = str(p, 'prom');
  const out = new Output(p.values.json === true);
  const configDir = resolveConfigDir(str(p, 'config'));

  const writeProm = (r: HealthReport) => {
    // Atomic, so node_exporter never reads half a file. 0600 like every file dbdrill writes: the
    // textfile collector must run as the same user (or root) to read it.
    if (!prom) return;
    try {
      writeFileAtomic(prom, renderPromTextfile([r]));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new DbdrillError('failed', `Cannot write the Prometheus textfile ${prom} (${code}); check the path and its permissions.`);
    }
  };

  if (!watch) {
    const report = await checkHealth(configDir, name, {
      // Not a failure of the check: the next run just starts without this run's samples.
      onHistoryError: (why) => out.log(`dbdrill: note: the health samples ${why}; the next run sees only its own.`),
    });
    writeProm(report);
    out.result(report, () => formatReport(report));
    return exitCodeOf(report.status);
  }

  let last: HealthReport | undefined;
  for await (const report of watchSampler(openHealthSampler(configDir, name), intervalMs, interruptSignal())) {
    last = report;
    writeProm(report);
    // A stream: one compact JSON document per line (NDJSON), so a consumer can parse each sample
    // as it comes; without --json, exactly one text line per sample.
    // Each line leaves out the history: the stream itself is the history.
    process.stdout.write(out.json ? `${JSON.stringify({ ...report, history: undefined })}\n` : `${formatWatchLine(report)}\n`);
  }
  // Stopped by Ctrl-C: the exit code still tells how the last sample looked.
  return last ? exitCodeOf(last.status) : 1;
}
