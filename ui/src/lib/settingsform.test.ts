import { describe, expect, it } from 'vitest';
import type { InstanceView } from '../bindings/InstanceView';
import { formChanges, formFromInstance, formHasEdits, rebaseForm } from './settingsform';

function instance(change: (i: InstanceView) => void = () => {}): InstanceView {
  const view: InstanceView = {
    client_secret_set: true,
    connection: 'not_connected',
    id: 1,
    name: 'Shop',
    environment: { kind: 'sandbox' },
    company_id: null,
    client_id: 'client-1',
    redirect_uri: 'http://localhost:8123/callback',
    settings: {
      variables: { minorversion: '75', currency: 'USD' },
      methods: {},
      conflict_policies: { Accounts: 'hold' },
      schedule: { cadence: { kind: 'every', minutes: 60 }, quiet_hours: null, paused: false },
    },
    created_at: '2026-11-25T10:00:00Z',
    updated_at: '2026-11-25T10:00:00Z',
  };
  change(view);
  return view;
}

describe('the settings form while the instance changes under it', () => {
  const before = formFromInstance(instance());

  it('keeps what the operator typed and takes what changed elsewhere', () => {
    const typed = { ...before, redirectUri: 'https://relay.example/qbc' };
    // Connect set the company ID and another window chose a policy for Products.
    const after = formFromInstance(
      instance((i) => {
        i.company_id = '9341453050000001';
        i.settings.conflict_policies = { Accounts: 'hold', Products: 'quickbooks_wins' };
      }),
    );
    const form = rebaseForm(typed, before, after);
    expect(form.redirectUri).toBe('https://relay.example/qbc');
    expect(form.companyId).toBe('9341453050000001');
    expect(form.policies).toEqual({ Accounts: 'hold', Products: 'quickbooks_wins' });
  });

  it('follows each schedule field on its own: a pause from the tray survives an edited cadence', () => {
    const typed = { ...before, schedule: { ...before.schedule, minutes: '15' } };
    const after = formFromInstance(instance((i) => (i.settings.schedule.paused = true)));
    const form = rebaseForm(typed, before, after);
    expect(form.schedule.minutes).toBe('15');
    expect(form.schedule.paused).toBe(true);
  });

  it('keeps an edited variable and drops one removed elsewhere that was not touched', () => {
    const typed = { ...before, variables: { ...before.variables, minorversion: '70' } };
    const after = formFromInstance(
      instance((i) => (i.settings.variables = { minorversion: '75' })),
    );
    expect(rebaseForm(typed, before, after).variables).toEqual({ minorversion: '70' });
  });
});

describe('what Save sends', () => {
  const base = formFromInstance(instance((i) => (i.company_id = '9341453050000001')));

  it('sends nothing the operator left alone', () => {
    const { changes, scheduleChanged } = formChanges(base, base);
    expect(changes.environment).toBeNull();
    expect(changes.company_id).toBeNull();
    expect(changes.client_id).toBeNull();
    expect(changes.redirect_uri).toBeNull();
    expect(changes.variables).toEqual({});
    expect(changes.conflict_policies).toEqual({});
    expect(scheduleChanged).toBe(false);
  });

  it('sends the edited fields, trimmed, and an emptied variable as empty (back to the default)', () => {
    const form = {
      ...base,
      redirectUri: '  https://relay.example/qbc ',
      variables: { minorversion: '75' },
      policies: { Accounts: 'platform_wins' as const },
      schedule: { ...base.schedule, mode: 'daily' as const },
    };
    const { changes, scheduleChanged } = formChanges(form, base);
    expect(changes.redirect_uri).toBe('https://relay.example/qbc');
    expect(changes.company_id).toBeNull();
    expect(changes.variables).toEqual({ currency: '' });
    expect(changes.conflict_policies).toEqual({ Accounts: 'platform_wins' });
    expect(scheduleChanged).toBe(true);
  });

  it('sends a custom environment with its address when either changed', () => {
    const custom = { ...base, environment: 'custom' as const, baseUrl: 'http://127.0.0.1:4010 ' };
    expect(formChanges(custom, base).changes.environment).toEqual({ kind: 'custom', base_url: 'http://127.0.0.1:4010' });
    const moved = { ...custom, baseUrl: 'http://127.0.0.1:4011' };
    expect(formChanges(moved, { ...custom, baseUrl: 'http://127.0.0.1:4010' }).changes.environment).toEqual({
      kind: 'custom',
      base_url: 'http://127.0.0.1:4011',
    });
    expect(formChanges({ ...base, environment: 'production' }, base).changes.environment).toEqual({ kind: 'production' });
  });

  it('does not clear a company ID that Connect set while the form was open', () => {
    const opened = formFromInstance(instance());
    const typed = { ...opened, clientId: 'client-2' };
    const connected = formFromInstance(instance((i) => (i.company_id = '9341453050000001')));
    const { changes } = formChanges(rebaseForm(typed, opened, connected), connected);
    expect(changes.company_id).toBeNull();
    expect(changes.client_id).toBe('client-2');
  });
});

describe('whether the form has edits to save', () => {
  const base = formFromInstance(instance());

  it('has none as opened, nor once a change made elsewhere is taken in', () => {
    expect(formHasEdits(base, base)).toBe(false);
    const after = formFromInstance(instance((i) => (i.settings.schedule.paused = true)));
    expect(formHasEdits(rebaseForm(base, base, after), after)).toBe(false);
  });

  it('has one for any field, variable, policy or schedule field edited', () => {
    expect(formHasEdits({ ...base, clientId: 'client-2' }, base)).toBe(true);
    expect(formHasEdits({ ...base, variables: { ...base.variables, currency: 'EUR' } }, base)).toBe(true);
    expect(formHasEdits({ ...base, policies: { Accounts: 'newest_wins' } }, base)).toBe(true);
    expect(formHasEdits({ ...base, schedule: { ...base.schedule, quiet: true } }, base)).toBe(true);
  });

  it('has none for spaces typed around a value, which Save trims away', () => {
    expect(formHasEdits({ ...base, clientId: ' client-1 ' }, base)).toBe(false);
  });
});
