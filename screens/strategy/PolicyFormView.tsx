import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { hangingLines } from '../text/width.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { TextField } from '../widgets/TextField/TextField.js';
import { POLICY_FIELDS, type PolicyFormState } from './strategyState.js';

const LABEL = 14;

/**
 * The policy as a form: one line per `policy set` setting, blank meaning "not set". Saving runs
 * the same validation as the command, and its sentence (naming the field) shows under the fields.
 */
export function PolicyFormView({ target, form, width, height }: { target: string; form: PolicyFormState; width: number; height: number }): ReactNode {
  const errorLines = form.error ? hangingLines(form.error, width, 5, Math.max(1, height - POLICY_FIELDS.length - 1)) : [];
  // A short terminal drops the blank line before the sentence first, never a field.
  const room = height - 1 - POLICY_FIELDS.length;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {`Policy of ${target}`}
        <Text dimColor>{'  · cron times are UTC · blank = not set'}</Text>
      </Text>
      {POLICY_FIELDS.map((f, i) => (
        <TextField key={f.field} label={f.field} labelWidth={LABEL} value={form.values[f.field]} focused={form.focus === i && !form.saving} width={width} hint={f.hint} />
      ))}
      {room > Math.max(1, errorLines.length) && <Text> </Text>}
      {form.saving ? (
        <Text color="cyan">Saving…</Text>
      ) : form.error ? (
        errorLines.map((l, i) => (
          <Text key={i} color="red" wrap="truncate-end">
            {i === 0 ? <StatusMarker marker="FAIL" /> : '    '} {l}
          </Text>
        ))
      ) : (
        <Text dimColor wrap="truncate-end">
          enter saves · tab/↑↓ move · esc cancels
        </Text>
      )}
    </Box>
  );
}
