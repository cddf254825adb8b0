import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { ProbeResult } from '../../src/engines/probe-types.js';
import type { JobSnapshot } from '../hooks/jobStore.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';

/** Lines of a finished connection test, so the table can leave room for them. */
export function testLines(snap: JobSnapshot<ProbeResult>): number {
  if (snap.state === 'running') return 2;
  if (snap.state === 'failed') return 3;
  return 3 + (snap.result?.privileges.length ?? 0);
}

/** `dbdrill target test NAME`, in the console: connected or why not, archiving, privileges. */
export function TestPanel({ name, snap, width, height }: { name: string; snap: JobSnapshot<ProbeResult>; width: number; height: number }): ReactNode {
  const p = snap.result;
  const flavor = p ? (p.flavor === 'postgresql' ? 'PostgreSQL' : p.flavor === 'mariadb' ? 'MariaDB' : 'MySQL') : '';
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">{`Connection test of ${name}`}</Text>
      {snap.state === 'running' && (
        <Text color="cyan" wrap="truncate-end">
          <StatusMarker marker="…" /> connecting…
        </Text>
      )}
      {snap.state === 'failed' && (
        <Text color="red" wrap="wrap">
          <StatusMarker marker="FAIL" /> {snap.error}
        </Text>
      )}
      {p && (
        <>
          <Text wrap="truncate-end">
            <StatusMarker marker="OK" /> {`connected in ${p.connectMs} ms: ${flavor} ${p.serverVersion} · system id ${p.systemId}`}
          </Text>
          <Text wrap="truncate-end">
            <StatusMarker marker={p.archiving.enabled ? 'OK' : 'WARN'} /> {`${p.engine === 'postgres' ? 'WAL archiving' : 'binary log'} ${p.archiving.enabled ? 'on' : 'off'} (${p.archiving.detail})`}
          </Text>
          {p.privileges.map((c) => (
            <Text key={c.purpose} wrap="truncate-end">
              <StatusMarker marker={c.ok ? 'OK' : 'WARN'} /> {`${c.purpose}: ${c.detail}`}
            </Text>
          ))}
        </>
      )}
    </Box>
  );
}
