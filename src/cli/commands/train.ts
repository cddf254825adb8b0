import { resolveConfigDir } from '../../config/paths.js';
import { parsePort } from '../../config/target.js';
import { formatDuration } from '../../config/duration.js';
import { usage } from '../../errors.js';
import type { Job } from '../../ops/job.js';
import { readTrainingSession, startDisaster, startEndTraining, startRepair, startScore } from '../../ops/training.js';
import { DISASTER_KINDS, isDisasterKind, trainingGuide, type TrainingScore, type TrainingSession } from '../../training/session.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';
import { usageLine } from '../command-table.js';

const USAGE = usageLine('train');

/**
 * Training without the console (the same engine as screen 6): cause a disaster on the sandbox,
 * recover it with `dbdrill restore` or a repair, and have the recovery scored by RTO and RPO.
 */
export async function trainCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { disaster: { type: 'string' }, port: { type: 'string' } }, USAGE);
  const name = requirePositional(p, 0, 'The sandbox target NAME', USAGE);
  const action = requirePositional(p, 1, 'The training action (start, status, repair, score or end)', USAGE);
  noExtraPositionals(p, 2, USAGE);
  const configDir = resolveConfigDir(str(p, 'config'));
  const out = new Output(p.values.json === true);
  const follow = async <R>(job: Job<R>): Promise<R> => {
    out.follow(job);
    return job.result;
  };
  switch (action) {
    case 'start': {
      const kind = str(p, 'disaster');
      if (!kind || !isDisasterKind(kind)) throw usage(`--disaster ${kind ?? ''} is not a training disaster; use one of ${DISASTER_KINDS.join(', ')}.`.replace('  ', ' '));
      const s = await follow(startDisaster(configDir, name, kind, interruptSignal()));
      out.result(s, () => guideText(s));
      return 0;
    }
    case 'status': {
      const s = readTrainingSession(configDir, name);
      out.result({ session: s ?? null }, () => (s ? guideText(s) : `No training session on ${name}; start one with dbdrill train ${name} start --disaster drop-table.`));
      return 0;
    }
    case 'repair': {
      const s = await follow(startRepair(configDir, name, interruptSignal()));
      out.result(s, `Archiving on ${name} is repaired (archive_command is as before); score it with dbdrill train ${name} score.`);
      return 0;
    }
    case 'score': {
      const port = str(p, 'port');
      const score = await follow(startScore(configDir, name, port === undefined ? {} : { port: parsePort(port, '--port') }, interruptSignal()));
      out.result(score, () => scoreText(score));
      return score.dataOk ? 0 : 1;
    }
    case 'end': {
      await follow(startEndTraining(configDir, name, interruptSignal()));
      out.result({ ok: true }, `The training on ${name} is over: the sandbox is as it was.`);
      return 0;
    }
    default:
      throw usage(`Unknown training action "${action}"; usage: ${USAGE}.`);
  }
}

function guideText(s: TrainingSession): string {
  return trainingGuide(s).map((g) => `${g.done ? '[x]' : '[ ]'} ${g.text}`).join('\n');
}

function scoreText(sc: TrainingScore): string {
  return [
    `Score ${sc.points}/100: ${sc.verdict}`,
    `  data  ${sc.dataDetail}`,
    `  RTO   ${formatDuration(sc.rtoSeconds)} (objective ${formatDuration(sc.rtoObjectiveSeconds)}) ${sc.rtoOk ? 'OK' : 'FAIL'}`,
    `  RPO   ${formatDuration(sc.rpoSeconds)} (objective ${formatDuration(sc.rpoObjectiveSeconds)}) ${sc.rpoOk ? 'OK' : 'FAIL'}`,
  ].join('\n');
}
