// Light or dark: the operator's choice, or the system's when they leave it to the system.

export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'qbconnector.theme';

/** The theme to draw with. */
export function effectiveTheme(choice: ThemeChoice, systemPrefersDark: boolean): 'light' | 'dark' {
  if (choice === 'system') return systemPrefersDark ? 'dark' : 'light';
  return choice;
}

/** The saved choice; anything unknown (an older or hand-edited value) is the system's. */
export function readThemeChoice(storage: Pick<Storage, 'getItem'>): ThemeChoice {
  const saved = storage.getItem(KEY);
  return saved === 'light' || saved === 'dark' ? saved : 'system';
}

export function saveThemeChoice(storage: Pick<Storage, 'setItem' | 'removeItem'>, choice: ThemeChoice): void {
  if (choice === 'system') storage.removeItem(KEY);
  else storage.setItem(KEY, choice);
}
