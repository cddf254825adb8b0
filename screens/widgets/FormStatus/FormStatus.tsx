import { Text } from 'ink';
import type { ReactNode } from 'react';
import { StatusMarker } from '../StatusMarker/StatusMarker.js';

/** A form's last line(s): "Saving…", the refusal (whole, wrapped, naming the field), or the keys. */
export function FormStatus({ saving, errorLines }: { saving: boolean; errorLines: string[] }): ReactNode {
  if (saving) return <Text color="cyan">Saving…</Text>;
  if (errorLines.length > 0)
    return errorLines.map((l, i) => (
      <Text key={i} color="red" wrap="truncate-end">
        {i === 0 ? <StatusMarker marker="FAIL" /> : '    '} {l}
      </Text>
    ));
  return (
    <Text dimColor wrap="truncate-end">
      enter saves · tab/↑↓ move · esc cancels
    </Text>
  );
}
