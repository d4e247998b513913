// Records as a table and a form: the columns each module shows, the form's fields from the
// module's schema (RecordField, from the connector), form values to record JSON and back,
// money as decimal text, and a save's field errors put beside their fields. Pure.

import type { FieldKind } from '../bindings/FieldKind';
import type { Module } from '../bindings/Module';
import type { RecordField } from '../bindings/RecordField';
import type { SyncStatus } from '../bindings/SyncStatus';
import type { JsonValue } from '../bindings/serde_json/JsonValue';

export type JsonObject = { [key: string]: JsonValue };

// ------------------------------------------------------------ table

export type ColumnKind = 'name' | 'text' | 'money' | 'date' | 'status';

export type Column = {
  key: string;
  label: string;
  kind: ColumnKind;
  /** Share of the row's width (a grid `fr`). */
  width: number;
  /** An id column: the module whose record it names, shown by that record's name. */
  refersTo?: Module;
};

const NAME: Column = { key: 'name', label: 'Name', kind: 'name', width: 2 };
const STATUS: Column = { key: 'status', label: 'QuickBooks', kind: 'status', width: 1.3 };
const CUSTOMER: Column = { key: 'AccountId', label: 'Customer', kind: 'text', width: 1.4, refersTo: 'Accounts' };
const DATE: Column = { key: 'Date', label: 'Date', kind: 'date', width: 1.1 };

/** What an operator reads of each module's records, in order; the status last. */
export function columnsFor(module: Module): Column[] {
  switch (module) {
    case 'Accounts':
      return [NAME, { key: 'Phone', label: 'Phone', kind: 'text', width: 1.3 }, STATUS];
    case 'Contacts':
      return [NAME, { ...CUSTOMER, label: 'Account' }, { key: 'Email', label: 'Email', kind: 'text', width: 1.6 }, STATUS];
    case 'Products':
      return [NAME, { key: 'Sku', label: 'SKU', kind: 'text', width: 1 }, { key: 'Price', label: 'Price', kind: 'money', width: 1 }, STATUS];
    case 'Invoices':
      return [{ ...NAME, label: 'Number', width: 1.2 }, CUSTOMER, { key: 'Total', label: 'Total', kind: 'money', width: 1.1 }, DATE, STATUS];
    case 'Orders':
      return [{ ...NAME, label: 'Number', width: 1.2 }, { key: 'Total', label: 'Total', kind: 'money', width: 1.1 }, DATE, STATUS];
    case 'Payments':
      return [{ ...NAME, label: 'Reference', width: 1.4 }, CUSTOMER, { key: 'Amount', label: 'Amount', kind: 'money', width: 1.1 }, DATE, STATUS];
  }
}

/** The CSS grid columns of a module's table. */
export function gridColumns(columns: Column[]): string {
  return columns.map((c) => `minmax(0, ${c.width}fr)`).join(' ');
}

function text(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

/** A record's name as the table shows it: Name, First + Last for a contact, the number, else its id. */
export function recordName(module: Module, data: JsonValue, id: string): string {
  const record = isObject(data) ? data : {};
  let name = '';
  if (module === 'Contacts') name = [text(record.FirstName), text(record.LastName)].filter(Boolean).join(' ');
  else if (module === 'Invoices' || module === 'Orders') name = text(record.Number);
  else if (module === 'Payments') name = text(record.Id);
  else name = text(record.Name);
  return name || id;
}

/**
 * Money as decimal text, exact as stored (never through a float's rounding): grouped
 * thousands and at least two decimals (`1234.5` → `1,234.50`). Not a decimal: as given.
 */
export function formatMoney(value: JsonValue | undefined): string {
  const raw = text(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(raw);
  if (!match) return raw;
  const [, sign = '', whole = '', fraction = ''] = match;
  const grouped = whole.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${grouped}.${fraction.padEnd(2, '0')}`;
}

/**
 * One cell's text; the status column's is [`statusLabel`]'s. An id column shows the name
 * `names` has for it (id → name), else the id.
 */
export function cellText(module: Module, column: Column, id: string, data: JsonValue, names?: Map<string, string>): string {
  if (column.kind === 'name') return recordName(module, data, id);
  const value = isObject(data) ? data[column.key] : undefined;
  if (column.kind === 'money') return formatMoney(value);
  const shown = text(value);
  return (column.refersTo && names?.get(shown)) || shown;
}

/** The ids a page's id columns name, each once, by the module they name. */
export function referencedIds(columns: Column[], records: { data: JsonValue }[]): Map<Module, string[]> {
  const out = new Map<Module, Set<string>>();
  for (const column of columns) {
    if (!column.refersTo) continue;
    const ids = out.get(column.refersTo) ?? new Set<string>();
    for (const record of records) {
      const id = isObject(record.data) ? text(record.data[column.key]) : '';
      if (id) ids.add(id);
    }
    out.set(column.refersTo, ids);
  }
  return new Map([...out].map(([module, ids]) => [module, [...ids]]));
}

/** The status column's words; `undefined` while not yet read, `null` with no instance. */
export function statusLabel(status: SyncStatus | null | undefined): string {
  switch (status) {
    case 'in_quickbooks':
      return 'In QuickBooks ✓';
    case 'not_sent':
      return 'Not sent';
    case 'conflict':
      return 'Conflict';
    case null:
      return '—';
    default:
      return '…';
  }
}

// ------------------------------------------------------------ form

export type FormField = {
  /** The key in its object (`City`). */
  name: string;
  /** Where the errors name it, dotted (`Address.City`); a line's fields are `Lines[].Quantity`. */
  path: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  /** Shown, not edited: ids and the stamps the store sets. */
  readOnly: boolean;
  maxChars: number;
  refersTo: Module | null;
  /** An object's or a line's fields. */
  fields: FormField[];
};

/** `FullDescription` → `Full description`, `AccountId` → `Account ID`. */
export function fieldLabel(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([a-z])(\d)/g, '$1 $2').split(' ');
  return words
    .map((word, i) => (word === 'Id' ? 'ID' : i === 0 ? word : word.toLowerCase()))
    .join(' ');
}

const STAMPS = ['CreatedAt', 'UpdatedAt'];

/**
 * The form's fields from the module's schema. The store sets the stamps; a saved record's
 * id is its key and cannot change, while a new one may be given its own.
 */
export function formFields(schema: RecordField[], isNew: boolean, prefix = '', parentRequired = true): FormField[] {
  return schema.map((field) => {
    // A field of an optional object is needed only once the object is there: the form marks
    // what every record needs, and the connector names the rest if it is missing.
    const path = `${prefix}${field.name}`;
    const top = prefix === '';
    const inner = field.kind === 'lines' ? `${path}[].` : `${path}.`;
    return {
      name: field.name,
      path,
      label: fieldLabel(field.name),
      kind: field.kind,
      required: field.required && parentRequired,
      readOnly: top && (STAMPS.includes(field.name) || (field.name === 'Id' && !isNew)),
      maxChars: field.max_chars,
      refersTo: field.refers_to,
      fields: formFields(field.fields, isNew, inner, field.required && parentRequired),
    };
  });
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What an input shows of a stored value. */
export function inputText(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * What a typed value is stored as. A number stays a JSON number when it prints back as
 * typed (`12.5`); otherwise text (`12.50`, `1e3`, `abc`), which the connector reads as an
 * exact decimal or refuses naming the field. Empty is `undefined`: the field is left out.
 */
export function storedValue(kind: FieldKind, typed: string | boolean): JsonValue | undefined {
  if (typeof typed === 'boolean') return typed;
  const trimmed = kind === 'text' ? typed : typed.trim();
  if (trimmed.trim() === '') return undefined;
  if (kind === 'number' && /^-?\d+(\.\d+)?$/.test(trimmed) && String(Number(trimmed)) === trimmed) return Number(trimmed);
  return trimmed;
}

/** `data` with one field set (`undefined` leaves it out), a new object each level. */
export function withField(data: JsonObject, name: string, value: JsonValue | undefined): JsonObject {
  const next = { ...data };
  if (value === undefined) delete next[name];
  else next[name] = value;
  return next;
}

/** `data` with a field of an object field set; the object is left out once it is empty. */
export function withInner(data: JsonObject, object: string, name: string, value: JsonValue | undefined): JsonObject {
  const inner = withField(isObject(data[object]) ? (data[object] as JsonObject) : {}, name, value);
  return withField(data, object, Object.keys(inner).length ? inner : undefined);
}

function linesOf(data: JsonObject, name: string): JsonValue[] {
  const lines = data[name];
  return Array.isArray(lines) ? lines : [];
}

/** `data` with one field of line `index` of the lines field `name` set. */
export function withLineField(data: JsonObject, name: string, index: number, field: string, value: JsonValue | undefined): JsonObject {
  const lines = linesOf(data, name).map((line, i) => (i === index ? withField(isObject(line) ? line : {}, field, value) : line));
  return withField(data, name, lines);
}

export function withLineAdded(data: JsonObject, name: string): JsonObject {
  return withField(data, name, [...linesOf(data, name), {}]);
}

export function withLineRemoved(data: JsonObject, name: string, index: number): JsonObject {
  return withField(data, name, linesOf(data, name).filter((_, i) => i !== index));
}

/** Whether the form can edit every line (each a plain object); else the lines are shown and edited in Advanced. */
export function linesEditable(value: JsonValue | undefined, fields: FormField[]): boolean {
  if (value === undefined || value === null) return true;
  if (!Array.isArray(value)) return false;
  const known = new Set(fields.map((f) => f.name));
  return value.every((line) => isObject(line) && Object.entries(line).every(([k, v]) => known.has(k) && !isObject(v) && !Array.isArray(v)));
}

/** Whether the form can edit an object field (its keys known, values plain). */
export function objectEditable(value: JsonValue | undefined, fields: FormField[]): boolean {
  if (value === undefined || value === null) return true;
  if (!isObject(value)) return false;
  const known = new Set(fields.map((f) => f.name));
  return Object.entries(value).every(([k, v]) => known.has(k) && !isObject(v) && !Array.isArray(v));
}

/** Record JSON as the Advanced editor shows it. */
export function jsonText(data: JsonObject): string {
  return JSON.stringify(data, null, 2);
}

/** The Advanced editor's text read back: an object, or why not. */
export function parseJson(text: string): { data: JsonObject } | { error: string } {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    return { error: `The record is not valid JSON: ${(error as Error).message}` };
  }
  return isObject(value) ? { data: value } : { error: 'The record must be a JSON object ({ … }).' };
}

// ------------------------------------------------------------ errors

export type FieldErrors = {
  /**
   * By the field as the connector names it (`Name`, `Address.City`, `Lines[2].Quantity`,
   * lines counted from 1), each its reasons: the form shows them beside that input.
   */
  fields: Record<string, string[]>;
  /** What names no field the form shows: said above the form. */
  general: string[];
};

const MODULE_NAMES = 'Accounts|Contacts|Products|Invoices|Orders|Payments';

/** A line's field path as the form's schema writes it: `Lines[2].Quantity` → `Lines[].Quantity`. */
export function schemaPath(path: string): string {
  return path.replace(/\[\d+\]/g, '[]');
}

/** A form path made a line's: `Lines[].Quantity`, line 2 → `Lines[2].Quantity`. */
export function linePath(path: string, line: number): string {
  return path.replace('[]', `[${line}]`);
}

/**
 * A save's refusal split by field. The connector words an invalid record as
 * `2 invalid fields: Accounts (new): Name: is required; Invoices (new): Lines[2].Quantity: …`
 * (a reason may hold "; " itself, so entries are split where the next one begins).
 * `known` are the form's paths; an error on a field the form does not show stays general.
 */
export function fieldErrors(message: string, known: string[]): FieldErrors {
  const out: FieldErrors = { fields: {}, general: [] };
  const head = /^\d+ invalid fields?: /.exec(message);
  if (!head) {
    out.general.push(message);
    return out;
  }
  const rest = message.slice(head[0].length);
  const entries = rest.split(new RegExp(`; (?=(?:${MODULE_NAMES}) [^:]*: [A-Za-z0-9_.\\[\\]]*: )`));
  const paths = new Set(known);
  for (const entry of entries) {
    const match = new RegExp(`^(?:${MODULE_NAMES}) [^:]*: ([A-Za-z0-9_.\\[\\]]*): (.*)$`, 's').exec(entry);
    if (!match) {
      out.general.push(entry);
      continue;
    }
    const [, field = '', reason = ''] = match;
    if (field && paths.has(schemaPath(field))) (out.fields[field] ??= []).push(reason);
    else out.general.push(field ? `${field}: ${reason}` : reason);
  }
  return out;
}

/** Every path of a form, nested ones too: what [`fieldErrors`] can place. */
export function formPaths(fields: FormField[]): string[] {
  return fields.flatMap((f) => [f.path, ...formPaths(f.fields)]);
}
