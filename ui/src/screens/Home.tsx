// Home: the first screen of an instance. Its connection, its last run (sent and received
// apart, problems), what needs the operator with the button that does it, the next
// scheduled run, and Sync now. What it counts comes from `Connector::home`; the words
// from lib/home.

import { useEffect, useState } from 'preact/hooks';
import { api, type InstanceView } from '../api';
import type { HomeView } from '../bindings/HomeView';
import type { ProblemGroup } from '../bindings/ProblemGroup';
import type { SetupView } from '../bindings/SetupView';
import { Empty, Section, type Notify } from '../components/common';
import { FirstSyncChecklist } from '../components/FirstSyncChecklist';
import { SyncProgress, useSyncRun } from '../components/SyncRun';
import { formatWhen } from '../lib/format';
import { attention, connectionLine, lastRunHeadline, nextRunWords, problemWords, relativeTime } from '../lib/home';
import { problemFix, problemHeadline } from '../lib/problems';
import { syncBlockedReason } from '../lib/setup';

export type HomeTarget = { screen: 'connection' | 'conflicts' | 'history' | 'sync' | 'settings' | 'mappings'; runId?: number; variable?: string };

export function Home({
  instance,
  home,
  notify,
  onOpen,
}: {
  instance: InstanceView;
  home: HomeView | null;
  notify: Notify;
  onOpen: (target: HomeTarget) => void;
}) {
  const { running, progress, start, cancel } = useSyncRun(instance.name, notify);
  // Relative times move on while the screen is open.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);

  // The checklist and the company's name come with the Home view: read again when it is.
  const [setup, setSetup] = useState<SetupView | null>(null);
  const [companyName, setCompanyName] = useState<string | null>(null);
  const loadSetup = () => api.setup(instance.name).then(setSetup, () => setSetup(null));
  useEffect(() => {
    loadSetup();
  }, [instance.name, home]);
  // The last run's problems, grouped by cause, each with its Fix.
  const [problems, setProblems] = useState<ProblemGroup[]>([]);
  const lastRun = home?.last_run ?? null;
  const lastRunHasProblems = lastRun !== null && lastRun.failed + lastRun.waiting + lastRun.held > 0;
  useEffect(() => {
    if (!lastRun || !lastRunHasProblems) {
      setProblems([]);
      return;
    }
    api.runProblems(instance.name, lastRun.id).then(setProblems, () => setProblems([]));
  }, [instance.name, lastRun?.id, lastRunHasProblems]);
  const connected = home?.connection === 'connected';
  useEffect(() => {
    if (!connected) return;
    api.connection(instance.name).then(
      (view) => setCompanyName(view.state === 'connected' ? view.company_name : null),
      () => setCompanyName(null),
    );
  }, [instance.name, connected]);

  const syncNow = async () => {
    if (await start('sync', null)) notify('Sync finished: the last run below is this one.');
  };

  if (!home || home.instance !== instance.name) return <div class="screen">Loading…</div>;
  const connection = connectionLine(home, companyName);
  const blocked = setup ? syncBlockedReason(setup) : null;
  const run = home.last_run;
  const needs = attention(home, now);
  return (
    <div class="screen home" data-testid="home">
      <Section
        title={home.instance}
        actions={
          <>
            <button type="button" class="primary" data-testid="home-sync-now" disabled={running || blocked !== null} title={blocked ?? undefined} onClick={syncNow}>
              Sync now
            </button>
            {running && (
              <button type="button" class="danger" data-testid="home-cancel" onClick={cancel}>
                Cancel
              </button>
            )}
          </>
        }
      >
        <p class={`home-line tone-${connection.tone}`} data-testid="home-connection" data-state={home.connection}>
          {connection.text}
        </p>
        <SyncProgress running={running} progress={progress} />
        {blocked && !running && (
          <p class="home-line hint" data-testid="home-sync-blocked">
            {blocked}
          </p>
        )}
        <p class="home-line" data-testid="home-next-run" data-kind={home.next_run.kind}>
          {nextRunWords(home.next_run, now)}
        </p>
      </Section>
      {setup && setup.first_sync === null && (
        <FirstSyncChecklist view={setup} notify={notify} onOpen={(screen) => onOpen({ screen })} onChanged={loadSetup} />
      )}
      <Section title="Needs you">
        {needs.length === 0 ? (
          <Empty>Nothing needs you now.</Empty>
        ) : (
          <ul class="home-needs" data-testid="home-needs">
            {needs.map((item) => (
              <li key={item.kind} data-testid={`home-need-${item.kind}`}>
                <span>{item.text}</span>
                <button
                  type="button"
                  data-testid={`home-open-${item.screen}`}
                  onClick={() => onOpen({ screen: item.screen, runId: item.runId })}
                >
                  {item.button}
                </button>
              </li>
            ))}
          </ul>
        )}
        <p class="home-line" data-testid="home-held-conflicts" data-count={home.held_conflicts}>
          Held conflicts: <strong>{home.held_conflicts}</strong>
        </p>
      </Section>
      <Section title="Last run">
        {!run ? (
          <Empty>No run yet. Press Sync now to send and receive records.</Empty>
        ) : (
          <div data-testid="home-last-run" data-run-id={run.id}>
            <p class="home-line">
              <strong>{lastRunHeadline(run)}</strong>
            </p>
            <p class="home-line hint">
              {relativeTime(run.started_at, now)} · {formatWhen(run.started_at)}
            </p>
            <dl class="home-counts">
              <div>
                <dt>Sent</dt>
                <dd data-testid="home-sent">{run.sent}</dd>
              </div>
              <div>
                <dt>Received</dt>
                <dd data-testid="home-received">{run.received}</dd>
              </div>
              <div>
                <dt>Failed</dt>
                <dd data-testid="home-failed" class={run.failed ? 'bad' : ''}>
                  {run.failed}
                </dd>
              </div>
              <div>
                <dt>Waiting</dt>
                <dd>{run.waiting}</dd>
              </div>
              <div>
                <dt>Held</dt>
                <dd class={run.held ? 'bad' : ''}>{run.held}</dd>
              </div>
            </dl>
            <p class="home-line">{problemWords(run)}</p>
            {problems.length > 0 && (
              <ul class="home-problems" data-testid="problem-groups">
                {problems.map((group) => {
                  const fix = problemFix(group);
                  return (
                    <li key={`${group.module} ${group.outcome} ${group.cause}`} data-testid="problem-group" data-fix={group.fix?.kind ?? ''}>
                      <span>{problemHeadline(group)}</span>
                      {fix && (
                        <button
                          type="button"
                          data-testid="problem-fix"
                          title={fix.label}
                          onClick={() =>
                            onOpen(
                              fix.target.screen === 'settings'
                                ? { screen: 'settings', variable: fix.target.variable }
                                : { screen: fix.target.screen },
                            )
                          }
                        >
                          Fix: {fix.label}
                        </button>
                      )}
                    </li>
                  );
                })}
              </ul>
            )}
          </div>
        )}
      </Section>
    </div>
  );
}
