import type { RunRow } from '../bindings/RunRow';

/** A run's counts over all its modules. */
export function runTotals(run: RunRow): { ok: number; failed: number; held: number } {
  let ok = 0;
  let failed = 0;
  let held = 0;
  for (const counts of Object.values(run.counts)) {
    ok += counts.ok;
    failed += counts.failed;
    held += counts.held;
  }
  return { ok, failed, held };
}
