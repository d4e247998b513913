// The dry-run plan as the Sync screen shows it.

import type { PlanView } from '../bindings/PlanView';

export type PlanCounts = { create: number; update: number; delete: number; link: number; skip: number; fail: number };

export function countOperations(plan: PlanView): PlanCounts {
  const counts: PlanCounts = { create: 0, update: 0, delete: 0, link: 0, skip: 0, fail: 0 };
  for (const planned of plan.operations) counts[planned.operation.op] += 1;
  return counts;
}

/** "3 to create · 1 to update", leaving out what is zero; "nothing to send" when all are. */
export function describeCounts(counts: PlanCounts): string {
  const words: [keyof PlanCounts, string][] = [
    ['create', 'to create'],
    ['update', 'to update'],
    ['delete', 'to delete'],
    ['link', 'to link'],
    ['fail', 'failing'],
    ['skip', 'unchanged'],
  ];
  const parts = words.filter(([key]) => counts[key] > 0).map(([key, word]) => `${counts[key]} ${word}`);
  return parts.length ? parts.join(' · ') : 'nothing to send';
}
