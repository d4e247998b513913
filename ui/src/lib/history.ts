import type { RunRow } from '../bindings/RunRow';

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
