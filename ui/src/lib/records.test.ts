import { describe, expect, it } from 'vitest';
import type { RecordField } from '../bindings/RecordField';
import type { JsonValue } from '../bindings/serde_json/JsonValue';
import {
  cellText,
  columnsFor,
  fieldErrors,
  fieldLabel,
  formatMoney,
  formFields,
  formPaths,
  gridColumns,
  inputText,
  linePath,
  linesEditable,
  objectEditable,
  parseJson,
  recordName,
  referencedIds,
  schemaPath,
  statusLabel,
  storedValue,
  withField,
  withInner,
  withLineAdded,
  withLineField,
  withLineRemoved,
} from './records';

const leaf = (name: string, kind: RecordField['kind'], required = false, extra: Partial<RecordField> = {}): RecordField => ({
  name,
  kind,
  required,
  max_chars: 4000,
  refers_to: null,
  fields: [],
  ...extra,
});

// The invoice's schema as the connector gives it (crates/connector/src/platform/schema.rs).
const INVOICE: RecordField[] = [
  leaf('Id', 'text'),
  leaf('AccountId', 'reference', true, { refers_to: 'Accounts' }),
  leaf('Number', 'text', true, { max_chars: 21 }),
  leaf('Date', 'date', true),
  leaf('Currency', 'object', false, { fields: [leaf('Mnemonic', 'text', true), leaf('Name', 'text')] }),
  leaf('Lines', 'lines', true, {
    fields: [leaf('ProductId', 'reference', true, { refers_to: 'Products' }), leaf('Quantity', 'number', true), leaf('UnitPrice', 'number', true)],
  }),
  leaf('Total', 'number'),
  leaf('CreatedAt', 'timestamp'),
  leaf('UpdatedAt', 'timestamp'),
];

describe('the table', () => {
  it('shows each module the columns an operator reads, the status last', () => {
    const keys = (m: Parameters<typeof columnsFor>[0]) => columnsFor(m).map((c) => c.label);
    expect(keys('Accounts')).toEqual(['Name', 'Phone', 'QuickBooks']);
    expect(keys('Contacts')).toEqual(['Name', 'Account', 'Email', 'QuickBooks']);
    expect(keys('Invoices')).toEqual(['Number', 'Customer', 'Total', 'Date', 'QuickBooks']);
    expect(keys('Orders')).toEqual(['Number', 'Total', 'Date', 'QuickBooks']);
    expect(keys('Payments')).toEqual(['Reference', 'Customer', 'Amount', 'Date', 'QuickBooks']);
    expect(gridColumns(columnsFor('Accounts'))).toBe('minmax(0, 2fr) minmax(0, 1.3fr) minmax(0, 1.3fr)');
  });

  it('names a record by its name, a contact by first and last, a document by its number, else its id', () => {
    expect(recordName('Accounts', { Name: 'Acme Ltd' }, 'ACC-1')).toBe('Acme Ltd');
    expect(recordName('Contacts', { FirstName: 'Ada', LastName: 'Lovelace' }, 'CON-1')).toBe('Ada Lovelace');
    expect(recordName('Contacts', { LastName: 'Lovelace' }, 'CON-1')).toBe('Lovelace');
    expect(recordName('Invoices', { Number: 1001 }, 'INV-1')).toBe('1001');
    expect(recordName('Payments', { Id: 'PAY-7' }, 'PAY-7')).toBe('PAY-7');
    expect(recordName('Accounts', { Name: '  ' }, 'ACC-2')).toBe('ACC-2');
    expect(recordName('Accounts', null, 'ACC-3')).toBe('ACC-3');
  });

  it('writes money as exact decimal text, grouped, with at least two decimals', () => {
    expect(formatMoney(1234.5)).toBe('1,234.50');
    expect(formatMoney('1234567.125')).toBe('1,234,567.125');
    expect(formatMoney('-0.1')).toBe('-0.10');
    expect(formatMoney(0)).toBe('0.00');
    expect(formatMoney('007')).toBe('7.00');
    expect(formatMoney('12345678901234567890.01')).toBe('12,345,678,901,234,567,890.01');
    expect(formatMoney(undefined)).toBe('');
    expect(formatMoney('n/a')).toBe('n/a');
  });

  it('fills cells from the record: money formatted, the customer as its id', () => {
    const data = { Number: 'INV-1001', AccountId: 'ACC-000001', Total: 99.9, Date: '2026-03-01' };
    const shown = columnsFor('Invoices').filter((c) => c.kind !== 'status');
    expect(shown.map((c) => cellText('Invoices', c, 'INV-1', data))).toEqual([
      'INV-1001',
      'ACC-000001',
      '99.90',
      '2026-03-01',
    ]);
  });

  it('shows the customer by name where the page read one, else by id', () => {
    const customer = columnsFor('Invoices')[1]!;
    const names = new Map([['ACC-1', 'Acme Ltd']]);
    expect(cellText('Invoices', customer, 'INV-1', { AccountId: 'ACC-1' }, names)).toBe('Acme Ltd');
    expect(cellText('Invoices', customer, 'INV-2', { AccountId: 'ACC-2' }, names)).toBe('ACC-2');
    const records: { data: JsonValue }[] = [{ data: { AccountId: 'ACC-1' } }, { data: { AccountId: 'ACC-1' } }, { data: { AccountId: 'ACC-2' } }, { data: {} }];
    expect(referencedIds(columnsFor('Invoices'), records)).toEqual(new Map([['Accounts', ['ACC-1', 'ACC-2']]]));
    expect(referencedIds(columnsFor('Accounts'), records).size).toBe(0);
  });

  it('words the status, a dash with no instance and an ellipsis while it is read', () => {
    expect(statusLabel('in_quickbooks')).toBe('In QuickBooks ✓');
    expect(statusLabel('not_sent')).toBe('Not sent');
    expect(statusLabel('conflict')).toBe('Conflict');
    expect(statusLabel(null)).toBe('—');
    expect(statusLabel(undefined)).toBe('…');
  });
});

describe('the form', () => {
  it('is the schema: stamps and a saved id read-only, objects and lines with their fields, paths as errors name them', () => {
    const saved = formFields(INVOICE, false);
    const byName = (name: string) => saved.find((f) => f.name === name)!;
    expect(byName('Id').readOnly).toBe(true);
    expect(byName('UpdatedAt').readOnly).toBe(true);
    expect(byName('Number')).toMatchObject({ label: 'Number', required: true, readOnly: false, maxChars: 21 });
    expect(byName('AccountId')).toMatchObject({ label: 'Account ID', kind: 'reference', refersTo: 'Accounts' });
    expect(byName('Currency').fields.map((f) => f.path)).toEqual(['Currency.Mnemonic', 'Currency.Name']);
    // Mnemonic is needed only in a record that has a Currency; a line's Quantity in every line.
    expect(byName('Currency').fields[0]?.required).toBe(false);
    expect(byName('Lines').fields.find((f) => f.name === 'Quantity')?.required).toBe(true);
    expect(byName('Lines').fields.map((f) => f.path)).toEqual(['Lines[].ProductId', 'Lines[].Quantity', 'Lines[].UnitPrice']);
    expect(formFields(INVOICE, true)[0]?.readOnly).toBe(false);
    expect(formPaths(saved)).toContain('Lines[].Quantity');
    expect(schemaPath('Lines[12].Quantity')).toBe('Lines[].Quantity');
    expect(linePath('Lines[].Quantity', 3)).toBe('Lines[3].Quantity');
  });

  it('labels fields in words', () => {
    expect(fieldLabel('FullDescription')).toBe('Full description');
    expect(fieldLabel('IsTaxable')).toBe('Is taxable');
    expect(fieldLabel('Id')).toBe('ID');
    expect(fieldLabel('ProductId')).toBe('Product ID');
    expect(fieldLabel('Line1')).toBe('Line 1');
  });

  it('stores what is typed: numbers that print back as typed, exact text else, empty left out', () => {
    expect(storedValue('number', '12.5')).toBe(12.5);
    expect(storedValue('number', ' 12 ')).toBe(12);
    expect(storedValue('number', '12.50')).toBe('12.50');
    expect(storedValue('number', '0.1000000000000000055511')).toBe('0.1000000000000000055511');
    expect(storedValue('number', 'two')).toBe('two');
    expect(storedValue('number', '')).toBeUndefined();
    expect(storedValue('text', '  ')).toBeUndefined();
    expect(storedValue('text', ' Acme ')).toBe(' Acme ');
    expect(storedValue('date', '2026-03-01')).toBe('2026-03-01');
    expect(storedValue('bool', false)).toBe(false);
    expect(inputText(12.5)).toBe('12.5');
    expect(inputText(true)).toBe('true');
    expect(inputText(undefined)).toBe('');
  });

  it('sets fields without touching the record it was given; an emptied object is left out', () => {
    const data = { Name: 'Acme', Address: { City: 'Leeds' } };
    expect(withField(data, 'Phone', '1')).toEqual({ Name: 'Acme', Address: { City: 'Leeds' }, Phone: '1' });
    expect(withField(data, 'Name', undefined)).toEqual({ Address: { City: 'Leeds' } });
    expect(withInner(data, 'Address', 'Line1', '1 Road')).toEqual({ Name: 'Acme', Address: { City: 'Leeds', Line1: '1 Road' } });
    expect(withInner(data, 'Address', 'City', undefined)).toEqual({ Name: 'Acme' });
    expect(withInner({}, 'Currency', 'Mnemonic', 'EUR')).toEqual({ Currency: { Mnemonic: 'EUR' } });
    expect(data).toEqual({ Name: 'Acme', Address: { City: 'Leeds' } });
  });

  it('adds, edits and removes lines', () => {
    let data: Record<string, never> | ReturnType<typeof withLineAdded> = {};
    data = withLineAdded(data, 'Lines');
    data = withLineField(data, 'Lines', 0, 'Quantity', 2);
    data = withLineAdded(data, 'Lines');
    data = withLineField(data, 'Lines', 1, 'ProductId', 'PRD-1');
    expect(data).toEqual({ Lines: [{ Quantity: 2 }, { ProductId: 'PRD-1' }] });
    expect(withLineRemoved(data, 'Lines', 0)).toEqual({ Lines: [{ ProductId: 'PRD-1' }] });
  });

  it('leaves to Advanced the objects and lines it cannot show whole', () => {
    const lineFields = formFields(INVOICE, false).find((f) => f.name === 'Lines')!.fields;
    expect(linesEditable(undefined, lineFields)).toBe(true);
    expect(linesEditable([{ ProductId: 'PRD-1', Quantity: 1 }], lineFields)).toBe(true);
    expect(linesEditable([{ ProductId: 'PRD-1', Extra: 1 }], lineFields)).toBe(false);
    expect(linesEditable([{ Quantity: { deep: 1 } }], lineFields)).toBe(false);
    expect(linesEditable('lines', lineFields)).toBe(false);
    const currency = formFields(INVOICE, false).find((f) => f.name === 'Currency')!.fields;
    expect(objectEditable({ Mnemonic: 'USD' }, currency)).toBe(true);
    expect(objectEditable({ Code: 'USD' }, currency)).toBe(false);
  });

  it('reads the Advanced JSON back as an object, or says why not', () => {
    expect(parseJson('{"Name": "Acme"}')).toEqual({ data: { Name: 'Acme' } });
    expect(parseJson('[1]')).toEqual({ error: 'The record must be a JSON object ({ … }).' });
    expect('error' in parseJson('{')).toBe(true);
  });
});

describe('a refused save', () => {
  const paths = formPaths(formFields(INVOICE, true));

  it('puts each field error beside its field, a line error on its line, the rest above the form', () => {
    const message =
      '4 invalid fields: Invoices (new): Number: is required; Invoices (new): Lines[2].Quantity: must be a decimal number, not "two"; ' +
      'Invoices (new): Number: is 30 characters long; QuickBooks takes at most 21 here; Invoices (new): Colour: is not a field of this module';
    expect(fieldErrors(message, paths)).toEqual({
      fields: {
        Number: ['is required', 'is 30 characters long; QuickBooks takes at most 21 here'],
        'Lines[2].Quantity': ['must be a decimal number, not "two"'],
      },
      general: ['Colour: is not a field of this module'],
    });
  });

  it('keeps a message that names no field whole', () => {
    const stale = 'Accounts ACC-1 was changed by someone else (you read version 1, it is now at 2); reload it and try again';
    expect(fieldErrors(stale, paths)).toEqual({ fields: {}, general: [stale] });
    expect(fieldErrors('1 invalid field: Invoices (new): : a record must be a JSON object', paths)).toEqual({
      fields: {},
      general: ['a record must be a JSON object'],
    });
  });
});
