import { formatBytes } from '../../src/util/bytes.js';
import type { StrategyPlan, StrategyView } from '../api.js';
import { hangingLines } from '../text/width.js';
import { retentionWords } from '../../src/config/retention-words.js';

/** One line of the Strategy pane; a tone the view colours (and NO_COLOR shows by its words). */
export interface PaneLine {
  key: string;
  text: string;
  tone?: 'bad' | 'warn' | 'good' | 'dim' | 'head';
}

const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const hhmm = (iso: string) => iso.slice(11, 16);
/** "12-07 02:00Z": the year is the one at the top of the screen. */
const short = (iso: string) => `${iso.slice(5, 10)} ${hhmm(iso)}Z`;

/**
 * Everything the Strategy screen shows under its title, as whole lines for `width` cells: long
 * sentences wrap at spaces under their own text (never cut mid-word), so the pane scrolls by line.
 * Sections: the policy (each job's schedule, next run and last served), the week ahead, the last
 * runs, what the next prune removes and why, the forecast and the objectives.
 */
export function strategyLines(view: StrategyView, forecast: StrategyPlan | undefined, forecastError: string | undefined, width: number): PaneLine[] {
  const out: PaneLine[] = [];
  let n = 0;
  /** `text` after a `lead` of `hang` cells, the rest of it wrapped under itself. */
  const add = (lead: string, text: string, tone?: PaneLine['tone']) => {
    const hang = lead.length;
    hangingLines(text, width, hang).forEach((l, i) => out.push({ key: `l${n++}`, text: `${i === 0 ? lead : ' '.repeat(hang)}${l}`, ...(tone ? { tone } : {}) }));
  };
  const head = (text: string) => out.push({ key: `h${n++}`, text, tone: 'head' });
  const gap = () => out.push({ key: `g${n++}`, text: ' ' });

  head('Policy (UTC)');
  add('  ', `RPO ${view.rpo ?? '—'} · RTO ${view.rto ?? '—'} · time limit ${view.policy?.timeLimit ?? '24h'} per job`);
  if (view.jobs.length === 0) add('  ', 'No schedule: tick runs nothing for this target. e sets one.', 'warn');
  const jobWidth = Math.max(4, ...view.jobs.map((j) => j.job.length));
  for (const j of view.jobs) {
    const when = `${j.next ? `next ${short(j.next)}` : 'no next run'} · ${j.servedAt ? `last ${short(j.servedAt)}` : 'never run'}${j.due ? ' · DUE' : ''}`;
    add(`  ${j.job.padEnd(jobWidth)}  `, `${j.schedule} · ${when}`, j.due ? 'warn' : undefined);
  }
  add('  keep  ', retentionWords(view.policy?.retention) ?? 'no retention: prune keeps everything and the repository grows.', view.policy?.retention ? undefined : 'warn');

  gap();
  head('Week ahead (UTC)');
  for (const d of view.week) {
    const date = new Date(`${d.day}T00:00:00Z`);
    const runs = d.runs.map((r) => (r.count === 1 ? `${r.job} ${hhmm(r.first)}` : `${r.job} ×${r.count} from ${hhmm(r.first)}`)).join(' · ');
    add(`  ${WEEKDAY[date.getUTCDay()]} ${d.day.slice(5)}  `, runs || '—', runs ? undefined : 'dim');
  }

  gap();
  head('Last runs');
  if (view.runs.length === 0) add('  ', 'None yet: dbdrill tick has not run a job of this target.', 'dim');
  for (const r of view.runs) {
    const mark = r.status === 'ok' ? 'OK  ' : r.status === 'running' ? 'RUN ' : 'FAIL';
    const took = r.finishedAt ? ` (${Math.max(0, Math.round((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000))}s)` : '';
    add(`  ${mark} `, `${short(r.startedAt)} ${r.job} ${r.status}${took}${r.error ? `: ${r.error}` : ''}`, r.status === 'ok' ? 'good' : r.status === 'running' ? undefined : 'bad');
  }

  gap();
  head('Next prune (dry run)');
  const p = view.prune;
  if ('error' in p) add('  ', p.error, 'bad');
  else {
    if (p.backups.length === 0 && p.archive.files === 0) add('  ', `Removes nothing; keeps all ${p.kept} backup(s).`, 'dim');
    else add('  ', `Removes ${p.backups.length} backup(s) (${formatBytes(p.backups.reduce((s, b) => s + b.sizeBytes, 0))}) and ${p.archive.files} archive file(s) (${formatBytes(p.archive.bytes)}); keeps ${p.kept}.`, 'warn');
    for (const b of p.backups) add('  - ', `${b.id} (${formatBytes(b.sizeBytes)}): ${b.reasons.join('; ')}`);
    if (p.archive.files > 0) add('  - ', `archive before ${p.archive.from ?? 'the oldest kept backup'}: ${p.archive.reason}`);
    else if (p.archive.reason) add('  ', `archive: ${p.archive.reason}`, 'dim');
  }

  gap();
  head('Forecast (steady state)');
  if (forecastError) add('  ', forecastError, 'bad');
  else if (!forecast) add('  ', 'Reading the sizes and the archive rate…', 'dim');
  else {
    for (const b of forecast.steady.backups) {
      add('  ', `${b.what}: ${b.kept} kept${b.bytesEach !== undefined ? ` × ${formatBytes(b.bytesEach)} = ${formatBytes(b.bytes ?? 0)}` : ' (size not measured yet)'}`);
    }
    const a = forecast.steady.archive;
    if (a) add('  ', `archive: ${a.days} days${a.bytesPerDay !== undefined ? ` × ${formatBytes(a.bytesPerDay)}/day = ${formatBytes(a.bytes ?? 0)}` : ' (rate not measured yet)'}`);
    // The forecast's notes end with the total ("steady state about …").
    for (const note of forecast.steady.notes) add('  ', note, 'dim');
    for (const [name, o] of [['RPO', forecast.objectives.rpo], ['RTO', forecast.objectives.rto]] as const) {
      add(`  ${name} `, `${o.objective ? `${o.objective}: ` : ''}${o.assessment}`, o.ok === false ? 'bad' : o.ok ? 'good' : undefined);
    }
  }
  return out;
}
