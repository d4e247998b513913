// History: the runs with counts and duration, a chart of runs over time, and each
// run's records with QuickBooks' error in words plus code, field and intuit_tid.

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError, events, type InstanceView } from '../api';
import type { RecordOutcome } from '../bindings/RecordOutcome';
import type { RunRow } from '../bindings/RunRow';
import { CountCells, CountHeads, Empty, Section, type Notify } from '../components/common';
import { VirtualList } from '../components/VirtualList';
import { formatWhen, runDuration } from '../lib/format';
import { isPull, runOutcomeWords, runTotals } from '../lib/history';

/** Room for the record line, the error in words and its code line. */
const OUTCOME_ROW_HEIGHT = 76;

export function History({ instance, notify, openRun: opened = null }: { instance: InstanceView; notify: Notify; openRun?: number | null }) {
  const name = instance.name;
  const [runs, setRuns] = useState<RunRow[]>([]);
  // Opened from Home on a run: that run, its problems only.
  const [selected, setSelected] = useState<number | null>(opened);
  // How many records the open run has; its rows are read page by page as they scroll in.
  const [outcomeTotal, setOutcomeTotal] = useState(0);
  const [generation, setGeneration] = useState(0);
  const [onlyProblems, setOnlyProblems] = useState(opened !== null);

  const load = () => api.runs(name, 100).then(setRuns, (e) => notify(asApiError(e)));
  useEffect(() => {
    load();
    const stop = events.syncFinished((e) => e.instance === name && load());
    return () => {
      stop.then((unlisten) => unlisten());
    };
  }, [name]);
  useEffect(() => {
    if (selected === null) return;
    api.runRecords(name, selected, onlyProblems, 0, 0).then((page) => setOutcomeTotal(page.total), (e) => notify(asApiError(e)));
  }, [name, selected, onlyProblems, generation, notify]);

  const act = async (work: () => Promise<unknown>, done: string) => {
    try {
      await work();
      notify(done);
      load();
      setGeneration((n) => n + 1);
    } catch (error) {
      notify(asApiError(error));
    }
  };

  const openRun = runs.find((run) => run.id === selected);
  return (
    <div class="screen">
      <Section title="Runs">
        <RunChart runs={runs} />
        {runs.length === 0 ? (
          <Empty>No run yet: sync from the Sync screen or the tray.</Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Started</th>
                <th scope="col">How</th>
                <th scope="col">Outcome</th>
                <CountHeads />
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => {
                const totals = runTotals(run);
                return (
                  <tr
                    key={run.id}
                    class={selected === run.id ? 'selected' : ''}
                    data-testid="run-row"
                    data-run-id={run.id}
                    onClick={() => setSelected(run.id)}
                  >
                    <td>
                      <button type="button" class="link" data-testid="run-open" aria-label={`Open run ${run.id}`} onClick={() => setSelected(run.id)}>
                        #{run.id}
                      </button>
                    </td>
                    <td>{formatWhen(run.started_at)}</td>
                    <td>
                      {run.direction} · {run.trigger}
                    </td>
                    <td>{runOutcomeWords(run.outcome)}</td>
                    <CountCells counts={totals} />
                    <td>{runDuration(run.started_at, run.finished_at)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Section>
      {selected !== null && (
        <Section
          title={`Run #${selected}`}
          actions={
            <>
              <label class="check">
                <input type="checkbox" checked={onlyProblems} onChange={(e) => setOnlyProblems((e.target as HTMLInputElement).checked)} />
                Only problems
              </label>
              {openRun && runTotals(openRun).failed > 0 && (
                <button type="button" data-testid="retry-failed" onClick={() => act(() => api.retryFailed(name, selected), 'Failed records sent again.')}>
                  Retry failed
                </button>
              )}
            </>
          }
        >
          <div class="outcome-head" aria-hidden="true">
            <span>Module · record · what · outcome</span>
            <span>QuickBooks</span>
          </div>
          {outcomeTotal > 0 && (
            <VirtualList<RecordOutcome>
              total={outcomeTotal}
              rowHeight={OUTCOME_ROW_HEIGHT}
              version={`${selected}|${onlyProblems}|${generation}`}
              label={`Records of run ${selected}`}
              fetchPage={(offset, limit) => api.runRecords(name, selected, onlyProblems, offset, limit).then((page) => page.records)}
              renderRow={(o) =>
                o ? (
                  <div data-testid="outcome-row" class={`outcome-row ${o.outcome === 'failed' ? 'bad-row' : ''}`}>
                    <div class="outcome-what">
                      <span>{o.module}</span>
                      <span class="mono">{o.record_id}</span>
                      <span>{o.operation}</span>
                      <strong>{o.outcome}</strong>
                      {o.qbo_id && <span class="hint">QuickBooks Id {o.qbo_id}</span>}
                    </div>
                    {o.message && (
                      <div class="error-lines">
                        <div class="clip" title={o.message}>
                          {o.message}
                        </div>
                        <div class="hint">
                          {o.code && `code ${o.code}`}
                          {o.element && ` · field ${o.element}`}
                          {o.intuit_tid && ` · intuit_tid ${o.intuit_tid}`}
                        </div>
                      </div>
                    )}
                    <div class="row-actions">
                      {/* A pulled record that failed has no platform record to send; the next pull reads it again. */}
                      {(!isPull(o.operation) || o.outcome === 'ok') && (
                      <button
                        type="button"
                        class="ghost"
                        aria-label={`Re-sync ${o.module} ${o.record_id}`}
                        onClick={() => act(() => api.resync(name, o.module, o.record_id), `${o.record_id} sent again.`)}
                      >
                        Re-sync
                      </button>
                      )}
                      {o.qbo_id && (
                        <button
                          type="button"
                          class="ghost"
                          aria-label={`Unlink ${o.module} ${o.record_id}`}
                          onClick={() => act(() => api.unlink(name, o.module, o.record_id), `${o.record_id} unlinked.`)}
                        >
                          Unlink
                        </button>
                      )}
                    </div>
                  </div>
                ) : (
                  <span class="hint">…</span>
                )
              }
            />
          )}
          {outcomeTotal === 0 && <Empty>No records in this run{onlyProblems ? ' had problems' : ''}.</Empty>}
        </Section>
      )}
    </div>
  );
}

/** Runs over time, oldest first: one bar per run, records done in green under failed in red. */
function RunChart({ runs }: { runs: RunRow[] }) {
  const shown = [...runs].reverse().slice(-40);
  const first = shown[0];
  const last = shown[shown.length - 1];
  if (!first || !last) return null;
  const totals = shown.map(runTotals);
  const highest = Math.max(1, ...totals.map((t) => t.ok + t.failed));
  const share = (n: number) => `${(n / highest) * 100}%`;
  const label = `The last ${shown.length} runs: records done and failed, at most ${highest} in a run`;
  return (
    <figure class="run-chart">
      <div class="run-chart-plot" role="img" aria-label={label} data-testid="run-chart">
        <span class="run-chart-scale" aria-hidden="true">
          {highest}
        </span>
        {shown.map((run, i) => {
          const t = totals[i] ?? { ok: 0, failed: 0, blocked: 0, held: 0 };
          return (
            <div key={run.id} data-testid="run-bar" class={`run-bar ${t.ok + t.failed === 0 ? 'empty' : ''}`} title={`#${run.id} ${formatWhen(run.started_at)}: ${t.ok} done, ${t.failed} failed`}>
              <div class="failed" style={`height:${share(t.failed)}`} />
              <div class="ok" style={`height:${share(t.ok)}`} />
            </div>
          );
        })}
      </div>
      <figcaption class="hint">
        <span class="swatch ok" /> done <span class="swatch failed" /> failed · runs #{first.id} ({formatWhen(first.started_at)}) to #{last.id} (
        {formatWhen(last.started_at)})
      </figcaption>
    </figure>
  );
}
