import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { hangingLines } from '../text/width.js';
import { FormStatus } from '../widgets/FormStatus/FormStatus.js';
import { TextField } from '../widgets/TextField/TextField.js';
import { visibleWindow } from '../widgets/DataTable/fit.js';
import { fieldHint, FORM_FIELDS, type FormState } from './formState.js';

const LABEL = 12;

/** Add or edit a target: one line per field, the engine's own sentence under it when a value is wrong. */
export function TargetFormView({ form, width, height }: { form: FormState; width: number; height: number }): ReactNode {
  const title = form.mode === 'add' ? 'Add a target' : `Edit target ${form.original}`;
  // The engine's sentence, whole, wrapped under its own text.
  const errorLines = form.error ? hangingLines(form.error, width, 5, 4) : [];
  // On a short terminal the spacer goes first, then the fields scroll with the focus: the title
  // and the status (the refusal naming the field) always show.
  const statusRows = Math.max(1, errorLines.length);
  const spacer = height >= 1 + FORM_FIELDS.length + 1 + statusRows;
  const { start, end } = visibleWindow(FORM_FIELDS.length, form.focus, Math.max(1, height - 1 - statusRows - (spacer ? 1 : 0)));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {title}
        <Text dimColor>{'  · passwords are never stored: name the variable that holds it'}</Text>
      </Text>
      {FORM_FIELDS.map((f, i) => ({ f, i })).slice(start, end).map(({ f, i }) => (
        <TextField
          key={f.field}
          label={f.label}
          labelWidth={LABEL}
          value={form.values[f.field]}
          focused={form.focus === i && !form.saving}
          width={width}
          hint={form.mode === 'edit' && f.field === 'name' ? 'fixed' : fieldHint(f.field, form.values, f.hint)}
        />
      ))}
      {spacer && <Text> </Text>}
      <FormStatus saving={form.saving} errorLines={errorLines} />
    </Box>
  );
}
