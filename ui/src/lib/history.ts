import type { RunRow } from '../bindings/RunRow';
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

const PULLS: ReadonlySet<RecordOp> = new Set<RecordOp>(['pull_create', 'pull_update', 'pull_delete']);

/** A record brought from QuickBooks rather than sent to it. */
export function isPull(operation: RecordOp): boolean {
  return PULLS.has(operation);
}
