import { Text } from 'ink';
import type { ReactNode } from 'react';

export interface ChoiceProps {
  options: readonly string[];
  selected: number;
}

/** "› logical   physical": the marker carries the choice when inverse vanishes (NO_COLOR). */
export function Choice({ options, selected }: ChoiceProps): ReactNode {
  return (
    <Text wrap="truncate-end">
      {options.map((o, i) => (
        <Text key={o}>
          {i > 0 ? '   ' : ''}
          {i === selected ? '› ' : '  '}
          <Text inverse={i === selected} bold={i === selected}>
            {o}
          </Text>
        </Text>
      ))}
    </Text>
  );
}
