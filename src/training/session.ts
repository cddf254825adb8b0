import { invalid } from '../errors.js';
import type { TableStat } from '../repo/manifest.js';

/**
 * Training: a trainee causes a disaster on the sandbox, recovers with the same screens an incident
 * responder uses, and is scored by RTO and RPO. This file holds the session's shape, the guide
 * and the scoring — pure, so the console and the headless command agree on them.
 */
export const DISASTER_KINDS = ['drop-table', 'delete-rows', 'break-archiving'] as const;
export type DisasterKind = (typeof DISASTER_KINDS)[number];

export interface DisasterInfo {
  kind: DisasterKind;
  title: string;
  /** What the trainee is about to do, one sentence. */
  blurb: string;
  /** How it is recovered: a point-in-time restore, or repairing the archiver. */
  recovery: 'restore' | 'repair';
}

export const DISASTERS: readonly DisasterInfo[] = [
  { kind: 'drop-table', title: 'Drop a table', blurb: 'DROP TABLE order_items: 4000 order lines gone in one statement.', recovery: 'restore' },
  { kind: 'delete-rows', title: 'Delete rows', blurb: 'DELETE FROM order_items WHERE line_no = 2: half the order lines, no WHERE-clause review.', recovery: 'restore' },
  {
    kind: 'break-archiving',
    title: 'Break archive_command',
    blurb: 'archive_command exits 200: PostgreSQL stops archiving WAL and its own failure counter does not notice.',
    recovery: 'repair',
  },
];

export function disasterInfo(kind: DisasterKind): DisasterInfo {
  return DISASTERS.find((d) => d.kind === kind)!;
}

export function isDisasterKind(s: string): s is DisasterKind {
  return (DISASTER_KINDS as readonly string[]).includes(s);
}

/** The table the data disasters hit. */
export const TRAINING_TABLE = 'public.order_items';

export interface TrainingRestore {
  /** When the restored server was ready (the end of the trainee's RTO). */
  at: string;
  port: number;
  dataDir: string;
  pid?: number;
  /** The last commit the restore replayed (what the trainee kept). */
  lastCommitAt?: string;
  /** The moment the trainee asked for. */
  requested: string;
}

export interface TrainingScore {
  /** Data as it was (restores), or archiving caught up (repair). */
  dataOk: boolean;
  dataDetail: string;
  rtoSeconds: number;
  rpoSeconds: number;
  rtoObjectiveSeconds: number;
  rpoObjectiveSeconds: number;
  rtoOk: boolean;
  rpoOk: boolean;
  /** 0–100: nothing without the data; objectives missed cost a quarter each. */
  points: number;
  verdict: string;
  at: string;
}

export interface TrainingSession {
  formatVersion: 1;
  target: string;
  kind: DisasterKind;
  startedAt: string;
  /** The newest moment at which the data was still whole: the best point to restore to. */
  lastGoodAt: string;
  /** When the disaster committed (or archiving broke). */
  disasterAt: string;
  /** What happened, one sentence, for the guide. */
  what: string;
  /** The hit table as it was just before the disaster (data disasters). */
  before?: TableStat;
  /** The base backup a restore can start from. */
  baseBackup?: string;
  /** archive_command before it was broken, to put back on repair. */
  archiveCommand?: string;
  restore?: TrainingRestore;
  repairedAt?: string;
  objectives: { rtoSeconds: number; rpoSeconds: number };
  score?: TrainingScore;
}

/** Objectives of a training run when the sandbox target sets none: a trainee at the keyboard. */
export const TRAINING_OBJECTIVES = { rtoSeconds: 15 * 60, rpoSeconds: 60 } as const;

export interface GuideStep {
  text: string;
  done: boolean;
}

/**
 * The whole second just after the last good commit: before the disaster (which comes over a
 * second later), and late enough to keep every good commit.
 */
export function suggestedTime(s: Pick<TrainingSession, 'lastGoodAt' | 'disasterAt'>): string {
  const t = Math.ceil(Date.parse(s.lastGoodAt) / 1000) * 1000;
  const at = t < Date.parse(s.disasterAt) ? t : Date.parse(s.lastGoodAt);
  return new Date(at).toISOString().replace(/\.000Z$/, 'Z');
}

const hms = (iso: string) => new Date(iso).toISOString().slice(11, 19) + 'Z';

/** The walk-through, step by step, with what is done so far. */
export function trainingGuide(s: TrainingSession): GuideStep[] {
  const repair = disasterInfo(s.kind).recovery === 'repair';
  const happened = { text: `${s.what} (at ${hms(s.disasterAt)}; ${repair ? 'the last change archived in time was' : 'the data was last whole'} at ${hms(s.lastGoodAt)}).`, done: true };
  if (repair) {
    return [
      happened,
      { text: 'Open Health (5): the .ready backlog grows and nothing is archived; it turns CRIT although failed_count stays still.', done: s.repairedAt !== undefined },
      { text: 'Come back here (6) and press f to repair archiving (the archive_command from before is put back).', done: s.repairedAt !== undefined },
      { text: 'Watch Health return to OK as the backlog drains, then press s here to score.', done: s.score !== undefined },
    ];
  }
  return [
    happened,
    {
      text: `Open Restore (3). The window reaches past the disaster, so "latest" would restore it too: type a time just before it, e.g. ${suggestedTime(s)}.`,
      done: s.restore !== undefined,
    },
    { text: 'Press enter for the plan, type the target name to confirm, and wait for the restored server.', done: s.restore !== undefined },
    { text: 'Come back here (6) and press s: the restored server is checked and your RTO/RPO scored.', done: s.score !== undefined },
  ];
}

/** Scoring a restore needs the restored server: the one sentence when there is none yet. */
export function noRestoreYet(): Error {
  return invalid("No restore of this target was recorded yet: restore it on screen 3 (or give the restored server's --port) before scoring.");
}

export interface ScoreInput {
  session: TrainingSession;
  /** The hit table in the restored server (undefined: it is missing there). */
  restored?: TableStat | undefined;
  /** For a repair: whether the backlog drained and the archive moved past the break. */
  caughtUp?: { ok: boolean; detail: string };
  now: Date;
}

/** Scores a recovery: the data first (a fast restore of the wrong data is worth nothing), then RTO and RPO. */
export function scoreRecovery({ session: s, restored, caughtUp, now }: ScoreInput): TrainingScore {
  const disaster = Date.parse(s.disasterAt);
  let dataOk: boolean;
  let dataDetail: string;
  let rtoSeconds: number;
  let rpoSeconds: number;
  if (disasterInfo(s.kind).recovery === 'repair') {
    const repaired = s.repairedAt ? Date.parse(s.repairedAt) : now.getTime();
    dataOk = s.repairedAt !== undefined && (caughtUp?.ok ?? false);
    dataDetail = s.repairedAt === undefined ? 'archiving was not repaired yet (press f)' : (caughtUp?.detail ?? 'not checked');
    rtoSeconds = Math.max(0, (repaired - disaster) / 1000);
    // Had the server died before the repair, everything since the last archived change was lost.
    rpoSeconds = Math.max(0, (repaired - Date.parse(s.lastGoodAt)) / 1000);
  } else {
    const want = s.before!;
    const name = want.table.replace(/^public\./, '');
    if (!s.restore) throw noRestoreYet();
    {
      if (!restored) {
        dataOk = false;
        dataDetail = `${name} is missing in the restored server: the restore went past the disaster at ${hms(s.disasterAt)}`;
      } else if (restored.rows !== want.rows) {
        dataOk = false;
        dataDetail = `${name} has ${restored.rows} rows in the restored server, ${want.rows} before the disaster${restored.rows < want.rows && Date.parse(s.restore.requested) >= disaster ? ': the restore replayed the disaster' : ''}`;
      } else if (want.digest !== undefined && restored.digest !== want.digest) {
        dataOk = false;
        dataDetail = `${name} has all ${want.rows} rows but different contents than before the disaster`;
      } else {
        dataOk = true;
        dataDetail = `${name} is back with all ${want.rows} rows, contents as before the disaster`;
      }
      rtoSeconds = Math.max(0, (Date.parse(s.restore.at) - disaster) / 1000);
      const kept = s.restore.lastCommitAt ? Date.parse(s.restore.lastCommitAt) : Date.parse(s.startedAt);
      rpoSeconds = Math.max(0, (Math.min(disaster, Date.parse(s.lastGoodAt)) - kept) / 1000);
    }
  }
  const rtoOk = rtoSeconds <= s.objectives.rtoSeconds;
  const rpoOk = rpoSeconds <= s.objectives.rpoSeconds;
  const points = dataOk ? 100 - (rtoOk ? 0 : 25) - (rpoOk ? 0 : 25) : 0;
  const verdict = !dataOk
    ? 'Not recovered: the data is not as it was before the disaster.'
    : rtoOk && rpoOk
      ? 'Recovered within both objectives.'
      : `Recovered, but ${[!rtoOk ? 'too slowly (RTO)' : '', !rpoOk ? 'losing too much (RPO)' : ''].filter(Boolean).join(' and ')}.`;
  return {
    dataOk,
    dataDetail,
    rtoSeconds,
    rpoSeconds,
    rtoObjectiveSeconds: s.objectives.rtoSeconds,
    rpoObjectiveSeconds: s.objectives.rpoSeconds,
    rtoOk,
    rpoOk,
    points,
    verdict,
    at: now.toISOString(),
  };
}
