// The field picker's form: what an operator chooses for one QuickBooks field (a platform
// field, a fixed value, a server variable, a lookup, a linked record's id), turned into
// the connector's Pick, which the connector writes as jq. The jq is never written here:
// one writer (Rust's Pick::expression) means the picker and the CLI cannot disagree.

import type { FieldKind } from '../bindings/FieldKind';
import type { FieldView } from '../bindings/FieldView';
import type { MethodName } from '../bindings/MethodName';
import type { ModuleChoice } from '../bindings/ModuleChoice';
import type { Pick } from '../bindings/Pick';
import type { Rule } from '../bindings/Rule';
import type { JsonValue } from '../bindings/serde_json/JsonValue';

export type PickKind = Pick['pick'];

/** Every input of the form; a kind reads only its own. Text throughout, as inputs give it. */
export interface PickForm {
  kind: PickKind;
  /** A platform field (field, lookup and link picks). */
  path: string;
  /** A fixed value as typed. */
  value: string;
  /** A server variable. */
  name: string;
  /** A lookup table. */
  table: string;
  /** The spec module whose links a link pick reads. */
  module: string;
}

export const EMPTY_FORM: PickForm = { kind: 'field', path: '', value: '', name: '', table: '', module: '' };

/** The words the picker shows for each kind of pick. */
export const PICK_KIND_LABELS: Record<PickKind, string> = {
  field: 'Platform field',
  fixed: 'Fixed value',
  variable: 'Server variable',
  lookup: 'Field through a lookup table',
  link: "Linked record's QuickBooks id",
};

/**
 * The kinds a method can use. Pulls read a QuickBooks entity: lookups translate platform
 * values to QuickBooks ones and links give QuickBooks ids, so neither fits a pull.
 */
export function pickKinds(method: MethodName): PickKind[] {
  return method.startsWith('push') ? ['field', 'fixed', 'variable', 'lookup', 'link'] : ['field', 'fixed', 'variable'];
}

/** Whether a field can be filled by a pick at all: lines and whole objects are built in jq. */
export function pickable(kind: FieldKind | undefined): boolean {
  return kind !== 'lines' && kind !== 'object';
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A fixed value typed as text, as the JSON the target field takes. */
export function fixedValue(text: string, kind: FieldKind | undefined): { value: JsonValue } | { error: string } {
  switch (kind) {
    case 'number': {
      const trimmed = text.trim();
      const number = Number(trimmed);
      if (trimmed === '' || !Number.isFinite(number)) return { error: `${JSON.stringify(text)} is not a number` };
      return { value: number };
    }
    case 'bool':
      if (text === 'true' || text === 'false') return { value: text === 'true' };
      return { error: 'choose yes or no' };
    case 'date':
      if (!DATE.test(text.trim())) return { error: `${JSON.stringify(text)} is not a date (YYYY-MM-DD)` };
      return { value: text.trim() };
    default:
      return { value: text };
  }
}

/** The pick a filled form makes, or what is still missing (in words). */
export function formToPick(form: PickForm, targetKind: FieldKind | undefined): { pick: Pick } | { missing: string } {
  switch (form.kind) {
    case 'field':
      return form.path ? { pick: { pick: 'field', path: form.path } } : { missing: 'choose a platform field' };
    case 'fixed': {
      const fixed = fixedValue(form.value, targetKind);
      return 'error' in fixed ? { missing: fixed.error } : { pick: { pick: 'fixed', value: fixed.value } };
    }
    case 'variable':
      return form.name ? { pick: { pick: 'variable', name: form.name } } : { missing: 'choose a server variable' };
    case 'lookup':
      if (!form.table) return { missing: 'choose a lookup table' };
      if (!form.path) return { missing: 'choose the platform field to look up' };
      return { pick: { pick: 'lookup', table: form.table, path: form.path } };
    case 'link':
      if (!form.module) return { missing: 'choose the module of the linked record' };
      if (!form.path) return { missing: "choose the platform field holding the record's id" };
      return { pick: { pick: 'link', module: form.module, path: form.path } };
  }
}

function fixedText(value: JsonValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** The form that shows a pick, so a rule that is a pick opens as one. */
export function pickToForm(pick: Pick): PickForm {
  switch (pick.pick) {
    case 'field':
      return { ...EMPTY_FORM, kind: 'field', path: pick.path };
    case 'fixed':
      return { ...EMPTY_FORM, kind: 'fixed', value: fixedText(pick.value) };
    case 'variable':
      return { ...EMPTY_FORM, kind: 'variable', name: pick.name };
    case 'lookup':
      return { ...EMPTY_FORM, kind: 'lookup', table: pick.table, path: pick.path };
    case 'link':
      return { ...EMPTY_FORM, kind: 'link', module: pick.module, path: pick.path };
  }
}

/**
 * Switching kinds keeps what still fits: a platform field stays chosen from field to
 * lookup to link, and a link's module follows the id field's platform module.
 */
export function switchKind(form: PickForm, kind: PickKind, sources: FieldView[], modules: ModuleChoice[]): PickForm {
  const next = { ...form, kind };
  if (kind === 'link') {
    const ids = sources.filter((s) => s.kind === 'reference');
    if (!ids.some((s) => s.path === next.path)) next.path = ids[0]?.path ?? '';
    next.module = next.module || linkModuleFor(sources.find((s) => s.path === next.path), modules);
  }
  return next;
}

/** The spec module a link through this id field reads: the first syncing the record it names. */
export function linkModuleFor(field: FieldView | undefined, modules: ModuleChoice[]): string {
  if (!field?.refers_to) return '';
  return modules.find((m) => m.platform_module === field.refers_to)?.name ?? '';
}

export interface TargetChoice {
  field: FieldView;
  /** The rules (1-based) that already set it. */
  rules: number[];
}

/**
 * The QuickBooks fields to offer for a new rule: required ones no rule sets first, then
 * the others no rule sets, then those already set (a second rule for a field overrides
 * the first, which is rarely meant).
 */
export function targetChoices(targets: FieldView[], rules: Rule[]): TargetChoice[] {
  const choices = targets.map((field) => ({
    field,
    rules: rules.flatMap((rule, index) => (rule.target === field.path ? [index + 1] : [])),
  }));
  const rank = (c: TargetChoice) => (c.rules.length ? 2 : c.field.required ? 0 : 1);
  return choices
    .map((choice, order) => ({ choice, order }))
    .sort((a, b) => rank(a.choice) - rank(b.choice) || a.order - b.order)
    .map(({ choice }) => choice);
}

/**
 * How a target is named in a row: its label, and whether QuickBooks needs it (`required`
 * as a badge, the fields that would do instead as its explanation).
 */
export function targetWords(field: FieldView | undefined, path: string): { label: string; required: string | null } {
  if (!field) return { label: path || 'a QuickBooks field', required: null };
  const required = field.required
    ? field.or_instead.length
      ? `QuickBooks needs this or one of ${field.or_instead.join(', ')} on a new record`
      : 'QuickBooks needs this on a new record'
    : null;
  return { label: field.label, required };
}

/**
 * The field to add a rule for when QuickBooks requires one of `oneOf` and no rule fills
 * it: the first, as the catalog targets it (`CustomerRef` is filled by its id,
 * `CustomerRef.value`).
 */
export function requiredTarget(targets: FieldView[], oneOf: string[]): string {
  const first = oneOf[0] ?? '';
  return targets.find((t) => t.path === first || t.path === `${first}.value`)?.path ?? first;
}

/** The kind's word a row shows beside a field: what its value must be. */
export const KIND_WORDS: Record<FieldKind, string> = {
  text: 'text',
  number: 'number',
  date: 'date',
  timestamp: 'date and time',
  bool: 'yes/no',
  reference: 'id',
  object: 'object',
  lines: 'lines',
};
