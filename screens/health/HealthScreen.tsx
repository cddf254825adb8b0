import { Box, Text, type Key } from 'ink';
import { useEffect, useRef, type ReactNode } from 'react';
import type { HealthFeed } from '../api.js';
import { useApi } from '../App/ApiContext.js';
import { oneSentence } from '../hooks/jobStore.js';
import { useSyncedReducer } from '../hooks/useSyncedReducer.js';
import type { KeyHint } from '../keys/keymap.js';
import { useScreenContext, useScreenKeys } from '../keys/ScreenKeys.js';
import { useBodySize } from '../layout/bodySize.js';
import { fit, hangingLines, truncateEnd } from '../text/width.js';
import { utc } from '../text/time.js';
import { sparkline, statusStrip } from '../widgets/Sparkline/sparkline.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { HEALTH_KEYS, healthHints, healthReducer, initialHealth, intervalSeconds } from './healthState.js';
import { panelLines } from './panelLines.js';
import { ScrollPane } from '../widgets/ScrollPane/ScrollPane.js';
import { consoleWords } from '../text/consoleWords.js';

const LABEL = 13;

/**
 * Archiver health, live: one sample every interval while the screen is shown (space pauses,
 * + and - change the pace), the status with its reason in words, the numbers behind it, and the
 * recent history as a status strip and a backlog sparkline.
 */
export function HealthScreen(): ReactNode {
  const api = useApi();
  const { target, active } = useScreenContext();
  const { width, height } = useBodySize();
  const [state, dispatch, current] = useSyncedReducer(healthReducer, initialHealth);

  useEffect(() => {
    dispatch({ type: 'target', target });
  }, [target, dispatch]);

  // One sampler per target, kept while the console runs: its history survives a trip elsewhere.
  const feeds = useRef(new Map<string, HealthFeed>());
  useEffect(() => {
    const all = feeds.current;
    return () => {
      for (const f of all.values()) void f.close();
      all.clear();
    };
  }, []);

  const seconds = intervalSeconds(state);
  const name = state.target;
  useEffect(() => {
    if (!active || name === undefined || state.paused) return;
    let feed = feeds.current.get(name);
    if (!feed) {
      feed = api.openHealth(name);
      feeds.current.set(name, feed);
    }
    const f = feed;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      const started = Date.now();
      try {
        const report = await f.sample();
        if (!stopped) dispatch({ type: 'sampled', target: name, report });
      } catch (e) {
        if (!stopped) dispatch({ type: 'failed', target: name, error: oneSentence(e) });
      }
      // Paced from the sample's start, so a slow server does not stretch the interval.
      if (!stopped) timer = setTimeout(() => void tick(), Math.max(0, seconds * 1000 - (Date.now() - started)));
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [api, active, name, state.paused, seconds, dispatch]);

  // How far the pane can scroll, as last drawn (the key handler needs it before the next render).
  const scrollMax = useRef(0);
  const onKey = (input: string, key: Key): boolean => {
    if (current().target === undefined) return false;
    const k = HEALTH_KEYS.find((h) => h.matches(input, key));
    if (!k) return false;
    dispatch(k.action(input, key, scrollMax.current));
    return true;
  };
  const hints: KeyHint[] = state.target === undefined ? [] : healthHints(state);
  useScreenKeys(onKey, hints);

  if (state.target === undefined) {
    return (
      <Box width={width} height={height} overflow="hidden">
        <Text wrap="wrap">No target selected yet: pick one on Targets (1); its archiver health is shown here, live.</Text>
      </Box>
    );
  }
  const r = state.report;
  const title = `${state.target} · every ${seconds}s${r ? ` · sample ${state.samples} at ${utc(r.at)}` : ''}`;
  const titleLine = (
    <Text wrap="truncate-end">
      <Text bold>{truncateEnd(title, width - (state.paused ? 8 : 0))}</Text>
      {state.paused ? <Text color="yellow">{'  PAUSED'}</Text> : null}
    </Text>
  );
  if (!r) {
    return (
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        {titleLine}
        {state.error ? (
          <Text color="red" wrap="wrap">
            <StatusMarker marker="FAIL" /> {state.error}
          </Text>
        ) : (
          <Text dimColor>{state.paused ? 'Paused before the first sample; space resumes.' : `Sampling ${state.target}…`}</Text>
        )}
      </Box>
    );
  }

  const worstCheck = r.checks.find((c) => c.status === r.status && c.status !== 'OK');
  const tone = (st: string) => (st === 'CRIT' ? 'red' : st === 'WARN' ? 'yellow' : 'green');
  // The worst check and its whole reason: always readable, wrapped under its own text.
  const headline = worstCheck ? `${worstCheck.name}: ${consoleWords(worstCheck.reason)}` : 'Archiving and backups are healthy.';
  const allHead = hangingLines(headline, width, 5);
  // Fixed above the pane when it leaves room for it; else it leads the pane and scrolls, whole.
  const headFixed = allHead.length <= Math.max(2, height - 4);
  const headLines = headFixed ? allHead : [];
  const history = r.history;
  const room = Math.max(4, width - LABEL - 2);
  // The ones that need attention first; the headline's own check is not listed twice.
  const rank = { CRIT: 0, WARN: 1, OK: 2 } as const;
  const checks = [...r.checks].filter((c) => c !== worstCheck).sort((x, y) => rank[x.status] - rank[y.status]);

  // Everything under the headline scrolls as one pane; a marker says what is out of view.
  const headRow = (l: string, i: number) => (
    <Text key={`h${i}`} wrap="truncate-end" color={tone(r.status)}>
      {i === 0 ? <StatusMarker marker={r.status} /> : '    '} {l}
    </Text>
  );
  const pane: ReactNode[] = [
    ...(headFixed ? [] : allHead.map(headRow)),
    <Text key="strip" wrap="truncate-end">
      <Text dimColor>{fit('status', LABEL)}</Text> {statusStrip(history.map((p) => p.status), room)}
    </Text>,
    <Text key="spark" wrap="truncate-end">
      <Text dimColor>{fit('backlog', LABEL)}</Text> <Text color="cyan">{sparkline(history.map((p) => p.backlog), room)}</Text>
    </Text>,
  ];
  const checkRows = (list: typeof checks) =>
    list.forEach((c) =>
      hangingLines(`${c.name}: ${consoleWords(c.reason)}`, width, 5).forEach((l, i) =>
        pane.push(
          <Text key={`c-${c.name}-${i}`} wrap="truncate-end" color={c.status === 'OK' ? undefined : tone(c.status)}>
            {i === 0 ? <StatusMarker marker={c.status} /> : '    '} {l}
          </Text>,
        ),
      ),
    );
  // Checks that need attention, then the numbers (the evidence), then the checks that are fine.
  checkRows(checks.filter((c) => c.status !== 'OK'));
  pane.push(<Text key="gap"> </Text>);
  for (const l of panelLines(r)) {
    pane.push(
      <Text key={`p-${l.label}`} wrap="truncate-end">
        <Text dimColor>{fit(l.label, LABEL)}</Text> <Text color={l.tone === 'bad' ? 'red' : l.tone === 'warn' ? 'yellow' : undefined}>{consoleWords(l.text)}</Text>
      </Text>,
    );
  }
  const fine = checks.filter((c) => c.status === 'OK');
  if (fine.length > 0) pane.push(<Text key="gap2"> </Text>);
  checkRows(fine);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {titleLine}
      {headLines.map(headRow)}
      <ScrollPane rows={pane} room={height - 1 - headLines.length} scroll={state.scroll} maxRef={scrollMax} />
    </Box>
  );
}
