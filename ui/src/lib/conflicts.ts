// The rows of a held conflict: every platform field either side has, with its value on
// each side and when the two differ.

import type { ConflictView } from '../bindings/ConflictView';
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
