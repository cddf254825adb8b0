import { Box, Text, type Key } from 'ink';
import { useEffect, useRef, type ReactNode } from 'react';
import type { HealthFeed } from '../api.js';
import { useApi } from '../App/ApiContext.js';
import { oneSentence } from '../hooks/jobStore.js';
import { useSyncedReducer } from '../hooks/useSyncedReducer.js';
import type { KeyHint } from '../keys/keymap.js';
import { useScreenContext, useScreenKeys } from '../keys/ScreenKeys.js';
import { useBodySize } from '../layout/bodySize.js';
import { fit, truncateEnd, wrapText } from '../text/width.js';
import { utc } from '../text/time.js';
import { sparkline, statusStrip } from '../widgets/Sparkline/sparkline.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { healthReducer, initialHealth, intervalSeconds } from './healthState.js';
import { panelLines } from './panelLines.js';

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

  const onKey = (input: string, _key: Key): boolean => {
    if (current().target === undefined) return false;
    if (input === ' ') dispatch({ type: 'toggle-pause' });
    else if (input === '+' || input === '=') dispatch({ type: 'interval', by: 1 });
    else if (input === '-') dispatch({ type: 'interval', by: -1 });
    else return false;
    return true;
  };
  const hints: KeyHint[] =
    state.target === undefined
      ? []
      : [
          { keys: 'space', label: state.paused ? 'resume' : 'pause' },
          { keys: '+/-', label: `every ${seconds}s` },
        ];
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
  const headline = worstCheck ? `${worstCheck.name}: ${worstCheck.reason}` : 'Archiving and backups are healthy.';
  const headLines = wrapText(headline, width - 5).slice(0, 2);
  const history = r.history;
  const room = Math.max(4, width - LABEL - 2);
  const lines = panelLines(r);
  // The ones that need attention first: they must not be the ones cut off at the bottom.
  const rank = { CRIT: 0, WARN: 1, OK: 2 } as const;
  const checks = [...r.checks].sort((x, y) => rank[x.status] - rank[y.status]);
  const used = 1 + headLines.length + 2 + 1 + lines.length + 1;
  const checkRoom = Math.max(0, height - used);

  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {titleLine}
      {headLines.map((l, i) => (
        <Text key={i} wrap="truncate-end" color={r.status === 'CRIT' ? 'red' : r.status === 'WARN' ? 'yellow' : 'green'}>
          {i === 0 ? <StatusMarker marker={r.status} /> : '    '} {l}
        </Text>
      ))}
      <Text wrap="truncate-end">
        <Text dimColor>{fit('status', LABEL)}</Text> {statusStrip(history.map((p) => p.status), room)}
      </Text>
      <Text wrap="truncate-end">
        <Text dimColor>{fit('backlog', LABEL)}</Text> <Text color="cyan">{sparkline(history.map((p) => p.backlog), room)}</Text>
      </Text>
      <Text> </Text>
      {lines.map((l) => (
        <Text key={l.label} wrap="truncate-end">
          <Text dimColor>{fit(l.label, LABEL)}</Text> <Text color={l.tone === 'bad' ? 'red' : l.tone === 'warn' ? 'yellow' : undefined}>{l.text}</Text>
        </Text>
      ))}
      {checkRoom > 1 && <Text> </Text>}
      {checks.slice(0, Math.max(0, checkRoom - 1)).map((c) => (
        <Text key={c.name} wrap="truncate-end">
          <StatusMarker marker={c.status} /> {`${c.name}: ${c.reason}`}
        </Text>
      ))}
    </Box>
  );
}
