// The window: a sidebar with the instance picker and the screens, the current screen,
// and one place where messages and errors show.

import { useCallback, useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { api, asApiError, events, type ApiError, type InstanceView } from './api';
import type { HomeView } from './bindings/HomeView';
import type { AppInfo } from './bindings/AppInfo';
import { StatusBar } from './components/common';
import { Conflicts } from './screens/Conflicts';
import { Connection } from './screens/Connection';
import { Home, type HomeTarget } from './screens/Home';
import { History } from './screens/History';
import { Instances } from './screens/Instances';
import { Mappings } from './screens/Mappings';
import { Platform } from './screens/Platform';
import { Records } from './screens/Records';
import { Settings } from './screens/Settings';
import { Sync } from './screens/Sync';
import { badges } from './lib/home';
import { effectiveTheme, readThemeChoice, saveThemeChoice, type ThemeChoice } from './lib/theme';

const SCREENS = [
  ['home', 'Home'],
  ['instances', 'Instances'],
  ['settings', 'Settings'],
  ['platform', 'Platform'],
  ['connection', 'Connection'],
  ['mappings', 'Mappings'],
  ['records', 'Records'],
  ['sync', 'Sync'],
  ['history', 'History'],
  ['conflicts', 'Conflicts'],
] as const;
type Screen = (typeof SCREENS)[number][0];
const NEEDS_INSTANCE: Screen[] = ['home', 'settings', 'platform', 'connection', 'mappings', 'sync', 'history', 'conflicts'];

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
  // Home first; without an instance it shows Instances instead, where the first is made.
  const [screen, setScreen] = useState<Screen>('home');
  const [home, setHome] = useState<HomeView | null>(null);
  // The run History opens on when Home's "Open History" is pressed.
  const [historyRun, setHistoryRun] = useState<number | null>(null);
  // The server variable Settings opens on when a problem's Fix is pressed.
  const [focusVariable, setFocusVariable] = useState<string | null>(null);
  // Each message is new (a counter), so the same words twice are shown and fade twice.
  const [notice, setNotice] = useState<{ message: ApiError | string; id: number; faded: boolean } | null>(null);
  const [about, setAbout] = useState<AppInfo | null>(null);
  useEffect(() => {
    api.appInfo().then(setAbout, () => setAbout(null));
  }, []);

  // A message is about the screen it was raised on: it leaves with that screen.
  const go = useCallback((next: Screen) => {
    setScreen(next);
    setHistoryRun(null);
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

  // The Home view feeds the Home screen and the sidebar's badges: read again whenever a run
  // ends or an instance changes (connected, renamed, paused from the tray).
  useEffect(() => {
    if (!current) {
      setHome(null);
      return;
    }
    let live = true;
    const load = () =>
      api.home(current).then(
        (view) => live && setHome(view),
        () => live && setHome(null),
      );
    load();
    const stops = [events.syncFinished(load), events.instancesChanged(load)];
    return () => {
      live = false;
      stops.forEach((stop) => stop.then((unlisten) => unlisten()));
    };
  }, [current]);

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
    go('home');
  };
  const openFromHome = (target: HomeTarget) => {
    go(target.screen);
    if (target.runId !== undefined) setHistoryRun(target.runId);
    setFocusVariable(target.variable ?? null);
  };
  const counts = badges(home && home.instance === current ? home : null);

  let body;
  if (instances === null) body = <div class="screen">Loading…</div>;
  else if (screen === 'home' && !instance) body = <Instances instances={instances} current={current} onPick={pick} notify={notify} />;
  else if (screen === 'home' && instance)
    body = <Home key={instance.name} instance={instance} home={home} notify={notify} onOpen={openFromHome} />;
  else if (NEEDS_INSTANCE.includes(screen) && !instance)
    body = <div class="screen"><p class="empty">Activate an instance first.</p></div>;
  else if (screen === 'settings' && instance)
    body = (
      <Settings
        key={instance.name}
        instance={instance}
        notify={notify}
        onSaved={reload}
        onOpenConnection={() => go('connection')}
        focusVariable={focusVariable}
      />
    );
  else if (screen === 'platform' && instance) body = <Platform key={instance.name} instance={instance} notify={notify} />;
  else if (screen === 'connection' && instance)
    body = <Connection key={instance.name} instance={instance} notify={notify} onChanged={reload} />;
  else if (screen === 'mappings' && instance) body = <Mappings key={instance.name} instance={instance} notify={notify} />;
  else if (screen === 'records') body = <Records instance={instance} notify={notify} />;
  else if (screen === 'sync' && instance) body = <Sync key={instance.name} instance={instance} notify={notify} />;
  else if (screen === 'history' && instance) body = <History key={`${instance.name}-${historyRun}`} instance={instance} notify={notify} openRun={historyRun} />;
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
            onChange={(e) => {
              setCurrent((e.target as HTMLSelectElement).value);
              go('home');
            }}
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
                onClick={() => {
                  setFocusVariable(null);
                  go(id);
                }}
              >
                {label}
                {id === 'conflicts' && counts.conflicts > 0 && (
                  <span class="nav-badge" data-testid="badge-conflicts" aria-label={`${counts.conflicts} held`}>
                    {counts.conflicts}
                  </span>
                )}
                {id === 'history' && counts.history > 0 && (
                  <span class="nav-badge" data-testid="badge-history" aria-label={`${counts.history} failed in the last run`}>
                    {counts.history}
                  </span>
                )}
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
