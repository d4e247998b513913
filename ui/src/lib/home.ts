// The Home screen's words: what the connector counted (`HomeView`), said as an operator
// reads it, each message with what to do next. No framework, so Vitest tests it as is.

import type { HomeRun } from '../bindings/HomeRun';
import type { HomeView } from '../bindings/HomeView';
import type { NextRun } from '../bindings/NextRun';
import { plural } from './format';
import { runOutcomeWords } from './history';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 minutes ago", "in 2 hours", "3 days ago". */
export function relativeTime(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const diff = at - now;
  const span = Math.abs(diff);
  if (span < MINUTE) return diff > 0 ? 'in under a minute' : 'just now';
  const words =
    span < HOUR
      ? plural(Math.round(span / MINUTE), 'minute')
      : span < DAY
        ? plural(Math.round(span / HOUR), 'hour')
        : plural(Math.round(span / DAY), 'day');
  return diff > 0 ? `in ${words}` : `${words} ago`;
}

export type Tone = 'ok' | 'warn' | 'bad';

/** The connection in one sentence, and what to do when it is not usable. The company is
 * named by its name once QuickBooks has told it, by its id until then. */
export function connectionLine(home: HomeView, companyName: string | null = null): { text: string; tone: Tone } {
  const company = companyName ? `${companyName} in QuickBooks` : home.company_id ? `QuickBooks company ${home.company_id}` : 'QuickBooks';
  switch (home.connection) {
    case 'connected':
      return { text: `Connected to ${company}.`, tone: 'ok' };
    case 'not_connected':
      return { text: 'Not connected to QuickBooks. Open Connection and press Connect.', tone: 'bad' };
    case 'reconnect_needed':
      return { text: `The connection to ${company} has ended. Open Connection and press Reconnect.`, tone: 'bad' };
  }
}

/** Whom the run was started by, in words. */
const TRIGGER_WORDS: Record<HomeRun['trigger'], string> = {
  button: 'started by hand',
  schedule: 'scheduled',
  cli: 'started from the command line',
  retry: 'a retry',
};

/** The last run's headline: which way, how started, how it ended. */
export function lastRunHeadline(run: HomeRun): string {
  const way = run.direction === 'sync' ? 'Sync' : run.direction === 'push' ? 'Push' : 'Pull';
  return `${way} #${run.id} (${TRIGGER_WORDS[run.trigger]}): ${runOutcomeWords(run.outcome)}`;
}

/** The problems of a run in words, or that there were none. */
export function problemWords(run: HomeRun): string {
  if (run.failed + run.waiting + run.held === 0) return 'No problems.';
  const parts = [];
  if (run.failed) parts.push(`${run.failed} failed`);
  if (run.waiting) parts.push(`${run.waiting} waiting for another record`);
  if (run.held) parts.push(`${run.held} held as conflicts`);
  return `${parts.join(', ')}.`;
}

export type Attention = {
  kind: 'reconnect' | 'connect' | 'conflicts' | 'failed';
  text: string;
  /** The button's label, and the screen it opens. */
  button: string;
  screen: 'connection' | 'conflicts' | 'history';
  runId?: number;
};

/** What needs the operator, most pressing first; empty when nothing does. */
export function attention(home: HomeView, now: number): Attention[] {
  const items: Attention[] = [];
  if (home.connection === 'not_connected') {
    items.push({ kind: 'connect', text: 'Connect to QuickBooks before the first sync.', button: 'Open Connection', screen: 'connection' });
  } else if (home.connection === 'reconnect_needed') {
    items.push({ kind: 'reconnect', text: 'Syncing has stopped until you reconnect.', button: 'Open Connection', screen: 'connection' });
  } else if (home.reconnect_by) {
    items.push({
      kind: 'reconnect',
      text: `Reconnect by ${new Date(home.reconnect_by).toLocaleDateString()} (${relativeTime(home.reconnect_by, now)}), or syncing stops then.`,
      button: 'Open Connection',
      screen: 'connection',
    });
  }
  if (home.held_conflicts > 0) {
    items.push({
      kind: 'conflicts',
      text: `${plural(home.held_conflicts, 'conflict')} held: changed on both sides. Choose which values to keep.`,
      button: 'Open Conflicts',
      screen: 'conflicts',
    });
  }
  const run = home.last_run;
  if (run && run.failed > 0) {
    items.push({
      kind: 'failed',
      text: `${plural(run.failed, 'record')} failed in the last run. Read each error, fix it, then press Retry failed.`,
      button: 'Open History',
      screen: 'history',
      runId: run.id,
    });
  }
  return items;
}

/** When the instance runs by itself next. */
export function nextRunWords(next: NextRun, now: number): string {
  switch (next.kind) {
    case 'manual':
      return 'Manual: it syncs only when you press Sync now. Set a schedule in Settings.';
    case 'paused':
      return 'Paused: no scheduled run until you resume. Clear Paused in Settings, or press Resume schedules in the tray.';
    case 'at':
      return `Next scheduled run ${new Date(next.at).toLocaleString()} (${relativeTime(next.at, now)}).`;
  }
}

/** The counts on the sidebar's entries: held conflicts, failed records of the last run. */
export function badges(home: HomeView | null): { conflicts: number; history: number } {
  return { conflicts: home?.held_conflicts ?? 0, history: home?.last_run?.failed ?? 0 };
}
