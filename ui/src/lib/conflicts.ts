// A held conflict's choices: the connector gives the fields that differ, in words; the
// operator keeps one side per field, or one side for all. And a same-entity entry put as a
// decision.

import type { ConflictRow } from '../bindings/ConflictRow';
import type { ConflictView } from '../bindings/ConflictView';
import type { SameEntityChoice } from '../bindings/SameEntityChoice';
import type { Side } from '../bindings/Side';
import type { JsonValue } from '../bindings/serde_json/JsonValue';

const fieldsOf = (value: JsonValue | null | undefined): Record<string, JsonValue> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, JsonValue>) : {};

/** The side each differing field keeps: yours unless the operator picked QuickBooks'. */
export type Choices = Record<string, Side>;

/** The side a row keeps as things stand. */
export function sideOf(choices: Choices, field: string): Side {
  return choices[field] ?? 'platform';
}

/** Every row set to one side: "Keep mine" and "Keep QuickBooks'". */
export function keepAll(rows: readonly ConflictRow[], side: Side): Choices {
  return Object.fromEntries(rows.map((row) => [row.field, side]));
}

/** What Resolve sends: a side for every row shown, so nothing rests on a default. */
export function resolution(rows: readonly ConflictRow[], choices: Choices): Choices {
  return Object.fromEntries(rows.map((row) => [row.field, sideOf(choices, row.field)]));
}

/** "Keeps yours for 2 fields and QuickBooks' for 1." — what Resolve will do, in words. */
export function choiceSummary(rows: readonly ConflictRow[], choices: Choices): string {
  const theirs = rows.filter((row) => sideOf(choices, row.field) === 'quickbooks').length;
  const mine = rows.length - theirs;
  const fields = (n: number) => (n === 1 ? '1 field' : `${n} fields`);
  if (rows.length === 0) return 'No field differs: Resolve sends the record as it is here.';
  const all = rows.length === 1 ? 'the one field' : `all ${rows.length} fields`;
  if (theirs === 0) return `Keeps yours for ${all}.`;
  if (mine === 0) return `Takes QuickBooks' for ${all}.`;
  return `Keeps yours for ${fields(mine)} and takes QuickBooks' for ${fields(theirs)}.`;
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
  // By the name the platform record has, as Records and History show it; the id if none.
  const version = conflict.platform_version;
  const fields = version && typeof version === 'object' && !Array.isArray(version) ? version : {};
  const name = (['Name', 'Number'] as const).map((key) => fields[key]).find((v): v is string => typeof v === 'string' && v.trim() !== '');
  const person = [fields.FirstName, fields.LastName].filter((v): v is string => typeof v === 'string' && v.trim() !== '').join(' ');
  return `${conflict.module}: ${name ?? (person || conflict.platform_id)} ↔ QuickBooks ${inWords(conflict.entity)} ${conflict.qbo_id}`;
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
