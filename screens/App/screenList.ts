export const SCREENS = [
  { id: 'targets', key: '1', name: 'Targets' },
  { id: 'catalog', key: '2', name: 'Catalog' },
  { id: 'restore', key: '3', name: 'Restore' },
  { id: 'drill', key: '4', name: 'Drill' },
  { id: 'health', key: '5', name: 'Health' },
  { id: 'training', key: '6', name: 'Training' },
  { id: 'strategy', key: '7', name: 'Strategy' },
] as const;

export type ScreenId = (typeof SCREENS)[number]['id'];

/** The screen a number key jumps to, if any. */
export function screenForKey(input: string): ScreenId | undefined {
  return SCREENS.find((s) => s.key === input)?.id;
}

export function screenName(id: ScreenId): string {
  return SCREENS.find((s) => s.id === id)!.name;
}
