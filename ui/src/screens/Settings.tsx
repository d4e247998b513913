// An instance's settings in sections: Connection (where its QuickBooks is, its keys, the
// secret only as set or not, the redirect URI), QuickBooks defaults (the server variables an
// operator chooses, and lookups), What syncs (methods and conflict policies), Schedule,
// Advanced (technical variables and facts); removing the instance in a danger zone; and,
// apart, the preferences of the whole app (start at login). The sections scroll above a
// Save bar of their own row, so the bar never lies over a field.

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError, METHODS, type InstanceView, type MethodName, type Spec } from '../api';
import type { ConflictPolicy } from '../bindings/ConflictPolicy';
import type { LookupRow } from '../bindings/LookupRow';
import type { ScheduleView } from '../bindings/ScheduleView';
import type { AppInfo } from '../bindings/AppInfo';
import type { Variable } from '../bindings/Variable';
import { Section, type Notify } from '../components/common';
import { CompanyRecordSelect } from '../components/CompanyRecordSelect';
import relayPage from '../../../docs/oauth-relay.html?raw';
import { formatWhen } from '../lib/format';
import { runOutcomeWords } from '../lib/history';
import { scheduleFromForm, type ScheduleForm } from '../lib/schedule';
import { groupVariables, needsValue, SETTINGS_SECTIONS } from '../lib/settingsections';
import { formChanges, formFromInstance, formHasEdits, rebaseForm, type SettingsForm } from '../lib/settingsform';

// Short enough to be read whole in the narrow window's column; the hint above the table says
// what holding means.
const POLICIES: [ConflictPolicy, string][] = [
  ['hold', 'Hold for me'],
  ['platform_wins', 'Platform wins'],
  ['quickbooks_wins', 'QuickBooks wins'],
  ['newest_wins', 'Newest wins'],
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

const CONNECTION_WORDS: Record<InstanceView['connection'], string> = {
  connected: 'Connected to QuickBooks.',
  not_connected: 'Not connected to QuickBooks.',
  reconnect_needed: 'QuickBooks needs you to connect again.',
};

/** Scrolls the Settings screen to one of its sections (buttons, not #links: the address stays). */
/** Lookups whose QuickBooks side is a record of the company, chosen from a list by name;
 * a currency is a code, typed. */
const LISTED_LOOKUPS = new Set(['tax_code', 'payment_method', 'term']);

function jumpTo(id: string) {
  document.getElementById(id)?.scrollIntoView({ block: 'start' });
}

export function Settings({
  instance,
  notify,
  onSaved,
  onOpenConnection,
  focusVariable,
}: {
  instance: InstanceView;
  notify: Notify;
  onSaved: () => void;
  /** Opens the Connection screen, where Connect and Reconnect are. */
  onOpenConnection?: () => void;
  /** A server variable to bring into view and focus: where a problem's Fix leads. */
  focusVariable?: string | null;
}) {
  const name = instance.name;
  // Which variables name a record of the company: those are chosen by the record's name.
  const [chosenByName, setChosenByName] = useState<Set<string>>(new Set());
  useEffect(() => {
    api.setup(name).then(
      (view) => setChosenByName(new Set(view.choices.map((c) => c.variable))),
      () => setChosenByName(new Set()),
    );
  }, [name]);
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
  const [about, setAbout] = useState<AppInfo | null>(null);

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
    api.appInfo().then(setAbout, () => setAbout(null));
  }, [name, notify]);
  // Where a problem's Fix leads: the variable's field in view, with the focus in it, once
  // the sections are drawn (they need the spec).
  useEffect(() => {
    if (!focusVariable || !spec) return;
    const field = document.querySelector<HTMLElement>(`[data-testid=settings-variable][data-name="${CSS.escape(focusVariable)}"]`);
    field?.scrollIntoView({ block: 'center' });
    field?.focus();
  }, [focusVariable, spec]);
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

  const unsaved = formHasEdits(form, base) || newSecret !== '' || Object.keys(methods).length > 0;
  const groups = spec ? groupVariables(spec.variables, spec.modules.map((m) => m.name)) : null;
  const variableField = (variable: Variable, placeholder?: string) => {
    const missing = needsValue(variable, variables[variable.name]);
    return (
      <label key={variable.name}>
        <span>
          {variable.name}{' '}
          {missing && (
            <span class="badge warn" data-testid="variable-missing">
              required
            </span>
          )}
        </span>
        {(variable.description || variable.default) && (
          <span class="hint">
            {variable.description}
            {variable.default && (
              <>
                {variable.description && ' '}
                Default <code>{variable.default}</code>.
              </>
            )}
          </span>
        )}
        {/* The default is told above, where it wraps: in the field a long one was cut off. */}
        {chosenByName.has(variable.name) && instance.connection === 'connected' ? (
          <CompanyRecordSelect
            instance={name}
            variable={variable.name}
            value={variables[variable.name] ?? ''}
            empty={variable.default ? `The default (id ${variable.default})` : missing ? 'Choose…' : 'None (the company’s default)'}
            testId="settings-variable"
            onChoose={(id) => edit({ variables: { ...variables, [variable.name]: id } })}
          />
        ) : (
          <input
            data-testid="settings-variable"
            data-name={variable.name}
            value={variables[variable.name] ?? ''}
            placeholder={placeholder ?? (variable.default ? 'default' : 'not set')}
            onInput={(e) => edit({ variables: { ...variables, [variable.name]: value(e) } })}
          />
        )}
      </label>
    );
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
    <div class="screen settings">
      <div class="settings-body" data-testid="settings-body">
        <nav class="settings-toc" aria-label="Sections of the settings">
          {SETTINGS_SECTIONS.map(([id, title]) => (
            <button type="button" class="link" key={id} data-testid={`toc-${id}`} onClick={() => jumpTo(id)}>
              {title}
            </button>
          ))}
        </nav>

        <Section id="settings-connection" testId="settings-connection" title="Connection">
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
              Client ID
              <input data-testid="settings-client-id" value={clientId} onInput={(e) => edit({ clientId: value(e) })} />
            </label>
            <label>
              <span>
                Client Secret{' '}
                <span class={instance.client_secret_set ? 'badge ok' : 'badge'}>{instance.client_secret_set ? 'set' : 'not set'}</span>
              </span>
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
            <label>
              <span>
                Company ID <span class="hint">(the realm id; set when you connect)</span>
              </span>
              <input data-testid="settings-company-id" value={companyId} onInput={(e) => edit({ companyId: value(e) })} />
            </label>
          </div>
          <p class="hint">
            Intuit sends the answer of Connect to the redirect URI. With sandbox keys it may be <code>http://localhost:PORT/…</code>:
            the app listens there. Production keys need an https address: save the relay page, host it on any https site,
            register its address with your Intuit app and enter it here; the page forwards the answer to the app through its{' '}
            <code>qbconnector://</code> link.
          </p>
          <div class="actions">
            <button type="button" data-testid="save-relay-page" onClick={saveRelayPage}>
              Save the relay page…
            </button>
          </div>
          <div class="connection-line">
            <span data-testid="settings-connection-state" data-state={instance.connection}>
              {CONNECTION_WORDS[instance.connection]}
            </span>
            {onOpenConnection && (
              <button type="button" data-testid="settings-open-connection" disabled={unsaved} onClick={onOpenConnection}>
                {instance.connection === 'not_connected' ? 'Connect…' : 'Reconnect…'}
              </button>
            )}
            {onOpenConnection && unsaved && <span class="hint">Save first: Connect uses the saved keys and address.</span>}
          </div>
        </Section>

        <Section id="settings-defaults" testId="settings-defaults" title="QuickBooks defaults">
          <p class="hint">
            What QuickBooks needs that the platform does not have: which accounts, vendor and tax code records take. An
            empty field uses the default it shows.
          </p>
          {groups === null && <p class="empty">Loading the spec…</p>}
          {groups?.defaults.map((group) => (
            <fieldset class="variable-group" key={group.modules.join()}>
              <legend>{group.modules.join(', ')}</legend>
              <div class="form-grid">{group.variables.map((variable) => variableField(variable))}</div>
            </fieldset>
          ))}
          <fieldset class="variable-group">
            <legend>Lookups</legend>
            <p class="hint">A platform value and the QuickBooks value it stands for, such as a currency, tax code or term.</p>
            <table class="table compact lookups">
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
                    {LISTED_LOOKUPS.has(newLookup.lookup) && instance.connection === 'connected' ? (
                      <CompanyRecordSelect
                        instance={name}
                        lookup={newLookup.lookup}
                        value={newLookup.qbo_value}
                        empty="Choose…"
                        testId="lookup-qbo-value"
                        label="QuickBooks value"
                        onChoose={(id) => setNewLookup({ ...newLookup, qbo_value: id })}
                      />
                    ) : (
                      <input aria-label="QuickBooks value" value={newLookup.qbo_value} onInput={(e) => setNewLookup({ ...newLookup, qbo_value: value(e) })} />
                    )}
                  </td>
                  <td>
                    <button type="button" disabled={!newLookup.lookup || !newLookup.platform_value} onClick={addLookup}>
                      Add
                    </button>
                  </td>
                </tr>
              </tbody>
            </table>
          </fieldset>
        </Section>

        <Section id="settings-syncs" testId="settings-syncs" title="What syncs">
          <p class="hint">
            Each module’s methods on or off: push sends platform records to QuickBooks, pull brings QuickBooks records to the
            platform. The last column says what happens to a record changed on both sides since the last sync: held ones
            wait in Conflicts for you to choose field by field.
          </p>
          {spec === null ? (
            <p class="empty">Loading the spec…</p>
          ) : (
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
          )}
        </Section>

        <Section id="settings-schedule" testId="settings-schedule" title="Schedule">
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
          </div>
          {standing && <ScheduleStanding view={standing} />}
        </Section>

        <Section id="settings-advanced" testId="settings-advanced" title="Advanced">
          {groups && groups.advanced.length > 0 && (
            <fieldset class="variable-group">
              <legend>Technical server variables</legend>
              <p class="hint">How requests are built. The spec’s defaults suit QuickBooks Online; change them only when told to.</p>
              <div class="form-grid">
                {groups.advanced.map((variable) =>
                  variable.name === 'CompanyID' && companyId.trim()
                    ? variableField(variable, 'the Company ID under Connection')
                    : variableField(variable),
                )}
              </div>
            </fieldset>
          )}
          <dl class="facts">
            <dt>Instance number</dt>
            <dd data-testid="settings-instance-id">{instance.id}</dd>
            <dt>Made</dt>
            <dd>{formatWhen(instance.created_at)}</dd>
            <dt>Last changed</dt>
            <dd>{formatWhen(instance.updated_at)}</dd>
          </dl>
        </Section>

        <Section id="danger-zone" testId="danger-zone" class="danger-zone" title="Danger zone">
          <div class="danger-row">
            <div>
              <strong>Remove this instance</strong>
              <p class="hint">
                Forgets its settings, mappings, links and history here and its tokens in the keyring. QuickBooks and the
                platform records keep their data.
              </p>
            </div>
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
                <button type="button" class="danger" data-testid="remove-instance" onClick={() => setRemoving(true)}>
                  Remove…
                </button>
              )}
            </div>
          </div>
        </Section>

        <Section id="app-preferences" testId="app-preferences" class="app-wide" title="App preferences (all instances)">
          <p class="hint">These apply to the whole app, whichever instance is open, and take effect at once: no Save needed.</p>
          {autostart === null ? (
            <p class="hint">Start at login is not available on this desktop.</p>
          ) : (
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
          <p class="hint">The theme, light or dark, is chosen at the foot of the sidebar.</p>
          {about && (
            <dl class="facts">
              <dt>Version</dt>
              <dd>{about.version}</dd>
              <dt>Data folder</dt>
              <dd class="path" data-testid="settings-data-dir">
                {about.data_dir}
              </dd>
            </dl>
          )}
        </Section>
      </div>

      <div class="settings-savebar" data-testid="settings-savebar">
        <span class="hint" data-testid="settings-unsaved" data-unsaved={unsaved ? 'true' : 'false'}>
          {unsaved ? `Unsaved changes to ${name}.` : `${name}: everything saved.`}
        </span>
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
