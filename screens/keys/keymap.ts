/** One entry of the footer or the help overlay: the keys as the operator types them, and what they do. */
export interface KeyHint {
  keys: string;
  label: string;
}

/**
 * The whole key map, the same on every screen; the help overlay lists it. A screen whose keys
 * come from its own table (Health: HEALTH_KEYS) adds its line from that table, so it cannot drift.
 */
export const KEY_MAP: readonly KeyHint[] = [
  { keys: '1-7', label: 'go to Targets, Catalog, Restore, Drill, Health, Training, Strategy' },
  { keys: '↑ ↓  j k', label: 'move the selection' },
  { keys: 'enter', label: 'open the selected item' },
  { keys: 'esc  q', label: 'go back; q on Targets quits' },
  { keys: 'tab', label: 'switch panes, on screens that have them' },
  { keys: '/', label: 'filter the table; enter keeps it, esc clears it' },
  { keys: '?', label: 'show or hide this help' },
  { keys: 'a e d t', label: 'Targets: add, edit, remove (type the name), test' },
  // vV and Rr are pairs: the keys column stays as wide as before, so every line fits 80 columns.
  { keys: 'b vV Rr a', label: 'Catalog: backup, verify, by restore, R to time, restore, verify all' },
  { keys: 'd', label: 'Drill: run a drill (tab edits to/RTO/RPO)' },
  { keys: 'r h f s e', label: 'Training: restore, health, repair, score, end' },
  { keys: 'x', label: 'cancel a running backup, restore or drill (asks y/N)' },
  { keys: 'X', label: 'Restore, Training: stop a server a restore left (asks y/N)' },
  { keys: 'ctrl-c', label: 'quit from anywhere' },
];

/** Footer hints that work on every screen, after the screen's own. */
export function globalHints(isTopLevel: boolean): KeyHint[] {
  return [
    { keys: '1-7', label: 'screens' },
    { keys: '?', label: 'help' },
    isTopLevel ? { keys: 'q', label: 'quit' } : { keys: 'esc', label: 'back' },
  ];
}
