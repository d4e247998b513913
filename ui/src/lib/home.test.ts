import { describe, expect, it } from 'vitest';
import type { HomeRun } from '../bindings/HomeRun';
import type { HomeView } from '../bindings/HomeView';
import { attention, badges, connectionLine, lastRunHeadline, nextRunWords, problemWords, relativeTime } from './home';

const NOW = Date.parse('2026-12-03T12:00:00Z');

const run = (over: Partial<HomeRun> = {}): HomeRun => ({
  id: 7,
  direction: 'sync',
  trigger: 'button',
  started_at: '2026-12-03T11:55:00Z',
  finished_at: '2026-12-03T11:56:00Z',
  outcome: 'succeeded',
  sent: 3,
  received: 2,
  failed: 0,
  waiting: 0,
  held: 0,
  ...over,
});

const home = (over: Partial<HomeView> = {}): HomeView => ({
  instance: 'Shop',
  company_id: '9341',
  connection: 'connected',
  reconnect_by: null,
  last_run: run(),
  held_conflicts: 0,
  next_run: { kind: 'manual' },
  summary: 'connected · last run succeeded',
  ...over,
});

describe('home', () => {
  it('says times relative to now, past and future', () => {
    expect(relativeTime('2026-12-03T11:59:40Z', NOW)).toBe('just now');
    expect(relativeTime('2026-12-03T11:55:00Z', NOW)).toBe('5 minutes ago');
    expect(relativeTime('2026-12-03T13:00:00Z', NOW)).toBe('in 1 hour');
    expect(relativeTime('2026-12-13T12:00:00Z', NOW)).toBe('in 10 days');
  });

  it('says the connection and, when it is not usable, which button to press', () => {
    expect(connectionLine(home())).toEqual({ text: 'Connected to QuickBooks company 9341.', tone: 'ok' });
    expect(connectionLine(home(), 'Sandbox Company US 1')).toEqual({ text: 'Connected to Sandbox Company US 1 in QuickBooks.', tone: 'ok' });
    expect(connectionLine(home({ connection: 'not_connected' })).text).toContain('press Connect');
    expect(connectionLine(home({ connection: 'reconnect_needed' })).text).toContain('press Reconnect');
  });

  it('tells the last run and its problems apart', () => {
    expect(lastRunHeadline(run())).toBe('Sync #7 (started by hand): succeeded');
    expect(problemWords(run())).toBe('No problems.');
    expect(problemWords(run({ failed: 1, held: 2 }))).toBe('1 failed, 2 held as conflicts.');
  });

  it('lists what needs the operator with the button that does it, nothing when all is well', () => {
    expect(attention(home(), NOW)).toEqual([]);
    const items = attention(
      home({ held_conflicts: 2, last_run: run({ failed: 1 }), reconnect_by: '2026-12-13T12:00:00Z' }),
      NOW,
    );
    expect(items.map((i) => [i.kind, i.button, i.screen])).toEqual([
      ['reconnect', 'Open Connection', 'connection'],
      ['conflicts', 'Open Conflicts', 'conflicts'],
      ['failed', 'Open History', 'history'],
    ]);
    expect(items[0]?.text).toContain('in 10 days');
    expect(items[2]?.runId).toBe(7);
    expect(attention(home({ connection: 'reconnect_needed', reconnect_by: '2026-12-01T00:00:00Z' }), NOW)).toHaveLength(1);
  });

  it('says when the next run is, or that there is none', () => {
    expect(nextRunWords({ kind: 'manual' }, NOW)).toContain('Sync now');
    expect(nextRunWords({ kind: 'paused' }, NOW)).toContain('Resume schedules');
    expect(nextRunWords({ kind: 'at', at: '2026-12-03T12:30:00Z' }, NOW)).toContain('(in 30 minutes)');
  });

  it('counts the sidebar badges from the same view', () => {
    expect(badges(null)).toEqual({ conflicts: 0, history: 0 });
    expect(badges(home({ held_conflicts: 3, last_run: run({ failed: 2 }) }))).toEqual({ conflicts: 3, history: 2 });
  });
});
