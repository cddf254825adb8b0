import { useEffect, useState } from 'react';

/**
 * Seconds since `since` (ms since the epoch), re-rendering once a second while `running`: a long
 * quiet phase ("waiting for checkpoint") still visibly moves, so nobody thinks it hung.
 */
export function useElapsed(since: number | undefined, running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running || since === undefined) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running, since]);
  return since === undefined ? 0 : Math.max(0, (running ? now : Math.max(now, since)) - since) / 1000;
}
