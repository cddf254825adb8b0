import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { wrapText } from '../text/width.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { TextField } from '../widgets/TextField/TextField.js';
import { FORM_FIELDS, type FormState } from './formState.js';

const LABEL = 12;

/** Add or edit a target: one line per field, the engine's own sentence under it when a value is wrong. */
export function TargetFormView({ form, width, height }: { form: FormState; width: number; height: number }): ReactNode {
  const title = form.mode === 'add' ? 'Add a target' : `Edit target ${form.original}`;
  const errorLines = form.error ? wrapText(`FAIL ${form.error}`, width).slice(0, 3) : [];
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {title}
        <Text dimColor>{'  · passwords are never stored: name the variable that holds it'}</Text>
      </Text>
      {FORM_FIELDS.map((f, i) => (
        <TextField
          key={f.field}
          label={f.label}
          labelWidth={LABEL}
          value={form.values[f.field]}
          focused={form.focus === i && !form.saving}
          width={width}
          hint={form.mode === 'edit' && f.field === 'name' ? 'fixed' : f.hint}
        />
      ))}
      <Text> </Text>
      {form.saving ? (
        <Text color="cyan">Saving…</Text>
      ) : form.error ? (
        <Box height={errorLines.length} width={width} overflow="hidden">
          <Text color="red" wrap="wrap">
            <StatusMarker marker="FAIL" /> {form.error}
          </Text>
        </Box>
      ) : (
        <Text dimColor wrap="truncate-end">
          enter saves · tab/↑↓ move · esc cancels
        </Text>
      )}
    </Box>
  );
}
