import { describe, expect, it } from 'vitest';
import type { SetupView } from '../bindings/SetupView';
import { choiceLabel, markPreviewed, missingChoices, setupSteps, syncBlockedReason, wasPreviewed } from './setup';

const income = { variable: 'Income Account', description: '', modules: ['Products'], field: 'IncomeAccountRef.value', entity: 'Account', required: true, value: '' };
const vendor = { variable: 'Vendor ID', description: '', modules: ['Orders'], field: 'VendorRef.value', entity: 'Vendor', required: true, value: '56' };
const tax = { variable: 'Sales Tax Code', description: '', modules: ['Invoices'], field: 'TxnTaxDetail.TxnTaxCodeRef.value', entity: 'TaxCode', required: false, value: '' };
const view = (over: Partial<SetupView> = {}): SetupView => ({
  instance: 'Shop',
  connection: 'connected',
  choices: [income, vendor, tax],
  first_sync: null,
  ...over,
});

describe('the first-sync checklist', () => {
  it('names each choice by the kind of record and who needs it', () => {
    expect(choiceLabel(income)).toBe('Income account for Products');
    expect(choiceLabel(tax)).toBe('Sales tax code for Invoices');
    expect(choiceLabel({ ...vendor, field: 'CustomField.value', variable: 'Odd one' })).toBe('Odd one for Orders');
  });

  it('refuses a sync until connected and every required choice is made, saying which', () => {
    expect(syncBlockedReason(view({ connection: 'not_connected' }))).toBe('Connect to QuickBooks first.');
    expect(syncBlockedReason(view())).toBe(
      'Sync now waits until you choose the income account for Products below: QuickBooks refuses every new record without it.',
    );
    expect(syncBlockedReason(view({ choices: [income, { ...vendor, value: '' }] }))).toBe(
      'Sync now waits until you choose the income account for Products and the vendor for Orders below: QuickBooks refuses every new record without them.',
    );
    // An optional choice left empty does not hold the sync.
    expect(missingChoices(view({ choices: [{ ...income, value: '79' }, vendor, tax] }))).toEqual([]);
    expect(syncBlockedReason(view({ choices: [{ ...income, value: '79' }, vendor, tax] }))).toBeNull();
  });

  it('marks the steps done in order of what is true', () => {
    const done = (v: SetupView, previewed = false) => setupSteps(v, previewed).map((s) => s.done);
    expect(done(view({ connection: 'not_connected' }))).toEqual([false, false, false, false]);
    expect(done(view())).toEqual([true, false, false, false]);
    expect(done(view({ choices: [vendor] }), true)).toEqual([true, true, true, false]);
    expect(done(view({ choices: [vendor], first_sync: 3 }))).toEqual([true, true, true, true]);
  });

  it('remembers a preview per instance', () => {
    const store = new Map<string, string>();
    const storage = { setItem: (k: string, v: string) => void store.set(k, v), getItem: (k: string) => store.get(k) ?? null };
    expect(wasPreviewed('Shop', storage)).toBe(false);
    markPreviewed('Shop', storage);
    expect(wasPreviewed('Shop', storage)).toBe(true);
    expect(wasPreviewed('Other', storage)).toBe(false);
  });
});
