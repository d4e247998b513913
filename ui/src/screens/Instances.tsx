// The instances: their state at a glance, activating a new one (its name checked as it
// is typed), and on a first launch the demo company.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, asApiError, type InstanceView } from '../api';
import type { Environment } from '../bindings/Environment';
import { Empty, Section, type Notify } from '../components/common';
import { debounce } from '../lib/debounce';
import { describeSchedule } from '../lib/schedule';

type Props = {
  instances: InstanceView[];
  current: string | null;
  onPick: (name: string) => void;
  notify: Notify;
};

export function environmentLabel(environment: Environment): string {
  switch (environment.kind) {
    case 'sandbox':
      return 'Intuit sandbox';
    case 'production':
      return 'Production';
    case 'custom':
      return `Custom (${environment.base_url})`;
  }
}

export function Instances({ instances, current, onPick, notify }: Props) {
  const [activating, setActivating] = useState(false);
  const [startingDemo, setStartingDemo] = useState(false);

  const startDemo = async () => {
    setStartingDemo(true);
    try {
      const view = await api.startDemo();
      onPick(view.name);
      notify('The demo company is ready: open Connection and press Connect.');
    } catch (error) {
      notify(asApiError(error));
    } finally {
      setStartingDemo(false);
    }
  };

  return (
    <div class="screen">
      {instances.length === 0 && (
        <section class="card welcome">
          <h2>Welcome to QuickBooks Connector</h2>
          <p>
            Connect your records to a QuickBooks Online company. To look around first, try it with a demo company: a
            QuickBooks sandbox runs on this computer with sample records, and nothing leaves it.
          </p>
          <div class="actions">
            <button type="button" class="primary" data-testid="demo-start" disabled={startingDemo} onClick={startDemo}>
              {startingDemo ? 'Starting the demo…' : 'Try it with a demo company'}
            </button>
            <button type="button" data-testid="activate-open" onClick={() => setActivating(true)}>
              Activate an instance
            </button>
          </div>
        </section>
      )}
      {instances.length > 0 && (
        <Section
          title="Instances"
          actions={
            <button type="button" class="primary" data-testid="activate-open" onClick={() => setActivating(true)}>
              Activate…
            </button>
          }
        >
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">QuickBooks</th>
                <th scope="col">Company</th>
                <th scope="col">Schedule</th>
              </tr>
            </thead>
            <tbody>
              {instances.map((view) => (
                <tr key={view.id} class={view.name === current ? 'selected' : ''} data-testid="instance-row">
                  <td>
                    <button type="button" class="link" onClick={() => onPick(view.name)}>
                      {view.name}
                    </button>
                  </td>
                  <td>{environmentLabel(view.environment)}</td>
                  <td>
                    {view.connection === 'connected' && <span class="badge ok">connected · {view.company_id}</span>}
                    {view.connection === 'reconnect_needed' && <span class="badge warn">reconnect needed</span>}
                    {view.connection === 'not_connected' && <span class="badge">not connected</span>}
                  </td>
                  <td>{describeSchedule(view.settings.schedule)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {instances.length === 0 && <Empty>No instance yet.</Empty>}
        </Section>
      )}
      {activating && (
        <ActivateDialog
          onClose={() => setActivating(false)}
          onDone={(view) => {
            setActivating(false);
            onPick(view.name);
          }}
          notify={notify}
        />
      )}
    </div>
  );
}

function ActivateDialog({
  onClose,
  onDone,
  notify,
}: {
  onClose: () => void;
  onDone: (view: InstanceView) => void;
  notify: Notify;
}) {
  const [name, setName] = useState('');
  const [free, setFree] = useState<boolean | null>(null);
  const [checkFailed, setCheckFailed] = useState<string | null>(null);
  const dialog = useRef<HTMLFormElement>(null);
  const [environment, setEnvironment] = useState<'sandbox' | 'production' | 'custom'>('sandbox');
  const [baseUrl, setBaseUrl] = useState('');
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [saving, setSaving] = useState(false);

  const check = useMemo(
    () =>
      debounce((candidate: string) => {
        api.instanceNameFree(candidate).then(
          (answer) => setFree(answer),
          (error) => setCheckFailed(asApiError(error).message),
        );
      }, 200),
    [],
  );
  useEffect(() => {
    setFree(null);
    setCheckFailed(null);
    if (name.trim()) check(name.trim());
    return () => check.cancel();
  }, [name, check]);
  // A modal dialog: Escape closes it, and Tab goes round its own controls only.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
      if (e.key !== 'Tab' || !dialog.current) return;
      const controls = Array.from(
        dialog.current.querySelectorAll<HTMLElement>('input, select, button:not([disabled]), textarea'),
      );
      const first = controls[0];
      const last = controls[controls.length - 1];
      if (!first || !last) return;
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    try {
      const env: Environment =
        environment === 'custom' ? { kind: 'custom', base_url: baseUrl.trim() } : { kind: environment };
      const view = await api.activateInstance(
        { name: name.trim(), environment: env, company_id: null, client_id: clientId.trim() || null, redirect_uri: null },
        clientSecret || null,
      );
      onDone(view);
    } catch (error) {
      notify(asApiError(error));
    } finally {
      setSaving(false);
    }
  };

  const status = !name.trim()
    ? 'Give the instance a name you will recognise, e.g. the shop it serves.'
    : checkFailed
      ? `The name could not be checked (${checkFailed}); Activate checks it again.`
      : free === null
      ? 'Checking…'
      : free
        ? 'This name is free.'
        : 'An instance already has this name.';
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <form ref={dialog} class="dialog" role="dialog" aria-modal="true" aria-labelledby="activate-title" onSubmit={submit}>
        <h2 id="activate-title">Activate an instance</h2>
        <label>
          Name
          <input
            data-testid="activate-name"
            value={name}
            autoFocus
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
            aria-describedby="activate-name-status"
          />
        </label>
        <p
          id="activate-name-status"
          class={free === false ? 'field-error' : 'hint'}
          data-testid="activate-name-status"
          data-free={free === null ? '' : String(free)}
        >
          {status}
        </p>
        <label>
          QuickBooks
          <select value={environment} onChange={(e) => setEnvironment((e.target as HTMLSelectElement).value as typeof environment)}>
            <option value="sandbox">Intuit sandbox company</option>
            <option value="production">Production company</option>
            <option value="custom">Another server (a local sandbox)</option>
          </select>
        </label>
        {environment === 'custom' && (
          <label>
            Base URL
            <input value={baseUrl} placeholder="http://127.0.0.1:8700" onInput={(e) => setBaseUrl((e.target as HTMLInputElement).value)} />
          </label>
        )}
        <label>
          Client ID <span class="hint">(optional now; from your Intuit app's keys)</span>
          <input value={clientId} onInput={(e) => setClientId((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Client Secret <span class="hint">(kept in the system keyring, never shown again)</span>
          <input type="password" value={clientSecret} onInput={(e) => setClientSecret((e.target as HTMLInputElement).value)} />
        </label>
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" data-testid="activate-submit" disabled={!name.trim() || (free !== true && !checkFailed) || saving}>
            Activate
          </button>
        </div>
      </form>
    </div>
  );
}
