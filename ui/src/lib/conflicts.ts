// The rows of a held conflict: every platform field either side has, with its value on
// each side and when the two differ; and a same-entity entry put as a decision.

import type { ConflictView } from '../bindings/ConflictView';
import type { SameEntityChoice } from '../bindings/SameEntityChoice';
import type { JsonValue } from '../bindings/serde_json/JsonValue';

export type ConflictRow = {
  field: string;
  platform: JsonValue | undefined;
  quickbooks: JsonValue | undefined;
  differs: boolean;
};

const fieldsOf = (value: JsonValue | null | undefined): Record<string, JsonValue> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, JsonValue>) : {};

/** Fields that differ come first; each list keeps the platform record's order. */
export function conflictFields(conflict: ConflictView): ConflictRow[] {
  const platform = fieldsOf(conflict.platform_version);
  const quickbooks = fieldsOf(conflict.quickbooks_as_platform);
  // Only fields QuickBooks' side maps can be taken from it: the platform's bookkeeping
  // (its id, its timestamps) has no QuickBooks value and is never offered.
  const names = Object.keys(quickbooks);
  const rows = names.map((field) => ({
    field,
    platform: platform[field],
    quickbooks: quickbooks[field],
    differs: JSON.stringify(platform[field] ?? null) !== JSON.stringify(quickbooks[field] ?? null),
  }));
  return [...rows.filter((r) => r.differs), ...rows.filter((r) => !r.differs)];
}

// ------------------------------------------------------------ same entity

/** "PurchaseOrder" → "purchase order", "Name" → "name": an entity or field as an operator says it. */
export function inWords(name: string): string {
  return name ? name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : 'record';
}

/** The entry's line in the inbox list. */
export function conflictTitle(conflict: ConflictView): string {
  if (conflict.kind === 'same_entity') {
    const other = conflict.other_platform_id ?? 'another record';
    return `${conflict.module} ${conflict.platform_id} and ${other}: one ${inWords(conflict.entity)} in QuickBooks`;
  }
  return `${conflict.module} ${conflict.platform_id} ↔ QuickBooks ${conflict.qbo_id}`;
}

/** "QuickBooks sees Accounts ACC-2 as the same customer as ACC-1 (Twin Co)" */
export function sameEntitySentence(conflict: ConflictView): string {
  const other = conflict.other_platform_id ?? 'another record';
  const name = conflict.matched_value ? ` (${conflict.matched_value})` : '';
  return `QuickBooks sees ${conflict.module} ${conflict.platform_id} as the same ${inWords(conflict.entity)} as ${other}${name}`;
}

/** What each of the three actions does, in the operator's words. */
export function sameEntityOutcomes(conflict: ConflictView): { link: string; rename: string; leave: string } {
  const entity = inWords(conflict.entity);
  const self = conflict.platform_id;
  const other = conflict.other_platform_id ?? 'the other record';
  return {
    link: `${other} is unlinked; ${self} is linked to QuickBooks ${entity} ${conflict.qbo_id} and its values are sent there.`,
    rename: conflict.rename_field
      ? `${self} gets a new ${inWords(conflict.rename_field)} here and QuickBooks creates it as a ${entity} of its own.`
      : `Renaming does not apply: ${conflict.rename_refused ?? 'this kind of record has no one name to change'}.`,
    leave: `${self} stays unlinked and fails alone on every sync until it is renamed or removed.`,
  };
}

/** The rename to send, or why it cannot be sent as typed. */
export function renameChoice(
  conflict: ConflictView,
  typed: string,
): { choice: SameEntityChoice; problem?: undefined } | { choice?: undefined; problem: string } {
  const field = conflict.rename_field;
  if (!field) return { problem: `Renaming does not apply: ${conflict.rename_refused ?? 'this kind of record has no one name to change'}.` };
  const words = inWords(field);
  const name = typed.trim();
  if (name === '') return { problem: `Type the new ${words}.` };
  const current = fieldsOf(conflict.platform_version)[field];
  // QuickBooks compares names without regard to case: a change of case alone meets the same entity.
  if (typeof current === 'string' && current.toLowerCase() === name.toLowerCase()) {
    return { problem: `That is its ${words} now: QuickBooks would still see it as the same ${inWords(conflict.entity)}.` };
  }
  return { choice: { choice: 'rename', name } };
}
