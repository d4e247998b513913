import { describe, expect, it } from 'vitest';
import type { Variable } from '../bindings/Variable';
import { SETTINGS_SECTIONS, groupVariables, isTechnical, needsValue } from './settingsections';

const v = (name: string, used_by: string[], description = '', fallback = ''): Variable => ({ name, default: fallback, description, used_by });

// The built-in spec's variables, in its order (crates/connector/spec/quickbooks.json).
const BUILT_IN: Variable[] = [
  v('CompanyID', ['all'], 'The QuickBooks realm id.'),
  v('Tax exemption reason', ['Accounts'], '', '1'),
  v('Payment Status', ['Payments'], '', 'Paid'),
  v('Product Type', ['Products'], '', 'Service'),
  v('Income Account', ['Products'], 'Id of the income account of pushed products (required).'),
  v('Expense Account', ['Products']),
  v('Asset Account', ['Products']),
  v('Invoice Line Type', ['Invoices'], '', 'SalesItemLineDetail'),
  v('Order Line Type', ['Orders'], '', 'ItemBasedExpenseLineDetail'),
  v('Vendor ID', ['Orders'], 'Id of the vendor of pushed purchase orders (required for Orders).'),
  v('Vendor Name', ['Orders']),
  v('AP Account', ['Orders']),
  v('Sales Tax Code', ['Invoices']),
];
const MODULES = ['Accounts', 'Contacts', 'Products', 'Invoices', 'Orders', 'Payments'];
const names = (list: Variable[]) => list.map((x) => x.name);

describe('the sections of the Settings screen', () => {
  it('are the issue’s five, then the danger zone, then what belongs to the whole app', () => {
    expect(SETTINGS_SECTIONS.map(([, title]) => title)).toEqual([
      'Connection',
      'QuickBooks defaults',
      'What syncs',
      'Schedule',
      'Advanced',
      'Danger zone',
      'App preferences',
    ]);
  });
});

describe('grouping server variables', () => {
  it('puts the operator’s choices under their modules in the spec’s module order, the technical ones apart', () => {
    const { defaults, advanced } = groupVariables(BUILT_IN, MODULES);
    expect(defaults.map((g) => g.modules)).toEqual([['Accounts'], ['Products'], ['Invoices'], ['Orders'], ['Payments']]);
    expect(defaults.map((g) => names(g.variables))).toEqual([
      ['Tax exemption reason'],
      ['Product Type', 'Income Account', 'Expense Account', 'Asset Account'],
      ['Sales Tax Code'],
      ['Vendor ID', 'Vendor Name', 'AP Account'],
      ['Payment Status'],
    ]);
    expect(names(advanced)).toEqual(['CompanyID', 'Invoice Line Type', 'Order Line Type']);
  });

  it('loses no variable and shows none twice', () => {
    const { defaults, advanced } = groupVariables(BUILT_IN, MODULES);
    const shown = [...defaults.flatMap((g) => names(g.variables)), ...names(advanced)];
    expect(shown.sort()).toEqual(names(BUILT_IN).sort());
  });

  it('gives a variable of several modules a group of its own after the group of its first module', () => {
    const { defaults } = groupVariables(
      [v('Class', ['Orders', 'Invoices']), v('Memo', ['Invoices']), v('Location', ['Invoices', 'Orders'])],
      MODULES,
    );
    expect(defaults.map((g) => [g.modules, names(g.variables)])).toEqual([
      [['Invoices'], ['Memo']],
      [['Invoices', 'Orders'], ['Class', 'Location']],
    ]);
  });

  it('keeps a variable of a module the spec does not list, after the known ones', () => {
    const { defaults } = groupVariables([v('Region', ['Shipments']), v('Memo', ['Invoices'])], MODULES);
    expect(defaults.map((g) => g.modules)).toEqual([['Invoices'], ['Shipments']]);
  });

  it('takes a variable used by no module, or by all of them, for a technical one', () => {
    expect(isTechnical(v('Anything', []))).toBe(true);
    expect(isTechnical(v('CompanyID', ['all']))).toBe(true);
    expect(isTechnical(v('Vendor ID', ['Orders']))).toBe(false);
  });
});

describe('a variable that needs a value', () => {
  const income = v('Income Account', ['Products'], 'Id of the income account of pushed products (required).');
  it('is a required one with neither a value nor a default', () => {
    expect(needsValue(income, undefined)).toBe(true);
    expect(needsValue(income, '  ')).toBe(true);
    expect(needsValue(income, '79')).toBe(false);
  });
  it('is never one with a default or one the spec does not call required', () => {
    expect(needsValue(v('Income Account', ['Products'], 'required', '79'), '')).toBe(false);
    expect(needsValue(v('Expense Account', ['Products'], 'Id of the expense (COGS) account.'), '')).toBe(false);
  });
});
