import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PlanView } from '../bindings/PlanView';
import type { Spec } from '../bindings/Spec';
import { asApiError, isApiError } from '../api';
import type { ConflictRow } from '../bindings/ConflictRow';
import type { ConflictView } from '../bindings/ConflictView';
import {
  choiceSummary,
  conflictTitle,
  inWords,
  keepAll,
  renameChoice,
  resolution,
  sameEntityOutcomes,
  sameEntitySentence,
  sideOf,
} from './conflicts';
import { debounce } from './debounce';
import { errorHint, formatDuration, formatValue, runDuration } from './format';
import type { RunRow } from '../bindings/RunRow';
import { isPull, resultRows, runOutcomeWords, runResultWords, runTotals } from './history';
import { countOperations, describeCounts, fieldsOf, worthListing } from './plan';
import { addModule, addRule, findModule, moveRule, removeRule, rulesOf, updateRule, withMethodEnabled, withRules } from './rules';
import { describeSchedule, formFromSchedule, scheduleFromForm } from './schedule';
import { parseSpecFile, specFileName } from './specfile';
import { effectiveTheme, readThemeChoice, saveThemeChoice } from './theme';
import { PageCache, pagesFor, visibleRange } from './virtual';

const method = (rules: { target: string; expr: string }[]) => ({ enabled: true, rules });
const spec: Spec = {
  format: 1,
  connector: 'qbconnector',
  version: '1',
  variables: [],
  lookups: [],
  modules: [
    {
      name: 'Accounts',
      entity: 'Customer',
      depends_on: [],
      methods: {
        push_create: method([
          { target: 'DisplayName', expr: '.Name' },
          { target: 'Notes', expr: '"a"' },
        ]),
        push_update: method([]),
        push_delete: { enabled: true, action: 'deactivate' },
        pull_create: method([]),
        pull_update: method([]),
      },
      pull_deletes: false,
      match: [],
    },
    {
      name: 'Products',
      entity: 'Item',
      depends_on: [],
      methods: {
        push_create: method([{ target: 'Name', expr: '.Name' }]),
        push_update: method([]),
        push_delete: { enabled: false, action: 'deactivate' },
        pull_create: method([]),
        pull_update: method([]),
      },
      pull_deletes: false,
      match: [],
    },
  ],
};

describe('the virtual list', () => {
  it('renders the rows in view plus the overscan, clamped to the list', () => {
    expect(visibleRange(0, 300, 30, 100_000, 5)).toEqual({ start: 0, end: 16 });
    expect(visibleRange(30_000, 300, 30, 100_000, 5)).toEqual({ start: 995, end: 1016 });
    expect(visibleRange(2_999_700, 300, 30, 100_000, 5)).toEqual({ start: 99_985, end: 100_000 });
    expect(visibleRange(0, 300, 30, 0)).toEqual({ start: 0, end: 0 });
  });

  it('asks for the pages the rows fall in', () => {
    expect(pagesFor({ start: 95, end: 205 }, 100)).toEqual([0, 1, 2]);
    expect(pagesFor({ start: 100, end: 200 }, 100)).toEqual([1]);
    expect(pagesFor({ start: 5, end: 5 }, 100)).toEqual([]);
  });

  it('keeps a bounded cache and drops the least recently used page', () => {
    const cache = new PageCache<number>(10, 2);
    cache.put(0, [0, 1, 2]);
    cache.put(1, [10, 11]);
    expect(cache.row(11)).toBe(11);
    cache.put(2, [20]);
    expect(cache.has(0)).toBe(false);
    expect(cache.has(1)).toBe(true);
    expect(cache.row(20)).toBe(20);
    expect(cache.missing([0, 1, 2, 3])).toEqual([0, 3]);
  });
});

describe('the rules editor', () => {
  it('adds, edits, removes and reorders rules of one method only', () => {
    let rules = rulesOf(spec, 'Accounts', 'push_create');
    rules = addRule(rules);
    rules = updateRule(rules, 2, { target: 'PrimaryPhone.FreeFormNumber', expr: '.Phone' });
    rules = moveRule(rules, 2, -1);
    rules = removeRule(rules, 0);
    const edited = withRules(spec, 'Accounts', 'push_create', rules);
    expect(rulesOf(edited, 'Accounts', 'push_create').map((r) => r.target)).toEqual([
      'PrimaryPhone.FreeFormNumber',
      'Notes',
    ]);
    expect(rulesOf(edited, 'Products', 'push_create')).toBe(rulesOf(spec, 'Products', 'push_create'));
    expect(rulesOf(spec, 'Accounts', 'push_create')).toHaveLength(2);
  });

  it('leaves a rule at either end where it is', () => {
    const rules = rulesOf(spec, 'Accounts', 'push_create');
    expect(moveRule(rules, 0, -1)).toBe(rules);
    expect(moveRule(rules, 1, 1)).toBe(rules);
  });

  it('adds a module against any entity over a platform module and refuses a second of the same name', () => {
    const withEstimates = addModule(spec, 'Estimates', 'Estimate', 'Orders');
    expect(withEstimates.modules.map((m) => m.name)).toEqual(['Accounts', 'Products', 'Estimates']);
    expect(withEstimates.modules[2]?.platform_module).toBe('Orders');
    expect(() => addModule(withEstimates, 'Estimates', 'Estimate', 'Orders')).toThrow(/already has a module/);
    expect(() => addModule(spec, 'X', ' ', 'Orders')).toThrow(/entity/);
    expect(() => addModule(spec, 'X', 'Estimate', '')).toThrow(/platform records/);
  });

  it("starts a new module's methods off and switches one on without touching the others", () => {
    const added = addModule(spec, 'Staff', 'Employee', 'Contacts');
    expect(Object.values(findModule(added, 'Staff')?.methods ?? {}).map((m) => m.enabled)).toEqual([false, false, false, false, false]);
    const on = withMethodEnabled(added, 'Staff', 'push_create', true);
    expect(findModule(on, 'Staff')?.methods.push_create.enabled).toBe(true);
    expect(findModule(on, 'Staff')?.methods.push_update.enabled).toBe(false);
    expect(findModule(on, 'Accounts')).toEqual(findModule(spec, 'Accounts'));
    expect(findModule(withMethodEnabled(on, 'Staff', 'push_delete', true), 'Staff')?.methods.push_delete).toEqual({ enabled: true, action: 'deactivate' });
  });
});

describe('the schedule form', () => {
  it('turns into a schedule and back', () => {
    const form = { mode: 'every', minutes: '15', at: '02:00', quiet: true, quietFrom: '22:00', quietTo: '06:00', paused: false } as const;
    const result = scheduleFromForm(form);
    expect(result).toEqual({
      schedule: { cadence: { kind: 'every', minutes: 15 }, quiet_hours: { from: '22:00', to: '06:00' }, paused: false },
    });
    if ('schedule' in result) expect(formFromSchedule(result.schedule)).toEqual(form);
  });

  it('names what is wrong', () => {
    const base = formFromSchedule({ cadence: { kind: 'manual' }, quiet_hours: null, paused: false });
    expect(scheduleFromForm({ ...base, mode: 'every', minutes: '2' })).toEqual({
      error: 'Every: give a whole number of minutes from 5 to 1440.',
    });
    expect(scheduleFromForm({ ...base, mode: 'daily', at: '25:00' })).toHaveProperty('error');
    expect(scheduleFromForm({ ...base, quiet: true, quietFrom: '01:00', quietTo: '01:00' })).toHaveProperty('error');
  });

  it('describes itself', () => {
    expect(describeSchedule({ cadence: { kind: 'daily', at: '02:30' }, quiet_hours: null, paused: true })).toBe(
      'daily at 02:30 (paused)',
    );
  });
});

describe('debounce', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('calls once, with the last arguments, after the burst', () => {
    const seen: string[] = [];
    const check = debounce((name: string) => seen.push(name), 250);
    check('D');
    check('De');
    vi.advanceTimersByTime(249);
    check('Demo');
    vi.advanceTimersByTime(249);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(['Demo']);
  });

  it('can be cancelled', () => {
    const seen: number[] = [];
    const call = debounce((n: number) => seen.push(n), 100);
    call(1);
    call.cancel();
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([]);
  });
});

describe('spec files', () => {
  it('refuses what is not a spec, saying why', () => {
    expect(() => parseSpecFile('{', 'x.json')).toThrow(/x.json is not JSON/);
    expect(() => parseSpecFile('[]')).toThrow(/JSON object/);
    expect(() => parseSpecFile('{"format":1,"connector":"c","version":"1"}')).toThrow(/no "modules"/);
    expect(() => parseSpecFile('{"format":1,"connector":"c","version":"1","modules":[{"name":"A"}]}')).toThrow(
      /module 1 needs/,
    );
  });

  it('reads an exported spec back whole', () => {
    expect(parseSpecFile(JSON.stringify(spec))).toEqual(spec);
    expect(specFileName('Demo company / 2')).toBe('Demo-company-2-spec.json');
  });
});

describe('plans and formats', () => {
  it('counts a plan by operation', () => {
    const plan: PlanView = {
      module: 'Accounts',
      entity: 'Customer',
      differences: {},
      operations: [
        { platform_id: 'a', operation: { op: 'create', body: {}, hash: 'h' } },
        { platform_id: 'b', operation: { op: 'create', body: {}, hash: 'h' } },
        { platform_id: 'c', operation: { op: 'skip', why: 'unchanged', reason: 'unchanged since the last sync' } },
        { platform_id: 'd', operation: { op: 'skip', why: 'waiting', reason: 'Accounts A9 is not in QuickBooks yet' } },
      ],
    };
    expect(describeCounts(countOperations(plan))).toBe('2 to create · 1 waiting for a record they refer to · 1 unchanged');
    expect(describeCounts(countOperations({ ...plan, operations: [] }))).toBe('nothing to send');
    // Only what would be written, or what waits, is listed record by record.
    expect(plan.operations.filter((p) => worthListing(p.operation)).map((p) => p.platform_id)).toEqual(['a', 'b', 'd']);
  });

  it('lists a new record field by field', () => {
    expect(fieldsOf({ DisplayName: 'Ada', Line: [{ Amount: 30.5 }, { Amount: 2 }], Ref: { value: '7' }, Note: null })).toEqual([
      ['DisplayName', 'Ada'],
      ['Line[0].Amount', 30.5],
      ['Line[1].Amount', 2],
      ['Ref.value', '7'],
      ['Note', null],
    ]);
  });

  it('formats durations and values', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(runDuration('2026-11-25T10:00:00Z', '2026-11-25T10:00:03.5Z')).toBe('3.5 s');
    expect(runDuration('2026-11-25T10:00:00Z', null)).toBe('running');
    expect(formatValue(null)).toBe('(empty)');
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
  });

  it('reads errors by their code, never their text', () => {
    const busy = asApiError({ code: 'busy', message: 'anything at all', detail: null });
    expect(isApiError(busy)).toBe(true);
    expect(errorHint(busy)).toMatch(/already running/);
    // A refusal says what to change itself; no sentence about a value "named above" that is not there.
    expect(errorHint({ ...busy, code: 'validation' })).toBe('');
    expect(asApiError(new Error('boom'))).toEqual({ code: 'storage', message: 'boom', detail: null });
  });
});

describe('conflicts', () => {
  const entry = (fields: Partial<ConflictView>): ConflictView => ({
    id: 1,
    kind: 'changed_on_both_sides',
    module: 'Accounts',
    entity: 'Customer',
    platform_id: 'A-1',
    qbo_id: '47',
    other_platform_id: null,
    matched_value: null,
    rename_field: null,
    rename_refused: null,
    message: null,
    platform_version: {},
    qbo_version: {},
    quickbooks_as_platform: null,
    rows: [],
    last_synced: null,
    created_at: '2026-11-25T10:00:00Z',
    ...fields,
  });
  const twins = entry({
    kind: 'same_entity',
    platform_id: 'ACC-2',
    qbo_id: '58',
    other_platform_id: 'ACC-1',
    matched_value: 'Twin Co',
    rename_field: 'Name',
    platform_version: { Id: 'ACC-2', Name: 'Twin Co' },
  });

  const rows: ConflictRow[] = [
    { field: 'Phone', label: 'Phone', platform: '+1 555 0199', quickbooks: '+1 555 0100', kind: 'text' },
    {
      field: 'Address',
      label: 'Billing address',
      platform: '12 High St, Bristol, BS1 4DJ, GB',
      quickbooks: '(empty)',
      kind: 'address',
    },
  ];

  it('keeps yours for every field until a side is picked, one at a time or all at once', () => {
    expect(sideOf({}, 'Phone')).toBe('platform');
    expect(resolution(rows, {})).toEqual({ Phone: 'platform', Address: 'platform' });
    expect(choiceSummary(rows, {})).toBe('Keeps yours for all 2 fields.');

    const one = { ...keepAll(rows, 'platform'), Phone: 'quickbooks' as const };
    expect(resolution(rows, one)).toEqual({ Phone: 'quickbooks', Address: 'platform' });
    expect(choiceSummary(rows, one)).toBe("Keeps yours for 1 field and takes QuickBooks' for 1 field.");

    const theirs = keepAll(rows, 'quickbooks');
    expect(theirs).toEqual({ Phone: 'quickbooks', Address: 'quickbooks' });
    expect(choiceSummary(rows, theirs)).toBe("Takes QuickBooks' for all 2 fields.");
    expect(choiceSummary(rows.slice(0, 1), {})).toBe('Keeps yours for the one field.');
    expect(choiceSummary([], {})).toMatch(/^No field differs/);
  });

  it('sends only the fields shown, whatever else was picked before', () => {
    expect(resolution(rows.slice(0, 1), { Phone: 'quickbooks', Gone: 'quickbooks' })).toEqual({ Phone: 'quickbooks' });
  });

  it('puts two records QuickBooks sees as one in an operator\'s words', () => {
    expect(sameEntitySentence(twins)).toBe('QuickBooks sees Accounts ACC-2 as the same customer as ACC-1 (Twin Co)');
    expect(sameEntitySentence({ ...twins, matched_value: null })).toBe(
      'QuickBooks sees Accounts ACC-2 as the same customer as ACC-1',
    );
    expect(inWords('PurchaseOrder')).toBe('purchase order');
    expect(sameEntityOutcomes(twins).rename).toBe('ACC-2 gets a new name here and QuickBooks creates it as a customer of its own.');
    expect(conflictTitle(twins)).toBe('Accounts ACC-2 and ACC-1: one customer in QuickBooks');
    expect(conflictTitle(entry({}))).toBe('Accounts: A-1 ↔ QuickBooks customer 47');
    expect(conflictTitle(entry({ platform_version: { Name: 'Café Zoë' } }))).toBe('Accounts: Café Zoë ↔ QuickBooks customer 47');
    expect(conflictTitle(entry({ module: 'Contacts', platform_version: { FirstName: 'Ana', LastName: 'Lopez' } }))).toBe(
      'Contacts: Ana Lopez ↔ QuickBooks customer 47',
    );
    const outcomes = sameEntityOutcomes(twins);
    expect(outcomes.link).toMatch(/^ACC-1 is unlinked; ACC-2 is linked to QuickBooks customer 58/);
    expect(outcomes.leave).toMatch(/fails alone on every sync until it is renamed or removed/);
  });

  it('sends a rename only when it is a new name, and says why not otherwise', () => {
    expect(renameChoice(twins, '  Twin Co West ')).toEqual({ choice: { choice: 'rename', name: 'Twin Co West' } });
    expect(renameChoice(twins, '   ').problem).toBe('Type the new name.');
    expect(renameChoice(twins, 'TWIN CO').problem).toMatch(/still see it as the same customer/);
    const contact = { ...twins, module: 'Contacts', rename_field: null, rename_refused: 'its name is made of three fields' };
    expect(renameChoice(contact, 'Ann Lee').problem).toBe('Renaming does not apply: its name is made of three fields.');
    expect(sameEntityOutcomes(contact).rename).toBe('Renaming does not apply: its name is made of three fields.');
  });
});

describe('the theme', () => {
  it('follows the system until the operator chooses', () => {
    expect(effectiveTheme('system', true)).toBe('dark');
    expect(effectiveTheme('system', false)).toBe('light');
    expect(effectiveTheme('light', true)).toBe('light');
    expect(effectiveTheme('dark', false)).toBe('dark');
  });

  it('remembers a choice and forgets it when the system is chosen again', () => {
    const saved = new Map<string, string>();
    const storage = {
      getItem: (key: string) => saved.get(key) ?? null,
      setItem: (key: string, value: string) => void saved.set(key, value),
      removeItem: (key: string) => void saved.delete(key),
    };
    expect(readThemeChoice(storage)).toBe('system');
    saveThemeChoice(storage, 'dark');
    expect(readThemeChoice(storage)).toBe('dark');
    saveThemeChoice(storage, 'system');
    expect(saved.size).toBe(0);
    saved.set('qbconnector.theme', 'sepia');
    expect(readThemeChoice(storage)).toBe('system');
  });
});

describe('run history', () => {
  it('adds a run up over its modules, keeping what waits and what is held apart from failures', () => {
    const counts = (ok: number, failed: number, blocked: number, held: number) => ({ ok, failed, skipped: 7, blocked, held });
    const run: RunRow = {
      id: 2,
      trigger: 'button',
      direction: 'sync',
      started_at: '2026-12-02T07:29:02Z',
      finished_at: '2026-12-02T07:29:03Z',
      outcome: 'failed_records',
      counts: { Accounts: counts(4, 0, 0, 1), Invoices: counts(6, 2, 3, 0) },
    };
    expect(runTotals(run)).toEqual({ ok: 10, failed: 2, blocked: 3, held: 1 });
  });

  it('says how a run ended in words and tells pulled records from pushed ones', () => {
    expect(runOutcomeWords('failed_records')).toBe('failed records');
    expect(runOutcomeWords(null)).toBe('running');
    // One held conflict and nothing failed: not "failed records".
    expect(runResultWords('failed_records', { Accounts: { failed: 0 } })).toBe('finished, with records that wait or are held for you');
    expect(runResultWords('failed_records', { Accounts: { failed: 0 }, Products: { failed: 2 } })).toBe('failed records');
    expect(runResultWords('succeeded', {})).toBe('succeeded');
    // Estimates had nothing to do: still a row, as progress showed it.
    const done = { ok: 2, failed: 0, skipped: 0, blocked: 0, held: 0 };
    expect(resultRows(['Accounts', 'Estimates'], { Accounts: done, Old: done }).map(([m, c]) => [m, c.ok])).toEqual([
      ['Accounts', 2],
      ['Estimates', 0],
      ['Old', 2],
    ]);
    expect(isPull('pull_delete')).toBe(true);
    expect(isPull('update')).toBe(false);
  });
});
