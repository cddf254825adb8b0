import { Text } from 'ink';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { formatBytes } from '../../../src/util/bytes.js';
import type { ConsoleApi, RestoredServerState } from '../../api.js';
import { oneSentence } from '../../hooks/jobStore.js';
import { useMounted } from '../../hooks/useMounted.js';
import { truncateEnd } from '../../text/width.js';

/** The key that stops a restored server, on every screen that lists them. */
export const STOP_KEY = 'X';

export interface RestoredServers {
  running: RestoredServerState[];
  /** The server X would stop (the newest running one) while y/N is asked. */
  asking: RestoredServerState | undefined;
  /** What the last stop said, or why it failed. */
  note: string | undefined;
  refresh: () => void;
  /**
   * Routes a key: X asks to stop the newest running server, y stops it, anything else (n, esc)
   * keeps it. Returns whether the key was used.
   */
  onKey: (input: string) => boolean;
}

/**
 * The servers restores of `target` left running, re-read when the screen is shown and whenever
 * `seq` changes (a restore ended), with the keys to stop one. Their files stay (sandbox stop
 * --remove, or the operator, removes them).
 */
export function useRestoredServers(api: ConsoleApi, target: string | undefined, active: boolean, seq: unknown): RestoredServers {
  const mounted = useMounted();
  const [running, setRunning] = useState<RestoredServerState[]>([]);
  const [asking, setAsking] = useState<RestoredServerState | undefined>(undefined);
  const [note, setNote] = useState<string | undefined>(undefined);
  // Keys decide on what is on screen now, not on the render they were bound in.
  const now = useRef({ running, asking });
  now.current = { running, asking };

  const refresh = useCallback(() => {
    if (target === undefined) return setRunning([]);
    api.listRestoredServers(target).then(
      (all) => mounted.current && setRunning(all.filter((r) => r.running)),
      (e) => mounted.current && setNote(oneSentence(e)),
    );
  }, [api, target]);
  useEffect(() => {
    if (active) refresh();
  }, [active, refresh, seq]);

  const onKey = (input: string): boolean => {
    const { running: list, asking: pending } = now.current;
    if (pending) {
      setAsking(undefined);
      if (input !== 'y') return true;
      setNote(`Stopping ${pending.name}…`);
      api.stopRestoredServer(pending.name).then(
        (r) => {
          if (!mounted.current) return;
          setNote(r.running ? `Did not stop (pid ${r.pid}): ${r.name}` : `Stopped; its ${formatBytes(r.bytes)} stay in ${r.dir}: ${r.name}`);
          refresh();
        },
        (e) => mounted.current && setNote(oneSentence(e)),
      );
      return true;
    }
    if (input === STOP_KEY && list[0]) {
      setAsking(list[0]);
      return true;
    }
    return false;
  };
  return { running, asking, note, refresh, onKey };
}

/** The newest running server: whole when it fits, else the key first and the name cut last. */
export function runningLine(r: RestoredServerState, more: number, width: number): string {
  const rest = more > 0 ? ` (+${more} more)` : '';
  const whole = `Running: ${r.name} on :${r.port}, ${formatBytes(r.bytes)}${rest} · ${STOP_KEY} stops it`;
  if (whole.length <= width) return whole;
  return truncateEnd(`Running on :${r.port}, ${formatBytes(r.bytes)}${rest}, ${STOP_KEY} stops it: ${r.name}`, width);
}

/** How many lines RestoredServersLines draws. */
export function restoredLineCount(s: RestoredServers): number {
  return (s.running.length > 0 ? 1 : 0) + (s.asking || s.note ? 1 : 0);
}

/** One line for the running servers (the newest named, the others counted) and one for a question or note. */
export function RestoredServersLines({ servers: s, width }: { servers: RestoredServers; width: number }): ReactNode {
  const newest = s.running[0];
  return (
    <>
      {newest ? (
        <Text color="cyan" wrap="truncate-end">
          {runningLine(newest, s.running.length - 1, width)}
        </Text>
      ) : null}
      {s.asking ? (
        <Text color="yellow" wrap="truncate-end">
          {truncateEnd(`Stop it? y stops it, any other key keeps it: ${s.asking.name} on :${s.asking.port}`, width)}
        </Text>
      ) : s.note ? (
        <Text dimColor wrap="truncate-end">
          {truncateEnd(s.note, width)}
        </Text>
      ) : null}
    </>
  );
}
