import { describe, expect, it } from 'vitest';
import type { ProblemGroup } from '../bindings/ProblemGroup';
import { problemFix, problemHeadline } from './problems';

const group = (over: Partial<ProblemGroup>): ProblemGroup => ({
  module: 'Products',
  outcome: 'failed',
  cause: 'push_create rule 4 (IncomeAccountRef.value): the server variable "Income Account" has no value',
  code: null,
  element: null,
  records: ['P1', 'P2', 'P3'],
  fix: null,
  ...over,
});

describe("a run's problems", () => {
  it('read as one line per cause, the count first', () => {
    expect(problemHeadline(group({}))).toBe(
      '3 Products could not be synced: push_create rule 4 (IncomeAccountRef.value): the server variable "Income Account" has no value',
    );
    expect(problemHeadline(group({ module: 'Orders', code: '2500', element: 'VendorRef', cause: 'Invalid Reference Id', records: ['O1'] }))).toBe(
      '1 Orders could not be synced (QuickBooks 2500, field VendorRef): Invalid Reference Id',
    );
    expect(problemHeadline(group({ module: 'Invoices', outcome: 'blocked', cause: 'waiting for a record it refers to' }))).toBe(
      '3 Invoices wait: waiting for a record it refers to',
    );
  });

  it('lead to where each is fixed, and a wait to nowhere', () => {
    expect(problemFix(group({ fix: { kind: 'choose', variable: 'Income Account' } }))).toEqual({
      label: 'Choose Income Account',
      target: { screen: 'settings', variable: 'Income Account' },
    });
    expect(problemFix(group({ fix: { kind: 'mapping', module: 'Accounts', field: 'DisplayName' } }))?.target).toEqual({ screen: 'mappings', module: 'Accounts' });
    expect(problemFix(group({ outcome: 'held', fix: { kind: 'conflicts' } }))?.target).toEqual({ screen: 'conflicts' });
    expect(problemFix(group({ outcome: 'blocked' }))).toBeNull();
  });
});
