// The connection to QuickBooks: which company, until when the tokens last, and
// Connect / Reconnect / Disconnect. The answer of Connect arrives as an event.

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError, events, type InstanceView } from '../api';
import type { ConnectionView } from '../bindings/ConnectionView';
import type { ConnectWay } from '../bindings/ConnectWay';
import { Section, type Notify } from '../components/common';
import { formatUnixSeconds } from '../lib/format';

export function Connection({ instance, notify, onChanged }: { instance: InstanceView; notify: Notify; onChanged: () => void }) {
  const name = instance.name;
  const [connection, setConnection] = useState<ConnectionView | null>(null);
  const [waiting, setWaiting] = useState<{ way: ConnectWay; where: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = () =>
    api.connection(name).then(setConnection, (error) => {
      setConnection(null);
      notify(asApiError(error));
    });

  useEffect(() => {
    setWaiting(null);
    load();
    const stop = events.connectionChanged((event) => {
      if (event.error) {
        notify(event.error);
        // A loopback listener hears one answer and stops; the deep link keeps waiting for
        // the right one after a refused one.
        if (event.instance === name) setWaiting((w) => (w?.way === 'loopback' ? null : w));
        return;
      }
      if (event.instance !== name) return;
      setWaiting(null);
      if (event.connection) setConnection(event.connection);
      onChanged();
    });
    return () => {
      stop.then((unlisten) => unlisten());
    };
  }, [name]);

  const connect = async () => {
    setBusy(true);
    try {
      const started = await api.connect(name);
      setWaiting({
        way: started.way,
        where: started.way === 'loopback' ? 'the browser (this app is listening for the answer)' : 'the browser and the relay page',
      });
    } catch (error) {
      notify(asApiError(error));
    } finally {
      setBusy(false);
    }
  };

  const disconnect = async () => {
    setBusy(true);
    try {
      await api.disconnect(name);
      await load();
      onChanged();
    } catch (error) {
      notify(asApiError(error));
    } finally {
      setBusy(false);
    }
  };

  const state = waiting ? 'waiting' : (connection?.state ?? 'not_connected');
  return (
    <div class="screen">
      <Section title="Connection">
        <div class="connection" data-testid="connection-state" data-state={state}>
          {state === 'waiting' && (
            <p>
              <span class="spinner" aria-hidden="true" /> Waiting for QuickBooks… finish in {waiting?.where}.
            </p>
          )}
          {state !== 'waiting' && connection?.state === 'connected' && (
            <dl class="facts">
              <dt>Company</dt>
              <dd>
                {connection.company_name ?? '(name not available)'} <span class="hint">Company ID {connection.realm_id}</span>
              </dd>
              <dt>Access until</dt>
              <dd>{formatUnixSeconds(connection.access_expires_at)} (renewed by itself)</dd>
              <dt>Refresh until</dt>
              <dd>{formatUnixSeconds(connection.refresh_expires_at)}</dd>
              {connection.refresh_hard_expires_at !== null && (
                <>
                  <dt>Must reconnect by</dt>
                  <dd>{formatUnixSeconds(connection.refresh_hard_expires_at)}</dd>
                </>
              )}
            </dl>
          )}
          {state !== 'waiting' && connection?.state === 'reconnect_required' && (
            <p class="field-error">QuickBooks needs you to connect again: {connection.reason}</p>
          )}
          {state === 'not_connected' && <p>Not connected. Connect opens QuickBooks in your browser to pick the company.</p>}
        </div>
        <div class="actions">
          <button type="button" class="primary" data-testid="connect-button" disabled={busy} onClick={connect}>
            {connection?.state === 'connected' || connection?.state === 'reconnect_required' ? 'Reconnect' : 'Connect'}
          </button>
          {connection?.state === 'connected' && (
            <button type="button" data-testid="disconnect-button" disabled={busy} onClick={disconnect}>
              Disconnect
            </button>
          )}
        </div>
      </Section>
    </div>
  );
}
