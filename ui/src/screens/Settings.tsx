// An instance's settings: where its QuickBooks is, its keys (the secret only as set or
// not), the redirect URI, server variables, lookups, which methods run, conflict
// policies, the schedule and how it stands, and removing the instance.

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError, METHODS, type InstanceView, type MethodName, type Spec } from '../api';
import type { ConflictPolicy } from '../bindings/ConflictPolicy';
import type { LookupRow } from '../bindings/LookupRow';
import type { ScheduleView } from '../bindings/ScheduleView';
import { Section, type Notify } from '../components/common';
import relayPage from '../../../docs/oauth-relay.html?raw';
import { formatWhen } from '../lib/format';
import { runOutcomeWords } from '../lib/history';
import { scheduleFromForm, type ScheduleForm } from '../lib/schedule';
import { formChanges, formFromInstance, rebaseForm, type SettingsForm } from '../lib/settingsform';

const POLICIES: [ConflictPolicy, string][] = [
  ['hold', 'Hold for me to decide'],
  ['platform_wins', 'Platform wins'],
  ['quickbooks_wins', 'QuickBooks wins'],
  ['newest_wins', 'Newest change wins'],
];

const value = (e: Event) => (e.target as HTMLInputElement).value;

/** The relay page ships inside the app, so an installed copy can hand it to the operator. */
function saveRelayPage() {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([relayPage], { type: 'text/html' }));
  link.download = 'oauth-relay.html';
  link.click();
  URL.revokeObjectURL(link.href);
}

export function Settings({ instance, notify, onSaved }: { instance: InstanceView; notify: Notify; onSaved: () => void }) {
  const name = instance.name;
  const [spec, setSpec] = useState<Spec | null>(null);
  // The instance as the form last saw it, and the form: see lib/settingsform.
  const [{ base, form }, setEditing] = useState(() => {
    const start = formFromInstance(instance);
    return { base: start, form: start };
  });
  const [newSecret, setNewSecret] = useState('');
  const [methods, setMethods] = useState<Record<string, Record<string, boolean>>>({});
  const [lookups, setLookups] = useState<LookupRow[]>([]);
  const [newLookup, setNewLookup] = useState<LookupRow>({ lookup: '', platform_value: '', qbo_value: '' });
  const [autostart, setAutostart] = useState<boolean | null>(null);
  const [saving, setSaving] = useState(false);
  const [standing, setStanding] = useState<ScheduleView | null>(null);
  const [removing, setRemoving] = useState(false);

  useEffect(() => {
    setEditing(({ base: before, form: editing }) => {
      const after = formFromInstance(instance);
      return { base: after, form: rebaseForm(editing, before, after) };
    });
  }, [instance]);
  const edit = (patch: Partial<SettingsForm>) => setEditing((now) => ({ ...now, form: { ...now.form, ...patch } }));
  const { environment, baseUrl, companyId, clientId, redirectUri, variables, policies, schedule } = form;
  const setSchedule = (next: ScheduleForm) => edit({ schedule: next });

  useEffect(() => {
    api.spec(name).then(setSpec, (e) => notify(asApiError(e)));
    api.lookups(name).then(setLookups, (e) => notify(asApiError(e)));
    api.autostartEnabled().then(setAutostart, () => setAutostart(null));
  }, [name, notify]);
  useEffect(() => {
    api.scheduleStatus(name).then(setStanding, () => setStanding(null));
  }, [name, instance]);

  const remove = async () => {
    try {
      await api.removeInstance(name);
      onSaved();
    } catch (error) {
      notify(asApiError(error));
      setRemoving(false);
    }
  };

  const methodOn = (module: string, method: MethodName) => {
    const chosen = methods[module]?.[method] ?? instance.settings.methods[module]?.[method];
    if (chosen !== undefined) return chosen;
    const m = spec?.modules.find((x) => x.name === module);
    return m ? m.methods[method].enabled : false;
  };

  const save = async () => {
    const scheduled = scheduleFromForm(schedule);
    if ('error' in scheduled) {
      notify({ code: 'validation', message: scheduled.error, detail: null });
      return;
    }
    setSaving(true);
    try {
      const changedMethods: [string, MethodName, boolean][] = [];
      for (const [module, byMethod] of Object.entries(methods)) {
        for (const [method, on] of Object.entries(byMethod)) changedMethods.push([module, method as MethodName, on]);
      }
      const { changes, scheduleChanged } = formChanges(form, base);
      await api.updateInstance(name, { ...changes, client_secret: newSecret ? newSecret : null, methods: changedMethods });
      if (scheduleChanged) await api.setSchedule(name, scheduled.schedule);
      setNewSecret('');
      setMethods({});
      notify('Settings saved.');
      onSaved();
    } catch (error) {
      notify(asApiError(error));
    } finally {
      setSaving(false);
    }
  };

  const addLookup = async () => {
    try {
      await api.setLookup(name, newLookup);
      setLookups(await api.lookups(name));
      setNewLookup({ lookup: newLookup.lookup, platform_value: '', qbo_value: '' });
    } catch (error) {
      notify(asApiError(error));
    }
  };

  return (
    <div class="screen">
      <Section title="QuickBooks company">
        <div class="form-grid">
          <label>
            Environment
            <select data-testid="settings-environment" value={environment} onChange={(e) => edit({ environment: value(e) as typeof environment })}>
              <option value="sandbox">Intuit sandbox</option>
              <option value="production">Production</option>
              <option value="custom">Another server</option>
            </select>
          </label>
          {environment === 'custom' && (
            <label>
              Base URL
              <input data-testid="settings-base-url" value={baseUrl} onInput={(e) => edit({ baseUrl: value(e) })} />
            </label>
          )}
          <label>
            Company ID <span class="hint">(the realm id; set when you connect)</span>
            <input value={companyId} onInput={(e) => edit({ companyId: value(e) })} />
          </label>
          <label>
            Client ID
            <input data-testid="settings-client-id" value={clientId} onInput={(e) => edit({ clientId: value(e) })} />
          </label>
          <label>
            Client Secret{' '}
            <span class={instance.client_secret_set ? 'badge ok' : 'badge'}>{instance.client_secret_set ? 'set' : 'not set'}</span>
            <input
              type="password"
              data-testid="settings-client-secret"
              placeholder={instance.client_secret_set ? 'Type a new secret to replace it' : 'Paste the secret'}
              value={newSecret}
              onInput={(e) => setNewSecret(value(e))}
              autoComplete="off"
            />
          </label>
          <label class="wide">
            Redirect URI
            <span class="with-action">
              <input data-testid="settings-redirect-uri" value={redirectUri} onInput={(e) => edit({ redirectUri: value(e) })} />
              <button
                type="button"
                data-testid="copy-redirect-uri"
                onClick={() =>
                  navigator.clipboard
                    .writeText(redirectUri)
                    .then(
                      () => notify('Redirect URI copied: paste it into your Intuit app’s Redirect URIs.'),
                      (e) => notify(asApiError(e)),
                    )
                }
              >
                Copy
              </button>
            </span>
          </label>
        </div>
        <p class="hint">
          Intuit sends the answer of Connect to this address. With sandbox keys it may be <code>http://localhost:PORT/…</code>:
          the app listens there. Production keys need an https address: save the relay page, host it on any https site,
          register its address with your Intuit app and enter it here; the page forwards the answer to the app through its{' '}
          <code>qbconnector://</code> link.
        </p>
        <div class="actions">
          <button type="button" data-testid="save-relay-page" onClick={saveRelayPage}>
            Save the relay page…
          </button>
        </div>
      </Section>

      {spec && spec.variables.length > 0 && (
        <Section title="Server variables">
          <div class="form-grid">
            {spec.variables.map((variable) => (
              <label key={variable.name}>
                {variable.name} <span class="hint">{variable.description}</span>
                <input
                  value={variables[variable.name] ?? ''}
                  placeholder={variable.default ? `default: ${variable.default}` : 'not set'}
                  onInput={(e) => edit({ variables: { ...variables, [variable.name]: value(e) } })}
                />
              </label>
            ))}
          </div>
        </Section>
      )}

      <Section title="Lookups">
        <table class="table compact">
          <thead>
            <tr>
              <th scope="col">Lookup</th>
              <th scope="col">Platform value</th>
              <th scope="col">QuickBooks value</th>
              <th scope="col"><span class="sr-only">Remove</span></th>
            </tr>
          </thead>
          <tbody>
            {lookups.map((row) => (
              <tr key={`${row.lookup}/${row.platform_value}`}>
                <td>{row.lookup}</td>
                <td>{row.platform_value}</td>
                <td>{row.qbo_value}</td>
                <td>
                  <button
                    type="button"
                    class="ghost"
                    aria-label={`Remove ${row.lookup} ${row.platform_value}`}
                    onClick={async () => {
                      await api.removeLookup(name, row.lookup, row.platform_value).catch((e) => notify(asApiError(e)));
                      setLookups(await api.lookups(name));
                    }}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
            <tr>
              <td>
                <select aria-label="Lookup" value={newLookup.lookup} onChange={(e) => setNewLookup({ ...newLookup, lookup: value(e) })}>
                  <option value="">Choose…</option>
                  {spec?.lookups.map((l) => (
                    <option key={l.name} value={l.name}>
                      {l.name}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <input aria-label="Platform value" value={newLookup.platform_value} onInput={(e) => setNewLookup({ ...newLookup, platform_value: value(e) })} />
              </td>
              <td>
                <input aria-label="QuickBooks value" value={newLookup.qbo_value} onInput={(e) => setNewLookup({ ...newLookup, qbo_value: value(e) })} />
              </td>
              <td>
                <button type="button" disabled={!newLookup.lookup || !newLookup.platform_value} onClick={addLookup}>
                  Add
                </button>
              </td>
            </tr>
          </tbody>
        </table>
      </Section>

      {spec && (
        <Section title="Modules and methods">
          <div class="matrix-wrap">
            <table class="table matrix">
              <thead>
                <tr>
                  <th scope="col">Module</th>
                  {METHODS.map((m) => (
                    <th scope="col" key={m}>
                      {m.replace('_', ' ')}
                    </th>
                  ))}
                  <th scope="col">When both sides changed</th>
                </tr>
              </thead>
              <tbody>
                {spec.modules.map((module) => (
                  <tr key={module.name}>
                    <th scope="row">{module.name}</th>
                    {METHODS.map((method) => (
                      <td key={method}>
                        <input
                          type="checkbox"
                          role="switch"
                          aria-label={`${module.name} ${method.replace('_', ' ')}`}
                          checked={methodOn(module.name, method)}
                          onChange={(e) =>
                            setMethods({
                              ...methods,
                              [module.name]: { ...methods[module.name], [method]: (e.target as HTMLInputElement).checked },
                            })
                          }
                        />
                      </td>
                    ))}
                    <td>
                      <select
                        aria-label={`${module.name}: when both sides changed`}
                        value={policies[module.name] ?? 'hold'}
                        onChange={(e) => edit({ policies: { ...policies, [module.name]: value(e) as ConflictPolicy } })}
                      >
                        {POLICIES.map(([policy, label]) => (
                          <option key={policy} value={policy}>
                            {label}
                          </option>
                        ))}
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
      )}

      <Section title="Schedule">
        <div class="form-grid">
          <label>
            Sync by itself
            <select data-testid="schedule-mode" value={schedule.mode} onChange={(e) => setSchedule({ ...schedule, mode: value(e) as ScheduleForm['mode'] })}>
              <option value="manual">Only when I press Sync</option>
              <option value="every">Every few minutes</option>
              <option value="daily">Once a day</option>
            </select>
          </label>
          {schedule.mode === 'every' && (
            <label>
              Every (minutes)
              <input type="number" min={5} max={1440} value={schedule.minutes} onInput={(e) => setSchedule({ ...schedule, minutes: value(e) })} />
            </label>
          )}
          {schedule.mode === 'daily' && (
            <label>
              At
              <input type="time" value={schedule.at} onInput={(e) => setSchedule({ ...schedule, at: value(e) })} />
            </label>
          )}
          <label class="check">
            <input type="checkbox" checked={schedule.quiet} onChange={(e) => setSchedule({ ...schedule, quiet: (e.target as HTMLInputElement).checked })} />
            Quiet hours
          </label>
          {schedule.quiet && (
            <>
              <label>
                From
                <input type="time" value={schedule.quietFrom} onInput={(e) => setSchedule({ ...schedule, quietFrom: value(e) })} />
              </label>
              <label>
                To
                <input type="time" value={schedule.quietTo} onInput={(e) => setSchedule({ ...schedule, quietTo: value(e) })} />
              </label>
            </>
          )}
          <label class="check">
            <input type="checkbox" checked={schedule.paused} onChange={(e) => setSchedule({ ...schedule, paused: (e.target as HTMLInputElement).checked })} />
            Paused
          </label>
          {standing && <ScheduleStanding view={standing} />}
          {autostart !== null && (
            <label class="check">
              <input
                type="checkbox"
                data-testid="autostart"
                checked={autostart}
                onChange={(e) =>
                  api.setAutostart((e.target as HTMLInputElement).checked).then(setAutostart, (err) => notify(asApiError(err)))
                }
              />
              Start QuickBooks Connector when I log in
            </label>
          )}
        </div>
      </Section>

      <Section title="Remove this instance">
        <p class="hint">
          Forgets its settings, mappings, links and history here and its tokens in the keyring. QuickBooks and the
          platform records keep their data.
        </p>
        <div class="actions">
          {removing ? (
            <>
              <button type="button" class="danger" data-testid="remove-confirm" onClick={remove}>
                Remove {name}
              </button>
              <button type="button" onClick={() => setRemoving(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button type="button" data-testid="remove-instance" onClick={() => setRemoving(true)}>
              Remove…
            </button>
          )}
        </div>
      </Section>

      <div class="sticky-actions">
        <button type="button" class="primary" data-testid="settings-save" disabled={saving} onClick={save}>
          {saving ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </div>
  );
}

/** When the schedule runs next, and how the last scheduled run went. */
function ScheduleStanding({ view }: { view: ScheduleView }) {
  return (
    <p class="hint" data-testid="schedule-standing">
      {view.next_due ? `Next run ${formatWhen(view.next_due)}.` : 'Runs only when you press Sync.'}
      {view.last_outcome && ` Last scheduled run: ${runOutcomeWords(view.last_outcome)}.`}
      {view.failures > 0 && ` ${view.failures} failed in a row, so it waits longer each time: ${view.last_error ?? ''}`}
    </p>
  );
}
