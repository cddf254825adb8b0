import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { truncateEnd } from '../text/width.js';
import { TextField } from '../widgets/TextField/TextField.js';
import type { LogicalRestoreForm } from './catalogState.js';

export const RESTORE_FORM_HEIGHT = 5;

/** The long wording when it fits, else the short one (never a sentence cut mid-word). */
const fitsOr = (long: string, short: string, width: number) => (long.length <= width ? long : short);

/**
 * Under the table: what r on a logical backup will do, the new database's name, and the target's
 * name typed to confirm. A rule on top, as the kind choice has.
 */
export function LogicalRestoreFormView({ form, target, width }: { form: LogicalRestoreForm; target: string; width: number }): ReactNode {
  return (
    <Box flexDirection="column" width={width} height={RESTORE_FORM_HEIGHT} overflow="hidden">
      <Text dimColor>{'─'.repeat(width)}</Text>
      <Text bold wrap="truncate-end">
        {truncateEnd(fitsOr(`Into a new database from ${form.backup}; the source stays`, `Into a new database from ${form.backup}`, width), width)}
      </Text>
      <TextField label="Database" labelWidth={8} value={form.dbname} focused={form.step === 'name'} replacing={form.replacing} width={width} hint="new, must not exist" />
      <TextField label="Confirm" labelWidth={8} value={form.typed} focused={form.step === 'confirm'} width={width} hint={`type ${target} to start`} />
      {form.hint ? (
        <Text color="red" wrap="truncate-end">
          {truncateEnd(form.hint, width)}
        </Text>
      ) : null}
    </Box>
  );
}
