import { Text, type Key } from 'ink';
import type { ReactNode } from 'react';
import { fit, textWidth, truncateEnd, truncateStart } from '../../text/width.js';

/**
 * What a key does to a one-line field: the new text, or undefined when the key is not an edit
 * (enter, tab, arrows, esc are the form's). Control characters never enter the text. While
 * `replacing` (a field just focused, its old value shown selected) the first key replaces the
 * value: typing "x" over "latest" gives "x", never "latestx"; backspace clears it.
 */
export function editText(text: string, input: string, key: Key, replacing = false): string | undefined {
  if (key.backspace || key.delete) return replacing ? '' : [...text].slice(0, -1).join('');
  if (key.ctrl && input === 'u') return '';
  if (key.ctrl || key.meta || key.tab || key.return || key.escape) return undefined;
  if (key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.pageUp || key.pageDown) return undefined;
  // eslint-disable-next-line no-control-regex
  const typed = input.replace(/[\u0000-\u001f\u007f]/g, '');
  if (typed === '') return undefined;
  return replacing ? typed : text + typed;
}

export interface TextFieldProps {
  label: string;
  /** Cells the label takes, so a form's fields line up. */
  labelWidth: number;
  value: string;
  focused: boolean;
  width: number;
  /** Dim text after the field (what the value means, e.g. the time it resolves to). */
  hint?: string;
  /** The value is selected: the first key typed replaces it (shown inverse, the cursor before it). */
  replacing?: boolean;
}

/** The cursor of the field being edited: a character, so it shows without colour too. */
export const CURSOR = '█';

/** "› Time   -15m█   = 2026-11-25 11:45:00Z": the marker and the block cursor show focus without colour. */
export function TextField({ label, labelWidth, value, focused, width, hint, replacing = false }: TextFieldProps): ReactNode {
  const head = `${focused ? '›' : ' '} ${fit(label, labelWidth)} `;
  const room = Math.max(1, width - textWidth(head) - 1);
  // The value wins over the hint: what will be used must be readable whole.
  const shown = truncateStart(value, room);
  const hintRoom = width - textWidth(head) - textWidth(shown) - 3;
  return (
    <Text wrap="truncate-end">
      <Text bold={focused}>{head}</Text>
      {focused && replacing ? (
        <>
          {CURSOR}
          <Text inverse>{shown}</Text>
        </>
      ) : (
        <>
          {shown}
          {focused ? CURSOR : ' '}
        </>
      )}
      {hint && hintRoom > 4 ? <Text dimColor>{`  ${truncateEnd(hint, hintRoom - 2)}`}</Text> : null}
    </Text>
  );
}
