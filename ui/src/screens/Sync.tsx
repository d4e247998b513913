// Sync: push or pull a module or everything, preview the plan field by field first, and
// follow a run's progress (cancel stops after the batches in flight).

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError, type InstanceView, type Spec } from '../api';
import type { Direction } from '../bindings/Direction';
import type { PlanView } from '../bindings/PlanView';
import type { HomeRun } from '../bindings/HomeRun';
import type { RunRow } from '../bindings/RunRow';
import { CountCells, CountHeads, Section, type Notify } from '../components/common';
import { SyncProgress, useSyncRun } from '../components/SyncRun';
import { formatValue, formatWhen } from '../lib/format';
import { resultRows, runOutcomeWords, runResultWords } from '../lib/history';
import type { Operation } from '../bindings/Operation';
import { countOperations, describeCounts, fieldsOf, worthListing } from '../lib/plan';
import { markPreviewed } from '../lib/setup';

const LISTED_PER_MODULE = 50;

export function Sync({ instance, notify }: { instance: InstanceView; notify: Notify }) {
  const name = instance.name;
  const [spec, setSpec] = useState<Spec | null>(null);
  const [plan, setPlan] = useState<PlanView[] | null>(null);
  const [planning, setPlanning] = useState(false);
  const { running, progress, result, start, cancel } = useSyncRun(name, notify);

  // The last run, so the screen says how things stand when it opens (after a restart too).
  const [lastRun, setLastRun] = useState<RunRow | null>(null);
  useEffect(() => {
    api.spec(name).then(setSpec, (e) => notify(asApiError(e)));
    api.runs(name, 1).then((runs) => setLastRun(runs[0] ?? null), () => setLastRun(null));
  }, [name, notify]);
  // A finished run's records sent and received, counted apart (the table's Done mixes both).
  const [crossed, setCrossed] = useState<HomeRun | null>(null);
  const finishedId = result && result.outcome !== null ? result.run_id : null;
  useEffect(() => {
    if (finishedId === null) return setCrossed(null);
    api.runCounts(name, finishedId).then(setCrossed, () => setCrossed(null));
  }, [name, finishedId]);
  // Every button here talks to QuickBooks: without a connection each would only fail.
  const notConnected = instance.connection !== 'connected';
  const idle = running || notConnected;

  const run = async (direction: Direction, modules: string[] | null) => {
    if (await start(direction, modules)) setPlan(null);
  };

  const preview = async () => {
    setPlanning(true);
    try {
      setPlan(await api.plan(name, null));
      markPreviewed(name);
    } catch (error) {
      notify(asApiError(error));
    } finally {
      setPlanning(false);
    }
  };

  return (
    <div class="screen">
      <Section title="Sync">
        <div class="actions wrap">
          <button type="button" data-testid="sync-preview" disabled={idle || planning} onClick={preview}>
            {planning ? 'Reading QuickBooks…' : 'Preview'}
          </button>
          <button type="button" class="primary" data-testid="sync-all" disabled={idle} onClick={() => run('sync', null)}>
            Sync all
          </button>
          <button type="button" data-testid="sync-push-all" disabled={idle} onClick={() => run('push', null)}>
            Push all
          </button>
          <button type="button" data-testid="sync-pull-all" disabled={idle} onClick={() => run('pull', null)}>
            Pull all
          </button>
          {running && (
            <button type="button" class="danger" data-testid="sync-cancel" onClick={cancel}>
              Cancel
            </button>
          )}
        </div>
        {notConnected && (
          <p class="hint" data-testid="sync-not-connected">
            {instance.connection === 'reconnect_needed'
              ? 'The connection to QuickBooks has ended: open Connection and press Reconnect, then sync.'
              : 'Not connected to QuickBooks: open Connection and press Connect, then sync.'}
          </p>
        )}
        {!result && lastRun && (
          <p class="hint" data-testid="sync-last-run" data-run-id={lastRun.id}>
            Last run #{lastRun.id}, {formatWhen(lastRun.started_at)}: {lastRun.outcome ? runOutcomeWords(lastRun.outcome) : 'still running'}. History
            lists its records.
          </p>
        )}
        <table class="table compact modules">
          <tbody>
            {spec?.modules.map((m) => (
              <tr key={m.name}>
                <th scope="row">{m.name}</th>
                <td>{m.entity}</td>
                <td>
                  <button type="button" disabled={idle} aria-label={`Push ${m.name}`} onClick={() => run('push', [m.name])}>
                    Push
                  </button>{' '}
                  <button type="button" disabled={idle} aria-label={`Pull ${m.name}`} onClick={() => run('pull', [m.name])}>
                    Pull
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <SyncProgress running={running} progress={progress} />
        {result && (
          <div class="result" data-testid="sync-result" data-outcome={result.outcome} data-run-id={result.run_id}>
            <p>
              Run #{result.run_id}: <strong>{runResultWords(result.outcome, result.counts)}</strong>
              {crossed && crossed.id === result.run_id && (
                <span class="hint" data-testid="sync-crossed" data-sent={crossed.sent} data-received={crossed.received}>
                  {' '}
                  · {crossed.sent} sent to QuickBooks · {crossed.received} received
                </span>
              )}
            </p>
            <table class="table compact">
              <thead>
                <tr>
                  <th scope="col">Module</th>
                  <CountHeads />
                  <th scope="col">Unchanged</th>
                </tr>
              </thead>
              <tbody>
                {resultRows(spec?.modules.map((m) => m.name) ?? [], result.counts).map(([module, c]) => (
                  <tr key={module}>
                    <td>{module}</td>
                    <CountCells counts={c} />
                    <td>{c.skipped}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {plan && (
        <Section title="What a push would do" actions={<button type="button" onClick={() => setPlan(null)}>Close</button>}>
          <div data-testid="plan-view">
            {plan.map((view) => (
              <details key={view.module} open={Object.keys(view.differences).length > 0}>
                <summary data-testid="plan-module">
                  <strong>{view.module}</strong> → {view.entity}: {describeCounts(countOperations(view))}
                </summary>
                {Object.entries(view.differences).map(([platformId, changes]) => (
                  <table key={platformId} class="table compact diff" aria-label={`Changes to ${platformId}`}>
                    <caption>{platformId}</caption>
                    <tbody>
                      {changes.map((change) => (
                        <tr key={change.field}>
                          <td>{change.field}</td>
                          <td class="was">{formatValue(change.quickbooks)}</td>
                          <td aria-hidden="true">→</td>
                          <td class="now">{formatValue(change.sent)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ))}
                <ul class="plan-list">
                  {view.operations
                    .filter((p) => worthListing(p.operation))
                    .slice(0, LISTED_PER_MODULE)
                    .map((p) => (
                      <li key={p.platform_id} data-testid="plan-entry" data-op={p.operation.op}>
                        <PlannedEntry platformId={p.platform_id} operation={p.operation} />
                      </li>
                    ))}
                </ul>
                {view.operations.filter((p) => worthListing(p.operation)).length > LISTED_PER_MODULE && (
                  <p class="hint">The first {LISTED_PER_MODULE} are listed; the counts above cover them all.</p>
                )}
              </details>
            ))}
          </div>
        </Section>
      )}
    </div>
  );
}

/** One record of the plan: a new record's fields as they would be sent, or why it would not be. */
function PlannedEntry({ platformId, operation }: { platformId: string; operation: Operation }) {
  switch (operation.op) {
    case 'create':
      return (
        <details>
          <summary data-testid="plan-entry-summary">
            create <code>{platformId}</code>
          </summary>
          <table class="table compact diff" data-testid="plan-entry-fields" aria-label={`Fields of the new record for ${platformId}`}>
            <tbody>
              {fieldsOf(operation.body).map(([field, value]) => (
                <tr key={field}>
                  <td>{field}</td>
                  <td class="now">{formatValue(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      );
    case 'delete':
      return (
        <>
          {operation.action === 'delete' ? 'delete' : 'make inactive'} <code>{platformId}</code> (QuickBooks {operation.qbo_id})
        </>
      );
    case 'fail':
      return (
        <span class="bad">
          fails <code>{platformId}</code>: {operation.reason}
        </span>
      );
    case 'skip':
      return (
        <>
          waits <code>{platformId}</code>: {operation.reason}
        </>
      );
    default:
      return (
        <>
          {operation.op} <code>{platformId}</code>
        </>
      );
  }
}
