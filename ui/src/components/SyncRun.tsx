// A run of one instance as a screen follows it: started by a button here, or already going
// (another screen, the tray, the schedule), its progress and its end arriving as events.

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError, events } from '../api';
import type { Direction } from '../bindings/Direction';
import type { Progress } from '../bindings/Progress';
import type { RunSummary } from '../bindings/RunSummary';
import type { Notify } from './common';
import { phaseWords, progressWords } from '../lib/history';

export type SyncRun = {
  running: boolean;
  progress: Progress | null;
  result: RunSummary | null;
  /** Starts a run through the `sync` command; answers whether it ran to its end. */
  start: (direction: Direction, modules: string[] | null) => Promise<boolean>;
  /** Starts another kind of run (a read of the linked platform) and follows it the same way. */
  startWith: (call: () => Promise<RunSummary>) => Promise<boolean>;
  cancel: () => void;
};

export function useSyncRun(name: string, notify: Notify): SyncRun {
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [result, setResult] = useState<RunSummary | null>(null);

  useEffect(() => {
    api.runningSyncs().then(
      (names) => names.includes(name) && setRunning(true),
      () => undefined,
    );
    const stops = [
      events.syncProgress((event) => {
        if (event.instance !== name) return;
        setRunning(true);
        setProgress(event.progress);
      }),
      events.syncFinished((event) => {
        if (event.instance !== name) return;
        setRunning(false);
        if (event.summary) setResult(event.summary);
      }),
    ];
    return () => stops.forEach((stop) => stop.then((unlisten) => unlisten()));
  }, [name]);

  const startWith = async (call: () => Promise<RunSummary>) => {
    setRunning(true);
    setProgress(null);
    setResult(null);
    try {
      setResult(await call());
    } catch (error) {
      const problem = asApiError(error);
      // Busy: a run of this instance is already going; its events keep this screen running.
      if (problem.code !== 'busy') setRunning(false);
      notify(problem);
      return false;
    }
    setRunning(false);
    return true;
  };

  const start = (direction: Direction, modules: string[] | null) => startWith(() => api.sync(name, direction, modules));

  return { running, progress, result, start, startWith, cancel: () => void api.cancelSync(name) };
}

/** The bar and the line under it while a run goes: which module, which way, how far. */
export function SyncProgress({ running, progress }: { running: boolean; progress: Progress | null }) {
  if (!running && !progress) return null;
  const percent = progress && progress.total > 0 ? Math.round((progress.done / progress.total) * 100) : 0;
  return (
    <div class="progress-block">
      <div
        class="progress"
        role="progressbar"
        aria-label={progress ? `${progress.module}: ${phaseWords(progress.phase)}` : 'Sync starting'}
        aria-valuetext={progress ? `${progress.done} of ${progress.total}` : undefined}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        data-testid="progress"
        data-done={progress?.done ?? 0}
        data-total={progress?.total ?? 0}
      >
        <div class="bar" style={`width:${percent}%`} />
      </div>
      <p class="hint">
        {progress ? progressWords(progress) : 'Starting…'}
        {progress?.current ? ` — ${progress.current}` : ''}
      </p>
    </div>
  );
}
