import { homedir } from 'node:os';
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { SCREENS, screenName, type ScreenId } from '../../App/screenList.js';
import { textWidth, truncateEnd, truncateStart } from '../../text/width.js';

export interface HeaderProps {
  version: string;
  screen: ScreenId;
  configDir: string;
  width: number;
}

/** Lines the header takes; the shell subtracts them from the body. */
export const HEADER_HEIGHT = 3;

export function Header({ version, screen, configDir, width }: HeaderProps): ReactNode {
  const left = `dbdrill ${version} · ${screenName(screen)}`;
  const room = width - textWidth(left) - 2;
  const config = room >= 12 ? truncateStart(`config ${tildify(configDir)}`, room) : '';
  const gap = Math.max(1, width - textWidth(left) - textWidth(config));
  return (
    <Box flexDirection="column" width={width} height={HEADER_HEIGHT}>
      <Text wrap="truncate-end">
        <Text bold>{truncateEnd(left, width)}</Text>
        {config ? ' '.repeat(gap) : ''}
        <Text dimColor>{config}</Text>
      </Text>
      <Text wrap="truncate-end">
        {SCREENS.map((s, i) => {
          const current = s.id === screen;
          // The marker carries "current" when bold and inverse are gone (NO_COLOR).
          return (
            <Text key={s.id}>
              {i > 0 ? '  ' : ''}
              {current ? '›' : ' '}
              <Text inverse={current} bold={current} dimColor={!current}>
                {`${s.key} ${s.name}`}
              </Text>
            </Text>
          );
        })}
      </Text>
      <Text dimColor>{'─'.repeat(width)}</Text>
    </Box>
  );
}

function tildify(dir: string): string {
  const home = homedir();
  return home && (dir === home || dir.startsWith(home + '/')) ? '~' + dir.slice(home.length) : dir;
}
