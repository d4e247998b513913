//! Schedules: every instance's cadence and standing, and the runs that are due, for the
//! desktop app's scheduler task and `qbconnector schedule run`.

use chrono::{DateTime, TimeZone, Utc};
use futures::StreamExt;

use crate::error::{ApiError, ErrorCode};
use crate::sync::schedule::*;
use crate::sync::{Direction, RunOutcome, SyncRequest, Trigger};

use super::*;

impl Connector {
    /// Every instance's schedule, next due time and standing, as of `now`.
    pub fn schedules<Tz: TimeZone>(&self, now: &DateTime<Tz>) -> Result<Vec<ScheduleView>, ApiError> {
        let mut views = Vec::new();
        // The instances as stored: a schedule needs no keyring read.
        for instance in crate::instance::Instances::new(self.store()).list()? {
            let state = load_state(&self.store, instance.id)?;
            let schedule = instance.settings.schedule.clone();
            views.push(ScheduleView {
                instance: instance.name,
                next_due: next_due(&schedule, &state, now).map(|t| t.to_rfc3339()),
                schedule,
                failures: state.failures,
                last_started: state.last_started.map(|t| t.to_rfc3339()),
                last_run_id: state.last_run_id,
                last_outcome: state.last_outcome,
                last_error: state.last_error,
            });
        }
        Ok(views)
    }

    /// Runs every instance whose scheduled run is due at `now`, up to
    /// [`Connector::set_parallel_runs`] at once (each within its own company's limits);
    /// `observer` hears each run start, progress and end. Answers in the instances' order.
    pub async fn run_due<Tz: TimeZone>(
        &self,
        now: &DateTime<Tz>,
        observer: Option<&dyn RunObserver>,
    ) -> Result<Vec<ScheduledRun>, ApiError> {
        let utc = now.with_timezone(&Utc);
        let mut due = Vec::new();
        // The instances as stored: a schedule needs no keyring read. Due times are read in
        // the operator's time zone (daily at 07:00, quiet hours).
        for instance in crate::instance::Instances::new(self.store()).list()? {
            let state = load_state(&self.store, instance.id)?;
            if next_due(&instance.settings.schedule, &state, now).is_some_and(|at| at <= utc) {
                due.push((instance, state));
            }
        }
        let runs = futures::stream::iter(due)
            .map(|(instance, state)| self.run_scheduled(instance, state, utc, observer))
            .buffered(self.parallel_runs());
        futures::TryStreamExt::try_collect(runs).await
    }

    /// One instance's scheduled run, and what the scheduler remembers of it.
    async fn run_scheduled(
        &self,
        instance: crate::instance::Instance,
        mut state: ScheduleState,
        now: DateTime<Utc>,
        observer: Option<&dyn RunObserver>,
    ) -> Result<ScheduledRun, ApiError> {
        let cancel = match observer.map(|o| o.starting(&instance.name)).transpose() {
            Ok(cancel) => cancel,
            Err(error) if error.code == ErrorCode::Busy => {
                return Ok(ScheduledRun { instance: instance.name, outcome: ScheduledOutcome::Busy });
            }
            Err(error) => return Err(error),
        };
        let name = instance.name.clone();
        let forward = move |progress: crate::sync::Progress| {
            if let Some(observer) = observer {
                observer.progress(&name, progress);
            }
        };
        let request = SyncRequest {
            direction: Direction::Sync,
            modules: None,
            trigger: Trigger::Schedule,
            cancel,
            progress: Some(&forward),
            only: None,
        };
        let result = self.sync(&instance.name, request).await;
        if let Some(observer) = observer {
            observer.ended(&instance.name);
        }
        let outcome = match result {
            Err(error) if error.code == ErrorCode::Busy => ScheduledOutcome::Busy,
            result => {
                state.last_started = Some(now);
                let outcome = match result {
                    Ok(summary) => {
                        state.failures = 0;
                        state.last_run_id = Some(summary.run_id);
                        state.last_outcome = Some(summary.outcome);
                        state.last_error = None;
                        ScheduledOutcome::Ran { summary }
                    }
                    Err(error) => {
                        state.failures = state.failures.saturating_add(1);
                        state.last_outcome = Some(RunOutcome::Failed);
                        state.last_error = Some(error.message.clone());
                        if let Some(latest) = self.runs(&instance.name, 1)?.first() {
                            state.last_run_id = Some(latest.id);
                        }
                        ScheduledOutcome::Failed { error, failures: state.failures }
                    }
                };
                save_state(&self.store, instance.id, &state)?;
                outcome
            }
        };
        Ok(ScheduledRun { instance: instance.name, outcome })
    }
}
