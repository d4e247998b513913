// The first-sync checklist's steps and words, from what the connector says the mapping
// needs (`SetupView`). No framework, so Vitest tests it as is.

import type { SetupChoice } from '../bindings/SetupChoice';
import type { SetupView } from '../bindings/SetupView';

export type SetupStepId = 'connect' | 'choose' | 'preview' | 'sync';
export type SetupStep = { id: SetupStepId; title: string; done: boolean; hint: string };

/** What an operator calls the record a reference field names. */
const REFERENCE_WORDS: Record<string, string> = {
  IncomeAccountRef: 'Income account',
  ExpenseAccountRef: 'Expense account',
  AssetAccountRef: 'Inventory asset account',
  APAccountRef: 'Accounts payable account',
  ARAccountRef: 'Accounts receivable account',
  DepositToAccountRef: 'Deposit account',
  VendorRef: 'Vendor',
  CustomerRef: 'Customer',
  ItemRef: 'Product or service',
  TxnTaxCodeRef: 'Sales tax code',
  TaxCodeRef: 'Tax code',
  DefaultTaxCodeRef: 'Default tax code',
  SalesTermRef: 'Terms',
  TermRef: 'Terms',
  PaymentMethodRef: 'Payment method',
  ClassRef: 'Class',
  DepartmentRef: 'Location',
};

/** "Income account for Products": the record's kind, then who needs it. */
export function choiceLabel(choice: SetupChoice): string {
  const reference = choice.field.replace(/\.value$/, '').split('.').at(-1) ?? choice.field;
  return `${REFERENCE_WORDS[reference] ?? choice.variable} for ${choice.modules.join(' and ')}`;
}

export function missingChoices(view: SetupView): SetupChoice[] {
  return view.choices.filter((c) => c.required && c.value === '');
}

/** Why a sync cannot start yet, in words that name what to do; null when it can. */
export function syncBlockedReason(view: SetupView): string | null {
  if (view.connection !== 'connected') return 'Connect to QuickBooks first.';
  const missing = missingChoices(view);
  if (missing.length === 0) return null;
  const what = missing.map((c) => `the ${choiceLabel(c).replace(/^./, (l) => l.toLowerCase())}`).join(' and ');
  return `Sync now waits until you choose ${what} below: QuickBooks refuses every new record without ${missing.length === 1 ? 'it' : 'them'}.`;
}

/** The checklist, in order; a step is done when what it asks is. */
export function setupSteps(view: SetupView, previewed: boolean): SetupStep[] {
  const connected = view.connection === 'connected';
  const chosen = missingChoices(view).length === 0;
  const synced = view.first_sync !== null;
  return [
    {
      id: 'connect',
      title: 'Connect to QuickBooks',
      done: connected,
      hint: connected ? 'Connected.' : 'Open Connection and press Connect; QuickBooks asks you to sign in and choose the company.',
    },
    {
      id: 'choose',
      title: 'Choose what QuickBooks needs',
      done: connected && chosen,
      hint: view.choices.length === 0 ? 'Your mappings need nothing from the company.' : 'Pick each from your company by name.',
    },
    {
      id: 'preview',
      title: 'Preview the first sync',
      done: previewed || synced,
      hint: 'Open Sync and press Preview: what would be sent, record by record, before anything is.',
    },
    {
      id: 'sync',
      title: 'First sync',
      done: synced,
      hint: synced ? 'Done: the last run is below.' : 'Press Sync now when the steps above are done.',
    },
  ];
}

const PREVIEWED = 'qbc.previewed.';

/** Remembers on this machine that an instance's push was previewed. */
export function markPreviewed(instance: string, storage: Pick<Storage, 'setItem'> = localStorage): void {
  storage.setItem(PREVIEWED + instance, '1');
}

export function wasPreviewed(instance: string, storage: Pick<Storage, 'getItem'> = localStorage): boolean {
  return storage.getItem(PREVIEWED + instance) === '1';
}
