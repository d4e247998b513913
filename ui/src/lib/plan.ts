// The dry-run plan as the Sync screen shows it.

import type { Operation } from '../bindings/Operation';
import type { PlanView } from '../bindings/PlanView';
import type { SkipWhy } from '../bindings/SkipWhy';
import type { JsonValue } from '../bindings/serde_json/JsonValue';

type Kind = Exclude<Operation['op'], 'skip'> | SkipWhy;

export type PlanCounts = Record<Kind, number>;

/** What each kind of operation is called in a count, in the order counts are read. */
const WORDS: [Kind, string][] = [
  ['create', 'to create'],
  ['update', 'to update'],
  ['delete', 'to delete'],
  ['link', 'to link'],
  ['fail', 'failing'],
  ['waiting', 'waiting for a record they refer to'],
  ['switched_off', 'switched off'],
  ['nothing_to_send', 'with nothing to send'],
  ['never_sent', 'deleted before reaching QuickBooks'],
  ['unchanged', 'unchanged'],
];

function kindOf(operation: Operation): Kind {
  return operation.op === 'skip' ? operation.why : operation.op;
}

export function countOperations(plan: PlanView): PlanCounts {
  const counts = Object.fromEntries(WORDS.map(([kind]) => [kind, 0])) as PlanCounts;
  for (const planned of plan.operations) counts[kindOf(planned.operation)] += 1;
  return counts;
}

/** "3 to create · 1 unchanged", leaving out what is zero; "nothing to send" when all are. */
export function describeCounts(counts: PlanCounts): string {
  const parts = WORDS.filter(([kind]) => counts[kind] > 0).map(([kind, word]) => `${counts[kind]} ${word}`);
  return parts.length ? parts.join(' · ') : 'nothing to send';
}

/** Whether the plan lists the record one by one: what would be written, or why it would not. */
export function worthListing(operation: Operation): boolean {
  return operation.op === 'create' || operation.op === 'delete' || operation.op === 'fail' || (operation.op === 'skip' && operation.why === 'waiting');
}

/** A body's leaves as dotted paths (`Line[0].Amount`), for a new record's field-level view. */
export function fieldsOf(body: JsonValue, path = ''): [string, JsonValue][] {
  if (Array.isArray(body)) return body.flatMap((item, index) => fieldsOf(item, `${path}[${index}]`));
  if (body !== null && typeof body === 'object') {
    return Object.entries(body).flatMap(([key, value]) => fieldsOf(value as JsonValue, path ? `${path}.${key}` : key));
  }
  return [[path, body]];
}
