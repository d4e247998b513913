// The window: a sidebar with the instance picker and the screens, the current screen,
// and one place where messages and errors show.

import { useCallback, useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { api, asApiError, events, type ApiError, type InstanceView } from './api';
import type { AppInfo } from './bindings/AppInfo';
import { StatusBar } from './components/common';
import { Conflicts } from './screens/Conflicts';
import { Connection } from './screens/Connection';
import { History } from './screens/History';
import { Instances } from './screens/Instances';
import { Mappings } from './screens/Mappings';
import { Records } from './screens/Records';
import { Settings } from './screens/Settings';
import { Sync } from './screens/Sync';
import { effectiveTheme, readThemeChoice, saveThemeChoice, type ThemeChoice } from './lib/theme';

const SCREENS = [
  ['instances', 'Instances'],
  ['settings', 'Settings'],
  ['connection', 'Connection'],
  ['mappings', 'Mappings'],
  ['records', 'Records'],
  ['sync', 'Sync'],
  ['history', 'History'],
  ['conflicts', 'Conflicts'],
] as const;
type Screen = (typeof SCREENS)[number][0];
const NEEDS_INSTANCE: Screen[] = ['settings', 'connection', 'mappings', 'sync', 'history', 'conflicts'];

/** The operator's theme choice, drawn before the first paint and following the system when left to it. */
function useTheme(): [ThemeChoice, (choice: ThemeChoice) => void] {
  const [choice, setChoice] = useState<ThemeChoice>(() => readThemeChoice(localStorage));
  useLayoutEffect(() => {
    const system = matchMedia('(prefers-color-scheme: dark)');
    const apply = () => (document.documentElement.dataset.theme = effectiveTheme(choice, system.matches));
    apply();
    system.addEventListener('change', apply);
    return () => system.removeEventListener('change', apply);
  }, [choice]);
  const choose = (next: ThemeChoice) => {
    saveThemeChoice(localStorage, next);
    setChoice(next);
  };
  return [choice, choose];
}

export function App() {
  const [theme, setTheme] = useTheme();
  const [instances, setInstances] = useState<InstanceView[] | null>(null);
  const [current, setCurrent] = useState<string | null>(null);
  const [screen, setScreen] = useState<Screen>('instances');
  // Each message is new (a counter), so the same words twice are shown and fade twice.
  const [notice, setNotice] = useState<{ message: ApiError | string; id: number; faded: boolean } | null>(null);
  const [about, setAbout] = useState<AppInfo | null>(null);
  useEffect(() => {
    api.appInfo().then(setAbout, () => setAbout(null));
  }, []);

  // A message is about the screen it was raised on: it leaves with that screen.
  const go = useCallback((next: Screen) => {
    setScreen(next);
    setNotice(null);
  }, []);

  const notify = useCallback(
    (message: ApiError | string) => setNotice((last) => ({ message, id: (last?.id ?? 0) + 1, faded: false })),
    [],
  );
  const reload = useCallback(async () => {
    try {
      const list = await api.instances();
      setInstances(list);
      setCurrent((name) => (name && list.some((i) => i.name === name) ? name : (list[0]?.name ?? null)));
    } catch (error) {
      notify(asApiError(error));
    }
  }, [notify]);

  useEffect(() => {
    reload();
    const stops = [
      events.instancesChanged(reload),
      events.openScreen((e) => {
        if (e.instance) setCurrent(e.instance);
        go(e.screen as Screen);
      }),
      events.syncFinished((e) => {
        if (e.error) notify(e.error);
      }),
    ];
    return () => stops.forEach((stop) => stop.then((unlisten) => unlisten()));
  }, [reload, notify, go]);

  // Information fades after a few seconds; errors stay until dismissed or the screen changes.
  const noticeId = notice?.id;
  const fades = typeof notice?.message === 'string';
  useEffect(() => {
    if (!fades) return;
    const timer = setTimeout(() => setNotice((n) => (n && n.id === noticeId ? { ...n, faded: true } : n)), 4000);
    return () => clearTimeout(timer);
  }, [noticeId, fades]);

  const instance = instances?.find((i) => i.name === current) ?? null;
  const pick = (name: string) => {
    setCurrent(name);
    reload();
  };

  let body;
  if (instances === null) body = <div class="screen">Loading…</div>;
  else if (NEEDS_INSTANCE.includes(screen) && !instance)
    body = <div class="screen"><p class="empty">Activate an instance first.</p></div>;
  else if (screen === 'settings' && instance)
    body = <Settings key={instance.name} instance={instance} notify={notify} onSaved={reload} />;
  else if (screen === 'connection' && instance)
    body = <Connection key={instance.name} instance={instance} notify={notify} onChanged={reload} />;
  else if (screen === 'mappings' && instance) body = <Mappings key={instance.name} instance={instance} notify={notify} />;
  else if (screen === 'records') body = <Records notify={notify} />;
  else if (screen === 'sync' && instance) body = <Sync key={instance.name} instance={instance} notify={notify} />;
  else if (screen === 'history' && instance) body = <History key={instance.name} instance={instance} notify={notify} />;
  else if (screen === 'conflicts' && instance) body = <Conflicts key={instance.name} instance={instance} notify={notify} />;
  else body = <Instances instances={instances} current={current} onPick={pick} notify={notify} />;

  return (
    <div class="layout">
      <nav class="sidebar" aria-label="Screens">
        <div class="brand">QuickBooks Connector</div>
        <label class="picker">
          Instance
          <select
            data-testid="instance-select"
            value={current ?? ''}
            disabled={!instances?.length}
            onChange={(e) => setCurrent((e.target as HTMLSelectElement).value)}
          >
            {!instances?.length && <option value="">(none yet)</option>}
            {instances?.map((i) => (
              <option key={i.id} value={i.name}>
                {i.name}
              </option>
            ))}
          </select>
        </label>
        <ul>
          {SCREENS.map(([id, label]) => (
            <li key={id}>
              <button
                type="button"
                data-testid={`nav-${id}`}
                class={screen === id ? 'active' : ''}
                aria-current={screen === id ? 'page' : undefined}
                onClick={() => go(id)}
              >
                {label}
              </button>
            </li>
          ))}
        </ul>
        <label class="picker theme">
          Theme
          <select data-testid="theme-select" value={theme} onChange={(e) => setTheme((e.target as HTMLSelectElement).value as ThemeChoice)}>
            <option value="system">As the system</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
        {about && (
          <p class="about hint" title={`Data: ${about.data_dir}`} data-testid="about">
            Version {about.version}
            {!about.tray_available && <> · no tray on this desktop: closing the window quits</>}
          </p>
        )}
      </nav>
      <div class="workspace">
        <main class="content">{body}</main>
        <StatusBar message={notice?.message ?? null} faded={notice?.faded ?? false} onClose={() => setNotice(null)} />
      </div>
    </div>
  );
}
