import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { hangingLines, textWidth } from '../text/width.js';
import { FormStatus } from '../widgets/FormStatus/FormStatus.js';
import { TextField } from '../widgets/TextField/TextField.js';
import { POLICY_FIELDS, type PolicyFormState } from './strategyState.js';

const LABEL = 14;

/**
 * The policy as a form: one line per `policy set` setting, blank meaning "not set". Saving runs
 * the same validation as the command, and its sentence (naming the field) shows under the fields.
 */
export function PolicyFormView({ target, form, width, height }: { target: string; form: PolicyFormState; width: number; height: number }): ReactNode {
  const total = POLICY_FIELDS.length;
  // Title and the status line take two rows; a short terminal shows a window of fields that
  // follows the focus (the title says which), rather than pushing the footer off the screen.
  const errorLines = form.error ? hangingLines(form.error, width, 5, Math.max(1, Math.min(3, height - 3))) : [];
  const room = Math.max(1, height - 1 - Math.max(1, errorLines.length));
  const shown = Math.min(total, room);
  const first = Math.max(0, Math.min(total - shown, form.focus - Math.floor(shown / 2)));
  const fields = POLICY_FIELDS.slice(first, first + shown);
  // The title's notes, as many whole ones as fit: a note is never cut mid-word.
  const title = `Policy of ${target}`;
  let notes = '';
  for (const n of [shown < total ? `fields ${first + 1}-${first + shown} of ${total}` : '', 'UTC', 'blank = not set']) {
    if (n && textWidth(title + notes + ` · ${n}`) <= width) notes += ` · ${n}`;
  }
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {title}
        <Text dimColor>{notes}</Text>
      </Text>
      {fields.map((f, i) => (
        <TextField key={f.field} label={f.field} labelWidth={LABEL} value={form.values[f.field]} focused={form.focus === first + i && !form.saving} width={width} hint={f.hint} />
      ))}
      {shown === total && room > total + 1 && <Text> </Text>}
      <FormStatus saving={form.saving} errorLines={errorLines} />
    </Box>
  );
}
