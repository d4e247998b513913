import type { Counts } from '../bindings/Counts';
import type { HistoryRecord } from '../bindings/HistoryRecord';
import type { HomeRun } from '../bindings/HomeRun';
import type { Outcome } from '../bindings/Outcome';
import type { OutcomeFilter } from '../bindings/OutcomeFilter';
import type { RunFilter } from '../bindings/RunFilter';
import type { RunRow } from '../bindings/RunRow';
import type { Phase } from '../bindings/Phase';
import type { Progress } from '../bindings/Progress';
import type { RecordOp } from '../bindings/RecordOp';
import type { RunOutcome } from '../bindings/RunOutcome';

export type RunTotals = { ok: number; failed: number; blocked: number; held: number };

/** A run's counts over all its modules. */
export function runTotals(run: RunRow): RunTotals {
  const totals: RunTotals = { ok: 0, failed: 0, blocked: 0, held: 0 };
  for (const counts of Object.values(run.counts)) {
    totals.ok += counts.ok;
    totals.failed += counts.failed;
    totals.blocked += counts.blocked;
    totals.held += counts.held;
  }
  return totals;
}

const RUN_OUTCOME_WORDS: Record<RunOutcome, string> = {
  succeeded: 'succeeded',
  failed_records: 'failed records',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

/** How a run ended, as an operator reads it; a run with no outcome yet is still going. */
export function runOutcomeWords(outcome: RunOutcome | null): string {
  return outcome === null ? 'running' : RUN_OUTCOME_WORDS[outcome];
}

/** A finished run's outcome in words: a run where nothing failed, and records only wait for
 * others or are held for the operator, does not read as "failed records". */
export function runResultWords(outcome: RunOutcome | null, counts: Record<string, { failed: number }>): string {
  if (outcome === 'failed_records' && Object.values(counts).every((c) => c.failed === 0)) {
    return 'finished, with records that wait or are held for you';
  }
  return runOutcomeWords(outcome);
}

const NOTHING: Counts = { ok: 0, failed: 0, skipped: 0, blocked: 0, held: 0 };

/** A run's result table: every module of the spec in its order, those with nothing to do
 * too (progress named them, so should the result), then any the run counted that the spec
 * no longer has. */
export function resultRows(modules: string[], counts: Record<string, Counts>): [string, Counts][] {
  const extra = Object.keys(counts).filter((m) => !modules.includes(m));
  return [...modules, ...extra].map((m) => [m, counts[m] ?? NOTHING]);
}

const PULLS: ReadonlySet<RecordOp> = new Set<RecordOp>(['pull_create', 'pull_update', 'pull_delete']);

/** A record brought from QuickBooks rather than sent to it. */
export function isPull(operation: RecordOp): boolean {
  return PULLS.has(operation);
}

const PHASE_WORDS: Record<Phase, string> = {
  mirror: 'reading the platform',
  push: 'push',
  pull: 'pull',
  write_back: 'writing back to the platform',
};

export function phaseWords(phase: Phase): string {
  return PHASE_WORDS[phase];
}

/**
 * A run's progress line. A read of the platform does not know its total before the end (the
 * platform gives no count), so it says how many so far rather than "3 of 0".
 */
export function progressWords(progress: Progress): string {
  const phase = phaseWords(progress.phase);
  const howFar = progress.total > 0 ? `${progress.done} of ${progress.total}` : `${progress.done} so far`;
  return `${progress.module}: ${phase} ${howFar}`;
}

/** The outcome choices History filters by, each the set of final outcomes it lets through. */
export const OUTCOME_CHOICES = [
  { value: 'all', label: 'Every outcome', outcomes: [] },
  { value: 'problems', label: 'Problems', outcomes: ['failed', 'blocked', 'held'] },
  { value: 'failed', label: 'Failed', outcomes: ['failed'] },
  { value: 'blocked', label: 'Waiting', outcomes: ['blocked'] },
  { value: 'held', label: 'Held', outcomes: ['held'] },
  { value: 'ok', label: 'Done', outcomes: ['ok'] },
  { value: 'skipped', label: 'Skipped', outcomes: ['skipped'] },
] as const satisfies readonly { value: string; label: string; outcomes: readonly Outcome[] }[];

export type OutcomeChoice = (typeof OUTCOME_CHOICES)[number]['value'];

/** What the operator set above History's lists: dates as `<input type="date">` gives them. */
export type HistoryFilters = { outcome: OutcomeChoice; module: string; search: string; from: string; to: string };

export const NO_FILTERS: HistoryFilters = { outcome: 'all', module: '', search: '', from: '', to: '' };

function outcomesOf(choice: OutcomeChoice): Outcome[] {
  return [...(OUTCOME_CHOICES.find((c) => c.value === choice)?.outcomes ?? [])];
}

/** The open run's records the filters let through. */
export function outcomeFilter(filters: HistoryFilters): OutcomeFilter {
  const search = filters.search.trim();
  return { outcomes: outcomesOf(filters.outcome), module: filters.module || null, search: search || null };
}

/**
 * A calendar day's start in the operator's time zone, as the instant the connector compares:
 * the operator means their own day, not UTC's. `null` for no date or a malformed one.
 */
export function localDayStart(date: string, daysLater = 0): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return null;
  const day = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + daysLater);
  return Number.isNaN(day.getTime()) ? null : day.toISOString();
}

/** The runs the filters let through: started on or after `from`, on or before `to` (whole days, local). */
export function runFilter(filters: HistoryFilters): RunFilter {
  return {
    from: localDayStart(filters.from),
    to: localDayStart(filters.to, 1),
    run_outcomes: [],
    outcomes: outcomesOf(filters.outcome),
    module: filters.module || null,
  };
}

/** A record as lists name it: its name, or its id when the store has no name for it. */
export function recordName(record: { name: string | null; record_id: string }): string {
  return record.name ?? record.record_id;
}

export type RowAction = 'open' | 'trail' | 'resync' | 'unlink';

/** What a record's menu offers, in its order. */
export function rowActions(record: HistoryRecord): RowAction[] {
  const actions: RowAction[] = [];
  if (record.quickbooks_url) actions.push('open');
  // A pulled record that failed may have no platform record yet: no trail, nothing to send.
  const platformRecord = !isPull(record.operation) || record.outcome === 'ok';
  if (platformRecord) actions.push('trail', 'resync');
  if (record.qbo_id) actions.push('unlink');
  return actions;
}

export const ROW_ACTION_WORDS: Record<RowAction, string> = {
  open: 'Open in QuickBooks',
  trail: 'Trail',
  resync: 'Re-sync',
  unlink: 'Unlink',
};

/** The name a run's report is saved under. */
export function reportFileName(instance: string, runId: number, filters: HistoryFilters): string {
  const slug = instance.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'instance';
  const part = filters.outcome === 'all' ? '' : `-${filters.outcome}`;
  return `${slug}-run-${runId}${part}.csv`;
}

/** The open run's counts in a line: sent and received apart, then what needs the operator. */
export function runCountWords(run: HomeRun): string {
  const parts = [`${run.sent} sent`, `${run.received} received`];
  if (run.failed) parts.push(`${run.failed} failed`);
  if (run.waiting) parts.push(`${run.waiting} waiting`);
  if (run.held) parts.push(`${run.held} held`);
  return parts.join(' · ');
}
