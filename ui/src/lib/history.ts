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
