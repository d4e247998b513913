import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../bindings/HistoryRecord';
import {
  NO_FILTERS,
  localDayStart,
  outcomeFilter,
  recordName,
  reportFileName,
  rowActions,
  runCountWords,
  runFilter,
  type HistoryFilters,
} from './history';

function record(overrides: Partial<HistoryRecord>): HistoryRecord {
  return {
    name: 'Alpha Traders',
    quickbooks_url: null,
    module: 'Accounts',
    record_id: 'ACC-000001',
    operation: 'create',
    outcome: 'ok',
    qbo_id: null,
    message: null,
    code: null,
    element: null,
    intuit_tid: null,
    fault: null,
    ...overrides,
  };
}

describe('history filters', () => {
  it('lets everything through when nothing is set', () => {
    expect(outcomeFilter(NO_FILTERS)).toEqual({ outcomes: [], module: null, search: null });
    expect(runFilter(NO_FILTERS)).toEqual({ from: null, to: null, run_outcomes: [], outcomes: [], module: null });
  });

  it('turns a choice into the outcomes it means, and trims the search', () => {
    const filters: HistoryFilters = { ...NO_FILTERS, outcome: 'problems', module: 'Contacts', search: '  ann ' };
    expect(outcomeFilter(filters)).toEqual({ outcomes: ['failed', 'blocked', 'held'], module: 'Contacts', search: 'ann' });
    expect(outcomeFilter({ ...NO_FILTERS, outcome: 'failed', search: '   ' })).toEqual({ outcomes: ['failed'], module: null, search: null });
    expect(runFilter({ ...NO_FILTERS, outcome: 'held' }).outcomes).toEqual(['held']);
  });

  it('reads dates as whole days in the operator\'s time zone, the end day included', () => {
    const filter = runFilter({ ...NO_FILTERS, from: '2026-03-01', to: '2026-03-01' });
    expect(filter.from).toBe(new Date(2026, 2, 1).toISOString());
    expect(filter.to).toBe(new Date(2026, 2, 2).toISOString());
    // The end of a month rolls over to the next.
    expect(localDayStart('2026-02-28', 1)).toBe(new Date(2026, 2, 1).toISOString());
    expect(localDayStart('')).toBeNull();
    expect(localDayStart('1 March')).toBeNull();
  });
});

describe('history rows', () => {
  it('names a record by its name, else its id', () => {
    expect(recordName(record({}))).toBe('Alpha Traders');
    expect(recordName(record({ name: null }))).toBe('ACC-000001');
  });

  it('offers in one menu only the actions a row has', () => {
    expect(rowActions(record({}))).toEqual(['trail', 'resync']);
    const linked = record({ qbo_id: '58', quickbooks_url: 'https://app.qbo.intuit.com/app/customerdetail?nameId=58' });
    expect(rowActions(linked)).toEqual(['open', 'trail', 'resync', 'unlink']);
    // Linked but on a server with no web app: nothing to open.
    expect(rowActions(record({ qbo_id: '58' }))).toEqual(['trail', 'resync', 'unlink']);
    // A pull that failed has no platform record to follow or send.
    expect(rowActions(record({ operation: 'pull_create', outcome: 'failed', name: null }))).toEqual([]);
    expect(rowActions(record({ operation: 'pull_update', outcome: 'ok', qbo_id: '9' }))).toEqual(['trail', 'resync', 'unlink']);
  });

  it('saves a report under the instance, the run and the filter', () => {
    expect(reportFileName('Acme Books', 12, NO_FILTERS)).toBe('acme-books-run-12.csv');
    expect(reportFileName('  Ünï / Co ', 3, { ...NO_FILTERS, outcome: 'failed' })).toBe('n-co-run-3-failed.csv');
    expect(reportFileName('***', 1, NO_FILTERS)).toBe('instance-run-1.csv');
  });

  it('counts a run sent and received apart, and only the problems it has', () => {
    const run = { id: 1, direction: 'sync', trigger: 'button', started_at: '', finished_at: null, outcome: null } as const;
    expect(runCountWords({ ...run, sent: 3, received: 2, failed: 0, waiting: 0, held: 0 })).toBe('3 sent · 2 received');
    expect(runCountWords({ ...run, sent: 0, received: 0, failed: 1, waiting: 2, held: 1 })).toBe(
      '0 sent · 0 received · 1 failed · 2 waiting · 1 held',
    );
  });
});
