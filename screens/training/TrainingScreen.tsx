import { Box, Text, type Key } from 'ink';
import { useCallback, useEffect, type ReactNode } from 'react';
import { formatDuration } from '../../src/config/duration.js';
import type { Job } from '../../src/ops/job.js';
import { DISASTERS, disasterInfo, trainingGuide, type TrainingScore, type TrainingSession } from '../../src/training/session.js';
import { useApi } from '../App/ApiContext.js';
import { JobStore, oneSentence } from '../hooks/jobStore.js';
import { useRunFinished } from '../hooks/useRunFinished.js';
import { useElapsed } from '../hooks/useElapsed.js';
import { useJobEvents } from '../hooks/useJobEvents.js';
import { useMounted } from '../hooks/useMounted.js';
import { useSyncedReducer } from '../hooks/useSyncedReducer.js';
import type { KeyHint } from '../keys/keymap.js';
import { useScreenContext, useScreenKeys } from '../keys/ScreenKeys.js';
import { useBodySize } from '../layout/bodySize.js';
import { utc } from '../text/time.js';
import { hangingLines, wrapText } from '../text/width.js';
import { JobView } from '../widgets/JobView/JobView.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { editText, TextField } from '../widgets/TextField/TextField.js';
import { initialTraining, trainingReducer, type TrainingState } from './trainingState.js';
import { restoredLineCount, RestoredServersLines, STOP_KEY, useRestoredServers } from '../widgets/RestoredServers/RestoredServers.js';

const secs = (s: number) => formatDuration(s);

/**
 * Training: cause a disaster on the sandbox, then recover it with the real screens (Restore,
 * Health) while this screen guides and keeps the clock, and finally score the recovery by RTO
 * and RPO against the state before the disaster.
 */
export function TrainingScreen(): ReactNode {
  const api = useApi();
  const { active, go, select, changes } = useScreenContext();
  const { width, height } = useBodySize();
  const [state, dispatch, current] = useSyncedReducer(trainingReducer, initialTraining);
  const runSnap = useJobEvents(state.run?.store);
  const running = runSnap?.state === 'running';

  const mounted = useMounted();

  const refresh = useCallback(async () => {
    try {
      const targets = await api.listTargets();
      const sb = targets.find((t) => t.sandbox && t.engine === 'postgres')?.name ?? null;
      if (!mounted.current) return;
      dispatch({ type: 'sandbox', name: sb });
      dispatch({ type: 'session', session: sb ? await api.readTraining(sb) : undefined });
    } catch (e) {
      if (mounted.current) dispatch({ type: 'failed', error: oneSentence(e) });
    }
  }, [api, dispatch]);
  // Shown again after a restore elsewhere: the session may have recorded it.
  useEffect(() => {
    if (active) void refresh();
  }, [active, refresh]);
  const runState = runSnap?.state;
  useRunFinished(state.run?.store, runState, () => {
    void refresh();
    // A disaster takes a base backup first and archives WAL: Targets re-reads the sandbox's row.
    const sb = current().sandbox;
    if (sb) changes.notify(sb);
  });
  useEffect(() => () => state.run?.store.dispose(), [state.run]);

  // Restores of the sandbox leave servers running: listed here, X stops one (e stops them too).
  const servers = useRestoredServers(api, state.sandbox ?? undefined, active, `${runState ?? ''}:${state.session?.restore?.at ?? ''}`);

  const startRun = (title: string, job: Job<unknown>, doneText = 'Done: enter shows the guide.') =>
    dispatch({ type: 'run-started', run: { title, doneText, store: new JobStore(job) } });

  const onKey = (input: string, key: Key): boolean => {
    const s = current();
    if (s.runShown && s.run) {
      if (s.run.store.getSnapshot().state === 'running') return false;
      if (key.return || key.escape) {
        dispatch({ type: 'run-closed' });
        return true;
      }
      return false;
    }
    const sb = s.sandbox;
    if (!sb) return false;
    if (s.session && (servers.asking || input === STOP_KEY) && servers.onKey(input)) return true;
    if (s.confirming) {
      if (key.escape) dispatch({ type: 'confirm-close' });
      else if (key.return) {
        if (s.confirming.typed === sb) {
          const d = DISASTERS[s.choice]!;
          startRun(`Disaster on ${sb}: ${d.title.toLowerCase()}`, api.startDisaster(sb, d.kind), 'The disaster happened: enter shows how to recover it.');
          select(sb);
        } else dispatch({ type: 'confirm-hint', text: `Type the sandbox's name exactly ("${sb}") to go ahead, or esc.` });
      } else {
        const text = editText(s.confirming.typed, input, key);
        if (text !== undefined) dispatch({ type: 'confirm-type', text });
      }
      return true;
    }
    const session = s.session;
    if (!session) {
      if (key.downArrow || input === 'j') dispatch({ type: 'move', by: 1, count: DISASTERS.length });
      else if (key.upArrow || input === 'k') dispatch({ type: 'move', by: -1, count: DISASTERS.length });
      else if (key.return) dispatch({ type: 'confirm-open' });
      else return false;
      return true;
    }
    const repair = disasterInfo(session.kind).recovery === 'repair';
    if (input === 's') startRun(`Scoring the recovery of ${sb}`, api.scoreTraining(sb));
    else if (input === 'f' && repair) startRun(`Repairing archiving on ${sb}`, api.repairTraining(sb));
    else if (input === 'e') startRun(`Ending the training on ${sb}`, api.endTraining(sb), 'The sandbox is as it was: enter to pick another disaster.');
    else if (input === 'r' && !repair) {
      select(sb);
      go('restore', sb);
    } else if (input === 'h' && repair) {
      select(sb);
      go('health', sb);
    } else return false;
    return true;
  };
  useScreenKeys(onKey, hintsFor(state, running, servers.running.length > 0), state.confirming !== undefined);

  if (state.runShown && state.run && runSnap) {
    const result = runSnap.result as TrainingScore | TrainingSession | undefined;
    const done = result && 'points' in result ? `Scored ${result.points}/100: enter shows why.` : state.run.doneText;
    return <JobView title={state.run.title} snapshot={runSnap} doneText={done} width={width} height={height} />;
  }
  if (state.sandbox === null) {
    return (
      <Box width={width} height={height} overflow="hidden">
        <Text wrap="wrap">
          Training needs the training sandbox (a local PostgreSQL with archiving and sample data). Start it with dbdrill sandbox start, or on Targets (1) with no targets: enter.
        </Text>
      </Box>
    );
  }
  if (state.error) {
    return (
      <Text color="red" wrap="wrap">
        <StatusMarker marker="FAIL" /> {state.error}
      </Text>
    );
  }
  if (!state.loaded || state.sandbox === undefined) return <Text dimColor>Reading the training session…</Text>;
  // The menu is as tall as 60x20 allows; the servers line goes with the guide (which counts what
  // it cannot show), and Restore lists them whatever the training's state.
  if (!state.session) return <Menu state={state} width={width} height={height} />;
  const below = restoredLineCount(servers);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Guide session={state.session} width={width} height={height - below} />
      <RestoredServersLines servers={servers} width={width} />
    </Box>
  );
}

function Menu({ state, width, height }: { state: TrainingState; width: number; height: number }): ReactNode {
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">{`Training on ${state.sandbox}: cause a disaster, then recover it as you would at 3 a.m.`}</Text>
      <Text dimColor wrap="truncate-end">
        Your recovery is scored by RTO (time to recover) and RPO (data lost).
      </Text>
      <Text> </Text>
      {DISASTERS.map((d, i) => (
        <Box key={d.kind} flexDirection="column">
          <Text bold={i === state.choice} wrap="truncate-end">
            {i === state.choice ? '› ' : '  '}
            {d.title}
          </Text>
          {wrapText(d.blurb, width - 4).map((l, k) => (
            <Text key={k} dimColor wrap="truncate-end">
              {'    '}
              {l}
            </Text>
          ))}
        </Box>
      ))}
      <Text> </Text>
      {state.confirming ? (
        <>
          <Text color="yellow" wrap="truncate-end">{`${DISASTERS[state.choice]!.title} on ${state.sandbox}? Type its name to go ahead.`}</Text>
          <TextField label="name" labelWidth={5} value={state.confirming.typed} focused width={width} />
          {state.confirming.hint && (
            <Text color="red" wrap="truncate-end">
              {state.confirming.hint}
            </Text>
          )}
        </>
      ) : (
        <Text dimColor wrap="truncate-end">
          enter chooses; a base backup is taken first if there is none.
        </Text>
      )}
    </Box>
  );
}

type GuideLine = { text: string; done?: boolean; tone?: 'bad' | 'good' | 'info' | 'dim'; bold?: boolean };

/** What `e` does, in words that match what there is: a restored server only when there is one. */
export function endWords(session: TrainingSession): string {
  const put = disasterInfo(session.kind).recovery === 'repair' ? 'archiving and the sandbox are put back as they were' : 'the sandbox is put back as it was';
  return session.restore ? `e ends the training: the restored server on 127.0.0.1:${session.restore.port} is stopped and ${put}.` : `e ends the training: ${put}.`;
}

/**
 * The guide: every line wraps under its own text (nothing is cut mid-word), and when the body is
 * too short the lines that do not fit are counted ("… 3 more lines") rather than silently lost.
 */
export function guideLines(session: TrainingSession, clock: number, width: number): GuideLine[] {
  const scored = session.score !== undefined;
  const info = disasterInfo(session.kind);
  const out: GuideLine[] = [];
  const add = (text: string, hang: number, style: Omit<GuideLine, 'text'> = {}, prefix = '') =>
    hangingLines(text, width, hang).forEach((l, i) => out.push({ ...style, text: `${i === 0 ? prefix : ' '.repeat(hang)}${l}` }));
  add(
    `Training on ${session.target}: ${info.title.toLowerCase()} · ${scored ? `scored ${utc(session.score!.at)}` : `clock ${secs(clock)}`} · goal RTO ${secs(session.objectives.rtoSeconds)}, RPO ${secs(session.objectives.rpoSeconds)}`,
    0,
    { bold: true },
  );
  out.push({ text: '' });
  for (const st of trainingGuide(session)) add(st.text, 4, { done: st.done, ...(st.done && !scored ? { tone: 'dim' as const } : {}) }, st.done ? '[x] ' : '[ ] ');
  if (session.restore && !scored) {
    add(`restored on 127.0.0.1:${session.restore.port} at ${utc(session.restore.at)}${session.restore.lastCommitAt ? `, last commit ${utc(session.restore.lastCommitAt)}` : ''}`, 4, { tone: 'info' }, '    ');
  }
  const sc = session.score;
  if (sc) {
    out.push({ text: '' });
    add(`Score ${sc.points}/100 · ${sc.verdict}`, 5, { bold: true, tone: sc.dataOk ? 'good' : 'bad' }, `${(sc.points === 100 ? 'OK' : sc.dataOk ? 'WARN' : 'FAIL').padEnd(5)}`);
    add(sc.dataDetail, 11, sc.dataOk ? {} : { tone: 'bad' }, '     data  ');
    add(`${secs(sc.rtoSeconds)} (objective ${secs(sc.rtoObjectiveSeconds)}) ${sc.rtoOk ? 'OK' : 'FAIL'}`, 11, sc.rtoOk ? {} : { tone: 'bad' }, '     RTO   ');
    add(`${secs(sc.rpoSeconds)} (objective ${secs(sc.rpoObjectiveSeconds)}) ${sc.rpoOk ? 'OK' : 'FAIL'}`, 11, sc.rpoOk ? {} : { tone: 'bad' }, '     RPO   ');
    add(endWords(session), 5, { tone: 'dim' }, '     ');
  }
  return out;
}

function Guide({ session, width, height }: { session: TrainingSession; width: number; height: number }): ReactNode {
  const scored = session.score !== undefined;
  const clock = useElapsed(Date.parse(session.disasterAt), !scored);
  const all = guideLines(session, clock, width);
  // The score sits at the end: when the body is short, the guide's middle gives way, counted.
  const scoreAt = scored ? all.findIndex((l) => l.text.includes(`Score ${session.score!.points}/100`)) : -1;
  const tail = scoreAt > 0 ? all.slice(scoreAt - 1) : [];
  const head = scoreAt > 0 ? all.slice(0, scoreAt - 1) : all;
  let shown = all;
  if (all.length > height) {
    const room = Math.max(0, height - 1 - tail.length);
    const hidden = head.length - room;
    shown = [...head.slice(0, room), { text: `… ${hidden} more line${hidden === 1 ? '' : 's'} (a taller terminal shows them)`, tone: 'dim' }, ...tail];
  }
  const color = (l: GuideLine) => (l.tone === 'bad' ? 'red' : l.tone === 'good' ? 'green' : l.tone === 'info' ? 'cyan' : undefined);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {shown.slice(0, height).map((l, i) => (
        <Text key={i} wrap="truncate-end" bold={l.bold === true} color={color(l)} dimColor={l.tone === 'dim'}>
          {l.text || ' '}
        </Text>
      ))}
    </Box>
  );
}

function hintsFor(state: TrainingState, running: boolean, serversUp: boolean): KeyHint[] {
  if (state.runShown && state.run) return running ? [] : [{ keys: 'enter esc', label: 'back to the guide' }];
  if (!state.sandbox) return [];
  if (state.confirming) return [{ keys: 'enter', label: 'go ahead (name typed)' }, { keys: 'esc', label: 'cancel' }, { keys: 'ctrl-c', label: 'quit' }];
  const stop = serversUp ? [{ keys: STOP_KEY, label: 'stop server' }] : [];
  if (!state.session) return [{ keys: '↑↓', label: 'choose' }, { keys: 'enter', label: 'cause it' }];
  const repair = disasterInfo(state.session.kind).recovery === 'repair';
  return [
    ...(repair ? [{ keys: 'h', label: 'health' }, { keys: 'f', label: 'repair' }] : [{ keys: 'r', label: 'restore' }]),
    { keys: 's', label: 'score' },
    { keys: 'e', label: 'end' },
    ...stop,
  ];
}
