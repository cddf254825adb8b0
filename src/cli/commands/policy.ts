import { usageLine } from '../command-table.js';
import { resolveConfigDir } from '../../config/paths.js';
import { JOBS, policyFieldLabel, type Policy } from '../../config/policy.js';
import { usage } from '../../errors.js';
import { setPolicy, showPolicy, type PolicyChanges, type PolicyView } from '../../ops/policy.js';
import { noExtraPositionals, parseCommand, requirePositional, str, type Parsed } from '../args.js';
import { Output } from '../output.js';
import { table } from '../text-table.js';
import { retentionWords } from '../../config/retention-words.js';

const SET = usageLine('policy', 'set');
const SHOW = usageLine('policy', 'show');
const USAGE = usageLine('policy');

const RETENTION_FLAGS = { 'keep-full': 'keepFull', 'keep-diff': 'keepDiff', 'keep-days': 'keepDays', 'keep-archive': 'keepArchive', gfs: 'gfs' } as const;
const OTHER_FLAGS = ['rpo', 'rto', 'time-limit'] as const;
const OPTIONS = Object.fromEntries([...JOBS, ...Object.keys(RETENTION_FLAGS), ...OTHER_FLAGS].map((f) => [f, { type: 'string' as const }]));

const flagLabel = policyFieldLabel('--');

export async function policyCommand(argv: string[]): Promise<number> {
  const sub = argv[0];
  if (sub === 'set') return policySet(argv.slice(1));
  if (sub === 'show') return policyShow(argv.slice(1));
  throw usage(sub === undefined ? `policy needs set or show; usage: ${USAGE}.` : `policy ${sub} is not known; usage: ${USAGE}.`);
}

/** "off" (or "none") removes a setting. */
const valueOf = (p: Parsed, flag: string): string | null | undefined => {
  const v = str(p, flag);
  if (v === undefined) return undefined;
  return /^(off|none)$/i.test(v.trim()) ? null : v;
};

async function policySet(argv: string[]): Promise<number> {
  const p = parseCommand(argv, OPTIONS, SET);
  const name = requirePositional(p, 0, 'The target NAME', SET);
  noExtraPositionals(p, 1, SET);
  const changes: PolicyChanges = { schedule: {}, retention: {} };
  for (const job of JOBS) {
    const v = valueOf(p, job);
    if (v !== undefined) changes.schedule![job] = v;
  }
  for (const [flag, key] of Object.entries(RETENTION_FLAGS)) {
    const v = valueOf(p, flag);
    if (v !== undefined) changes.retention![key] = v;
  }
  const tl = valueOf(p, 'time-limit');
  if (tl !== undefined) changes.timeLimit = tl;
  for (const k of ['rpo', 'rto'] as const) {
    const v = valueOf(p, k);
    if (v !== undefined) changes[k] = v;
  }
  const given = Object.keys(changes.schedule!).length + Object.keys(changes.retention!).length + (['timeLimit', 'rpo', 'rto'] as const).filter((k) => changes[k] !== undefined).length;
  if (given === 0) throw usage(`Nothing to set; give at least one setting, e.g. --full "0 2 * * 0" --keep-full 4; usage: ${SET}.`);
  const configDir = resolveConfigDir(str(p, 'config'));
  setPolicy(configDir, name, changes, flagLabel);
  const view = showPolicy(configDir, name);
  new Output(p.values.json === true).result({ ok: true, ...view }, () => `Policy of ${name} saved.\n${render(view)}`);
  return 0;
}

async function policyShow(argv: string[]): Promise<number> {
  const p = parseCommand(argv, {}, SHOW);
  const name = requirePositional(p, 0, 'The target NAME', SHOW);
  noExtraPositionals(p, 1, SHOW);
  const view = showPolicy(resolveConfigDir(str(p, 'config')), name);
  new Output(p.values.json === true).result(view, () => render(view));
  return 0;
}

const utc = (d?: Date | string) => (d === undefined ? '—' : new Date(d).toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, 'Z'));

function render(v: PolicyView): string {
  const lines = [
    `target:     ${v.target}`,
    `objectives: RPO ${v.rpo ?? '—'}, RTO ${v.rto ?? '—'}`,
    `retention:  ${retentionWords(v.policy?.retention) ?? 'none (prune keeps everything)'}`,
    `time limit: ${v.policy?.timeLimit ?? '24h (default)'} per job`,
  ];
  if (v.jobs.length === 0) lines.push('schedule:   none (tick runs nothing for this target)');
  else {
    lines.push('schedule (UTC):');
    lines.push(table(['JOB', 'CRON', 'LAST SERVED', 'NEXT', 'NOW'], v.jobs.map((j) => [j.job, j.schedule, utc(j.servedAt), utc(j.next), j.due ? 'due' : '—'])));
  }
  return lines.join('\n');
}
