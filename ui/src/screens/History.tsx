// History: the runs with counts and duration, a chart of runs over time, filters (outcome,
// module, dates, a record's name), and each run's records by name with QuickBooks' error in
// words plus code, field and intuit_tid; a record's trail through every run; a run's report
// as CSV. Row actions sit in one menu per row.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, asApiError, events, type InstanceView } from '../api';
import type { HistoryRecord } from '../bindings/HistoryRecord';
import type { HomeRun } from '../bindings/HomeRun';
import type { RecordTrail } from '../bindings/RecordTrail';
import type { RunRow } from '../bindings/RunRow';
import { CountCells, CountHeads, Empty, Section, type Notify } from '../components/common';
import { VirtualList } from '../components/VirtualList';
import { debounce } from '../lib/debounce';
import { formatWhen, runDuration } from '../lib/format';
import {
  NO_FILTERS,
  OUTCOME_CHOICES,
  ROW_ACTION_WORDS,
  outcomeFilter,
  recordName,
  reportFileName,
  rowActions,
  runCountWords,
  runFilter,
  runOutcomeWords,
  runTotals,
  type HistoryFilters,
  type OutcomeChoice,
  type RowAction,
} from '../lib/history';

/** Room for the record line, the error in words and its code line. */
const OUTCOME_ROW_HEIGHT = 76;
/** Runs listed at once; the filters find older ones. */
const RUNS_SHOWN = 100;

export function History({ instance, notify, openRun: opened = null }: { instance: InstanceView; notify: Notify; openRun?: number | null }) {
  const name = instance.name;
  const [runs, setRuns] = useState<RunRow[]>([]);
  const [runTotal, setRunTotal] = useState(0);
  // Opened from Home on a run: that run, its problems only.
  const [selected, setSelected] = useState<number | null>(opened);
  const [filters, setFilters] = useState<HistoryFilters>(opened !== null ? { ...NO_FILTERS, outcome: 'problems' } : NO_FILTERS);
  // The search box as typed; the filters take it a moment after the last key.
  const [searchText, setSearchText] = useState('');
  const [modules, setModules] = useState<string[]>([]);
  // How many records the open run has; its rows are read page by page as they scroll in.
  const [outcomeTotal, setOutcomeTotal] = useState(0);
  const [counts, setCounts] = useState<HomeRun | null>(null);
  const [trail, setTrail] = useState<RecordTrail | null>(null);
  const [generation, setGeneration] = useState(0);

  const set = (change: Partial<HistoryFilters>) => setFilters((now) => ({ ...now, ...change }));
  const applySearch = useMemo(() => debounce((search: string) => set({ search }), 250), []);
  useEffect(() => () => applySearch.cancel(), [applySearch]);

  const load = () =>
    api.historyRuns(name, runFilter(filters), 0, RUNS_SHOWN).then(
      (page) => {
        setRuns(page.runs);
        setRunTotal(page.total);
      },
      (e) => notify(asApiError(e)),
    );
  useEffect(() => {
    load();
    const stop = events.syncFinished((e) => {
      if (e.instance !== name) return;
      load();
      setGeneration((n) => n + 1);
    });
    return () => {
      stop.then((unlisten) => unlisten());
    };
  }, [name, filters.outcome, filters.module, filters.from, filters.to]);
  useEffect(() => {
    api.spec(name).then((spec) => setModules(spec.modules.map((m) => m.name)), (e) => notify(asApiError(e)));
  }, [name]);
  useEffect(() => {
    if (selected === null) return;
    api.historyRecords(name, selected, outcomeFilter(filters), 0, 0).then((page) => setOutcomeTotal(page.total), (e) => notify(asApiError(e)));
  }, [name, selected, filters, generation, notify]);
  useEffect(() => {
    if (selected === null) return;
    api.runCounts(name, selected).then(setCounts, (e) => notify(asApiError(e)));
  }, [name, selected, generation, notify]);

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

  const showTrail = (module: string, recordId: string) =>
    api.recordTrail(name, module, recordId).then(setTrail, (e) => notify(asApiError(e)));

  const openInQuickbooks = (module: string, qboId: string) =>
    api.openInQuickbooks(name, module, qboId).catch((e) => notify(asApiError(e)));

  const onRowAction = (action: RowAction, o: HistoryRecord) => {
    const label = recordName(o);
    if (action === 'open' && o.qbo_id) openInQuickbooks(o.module, o.qbo_id);
    else if (action === 'trail') showTrail(o.module, o.record_id);
    else if (action === 'resync') act(() => api.resync(name, o.module, o.record_id), `${label} sent again.`);
    else if (action === 'unlink') act(() => api.unlink(name, o.module, o.record_id), `${label} unlinked.`);
  };

  const exportReport = async () => {
    if (selected === null) return;
    try {
      const text = await api.runReportCsv(name, selected, outcomeFilter(filters));
      const blob = new Blob([text], { type: 'text/csv' });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = reportFileName(name, selected, filters);
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (error) {
      notify(asApiError(error));
    }
  };

  const openRun = runs.find((run) => run.id === selected);
  const filtered = filters.outcome !== 'all' || filters.module !== '' || filters.search !== '' || filters.from !== '' || filters.to !== '';
  return (
    <div class="screen">
      <div class="toolbar history-filters" role="search" aria-label="Filter the history">
        <label>
          Outcome
          <select
            data-testid="history-filter-outcome"
            value={filters.outcome}
            onChange={(e) => set({ outcome: (e.target as HTMLSelectElement).value as OutcomeChoice })}
          >
            {OUTCOME_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Module
          <select data-testid="history-filter-module" value={filters.module} onChange={(e) => set({ module: (e.target as HTMLSelectElement).value })}>
            <option value="">Every module</option>
            {modules.map((module) => (
              <option key={module} value={module}>
                {module}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" data-testid="history-from" value={filters.from} onChange={(e) => set({ from: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          To
          <input type="date" data-testid="history-to" value={filters.to} onChange={(e) => set({ to: (e.target as HTMLInputElement).value })} />
        </label>
        <label class="grow">
          Record
          <input
            type="search"
            data-testid="history-search"
            placeholder="Name, number or id…"
            value={searchText}
            onInput={(e) => {
              const text = (e.target as HTMLInputElement).value;
              setSearchText(text);
              applySearch(text);
            }}
          />
        </label>
        {filtered && (
          <button
            type="button"
            class="ghost"
            onClick={() => {
              applySearch.cancel();
              setSearchText('');
              setFilters(NO_FILTERS);
            }}
          >
            Clear
          </button>
        )}
      </div>
      <Section title={runTotal > runs.length ? `Runs (the last ${runs.length} of ${runTotal})` : 'Runs'}>
        <RunChart runs={runs} />
        {runs.length === 0 ? (
          <Empty>{filtered ? 'No run matches these filters.' : 'No run yet: sync from the Sync screen or the tray.'}</Empty>
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
              <button type="button" data-testid="run-export-csv" onClick={exportReport}>
                Export CSV
              </button>
              {openRun && runTotals(openRun).failed > 0 && (
                <button type="button" data-testid="retry-failed" onClick={() => act(() => api.retryFailed(name, selected), 'Failed records sent again.')}>
                  Retry failed
                </button>
              )}
            </>
          }
        >
          {counts && counts.id === selected && (
            <p class="hint" data-testid="run-counts" data-sent={counts.sent} data-received={counts.received}>
              {runCountWords(counts)}
            </p>
          )}
          <div class="outcome-head" aria-hidden="true">
            <span>Record · module · what · outcome</span>
            <span>Actions</span>
          </div>
          {outcomeTotal > 0 && (
            <VirtualList<HistoryRecord>
              total={outcomeTotal}
              rowHeight={OUTCOME_ROW_HEIGHT}
              version={`${selected}|${JSON.stringify(outcomeFilter(filters))}|${generation}`}
              label={`Records of run ${selected}`}
              fetchPage={(offset, limit) => api.historyRecords(name, selected, outcomeFilter(filters), offset, limit).then((page) => page.records)}
              renderRow={(o) =>
                o ? (
                  <div data-testid="outcome-row" data-outcome={o.outcome} data-module={o.module} data-record-id={o.record_id} class={`outcome-row ${o.outcome === 'failed' ? 'bad-row' : ''}`}>
                    <div class="outcome-what">
                      <span class="record-name" title={o.record_id}>
                        {recordName(o)}
                      </span>
                      <span class="hint">{o.module}</span>
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
                      <RowMenu label={`${o.module} ${recordName(o)}`} actions={rowActions(o)} onAction={(action) => onRowAction(action, o)} />
                    </div>
                  </div>
                ) : (
                  <span class="hint">…</span>
                )
              }
            />
          )}
          {outcomeTotal === 0 && <Empty>No records in this run{filtered ? ' match these filters' : ''}.</Empty>}
        </Section>
      )}
      {trail && (
        <Section
          title={`Trail of ${trail.name ?? trail.record_id}`}
          actions={
            <>
              {trail.quickbooks_url && trail.qbo_id && (
                <button type="button" onClick={() => trail.qbo_id && openInQuickbooks(trail.module, trail.qbo_id)}>
                  Open in QuickBooks
                </button>
              )}
              <button type="button" class="ghost" onClick={() => setTrail(null)}>
                Close
              </button>
            </>
          }
        >
          <div data-testid="record-trail" data-record-id={trail.record_id} data-runs={trail.runs.length}>
            <p class="hint">
              {trail.module} {trail.record_id} → QuickBooks {trail.entity} {trail.qbo_id ?? '(not linked)'}
            </p>
            {trail.runs.length === 0 ? (
              <Empty>No run has touched this record.</Empty>
            ) : (
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">Run</th>
                    <th scope="col">Started</th>
                    <th scope="col">What</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">QuickBooks</th>
                    <th scope="col">Message</th>
                  </tr>
                </thead>
                <tbody>
                  {trail.runs.map((entry) => (
                    <tr key={`${entry.run_id}-${entry.operation}`} data-testid="trail-entry" data-run-id={entry.run_id} class={entry.outcome === 'failed' ? 'bad-row' : ''}>
                      <td>
                        <button type="button" class="link" onClick={() => setSelected(entry.run_id)}>
                          #{entry.run_id}
                        </button>
                      </td>
                      <td>{formatWhen(entry.started_at)}</td>
                      <td>
                        {entry.operation} · {entry.trigger}
                      </td>
                      <td>{entry.outcome}</td>
                      <td>{entry.qbo_id ?? '—'}</td>
                      <td class="clip" title={entry.message ?? ''}>
                        {entry.message ?? ''}
                        {entry.code && <span class="hint"> (code {entry.code}{entry.intuit_tid && `, intuit_tid ${entry.intuit_tid}`})</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </Section>
      )}
    </div>
  );
}

/** A row's actions behind one button: a menu, so a long list is not a wall of buttons. */
function RowMenu({ label, actions, onAction }: { label: string; actions: RowAction[]; onAction: (action: RowAction) => void }) {
  if (actions.length === 0) return null;
  return (
    <details class="row-menu" data-testid="row-menu">
      <summary aria-label={`Actions for ${label}`} title="Actions">
        ⋯
      </summary>
      <div class="row-menu-items" role="menu">
        {actions.map((action) => (
          <button
            key={action}
            type="button"
            role="menuitem"
            class="ghost"
            data-action={action}
            onClick={(e) => {
              const menu = (e.currentTarget as HTMLElement).closest('details');
              if (menu) menu.open = false;
              onAction(action);
            }}
          >
            {ROW_ACTION_WORDS[action]}
          </button>
        ))}
      </div>
    </details>
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
