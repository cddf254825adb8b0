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
  const tabs = tabBar(screen, width);
  return (
    <Box flexDirection="column" width={width} height={HEADER_HEIGHT}>
      <Text wrap="truncate-end">
        <Text bold>{truncateEnd(left, width)}</Text>
        {config ? ' '.repeat(gap) : ''}
        <Text dimColor>{config}</Text>
      </Text>
      <Text wrap="truncate-end">
        {tabs.map((t, i) => (
          // The marker carries "current" when bold and inverse are gone (NO_COLOR).
          <Text key={t.id}>
            {i > 0 ? ' '.repeat(tabs.gap) : ''}
            {t.current ? '›' : ' '}
            <Text inverse={t.current} bold={t.current} dimColor={!t.current}>
              {t.label}
            </Text>
          </Text>
        ))}
      </Text>
      <Text dimColor>{'─'.repeat(width)}</Text>
    </Box>
  );
}

type Tabs = Array<{ id: ScreenId; label: string; current: boolean }> & { gap: number };

/**
 * The tab bar at this width: every screen's key stays readable, whatever the width. Full names
 * two apart, then one apart, then names cut to four letters, then only the current one named.
 */
export function tabBar(screen: ScreenId, width: number): Tabs {
  const tries: Array<[number, (name: string, current: boolean) => string]> = [
    [2, (n) => n],
    [1, (n) => n],
    [1, (n, current) => (current ? n : n.slice(0, 4))],
    [1, (n, current) => (current ? n : '')],
  ];
  let tabs: Tabs = Object.assign([], { gap: 1 });
  for (const [gap, name] of tries) {
    tabs = Object.assign(
      SCREENS.map((s) => ({ id: s.id, current: s.id === screen, label: name(s.name, s.id === screen) ? `${s.key} ${name(s.name, s.id === screen)}` : s.key })),
      { gap },
    );
    const w = tabs.reduce((a, t, i) => a + (i > 0 ? gap : 0) + 1 + textWidth(t.label), 0);
    if (w <= width) return tabs;
  }
  return tabs;
}

function tildify(dir: string): string {
  const home = homedir();
  return home && (dir === home || dir.startsWith(home + '/')) ? '~' + dir.slice(home.length) : dir;
}
