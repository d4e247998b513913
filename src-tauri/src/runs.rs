//! A run started from the window or the tray (a sync, a retry, a re-sync, a resolved
//! conflict, a read of the linked platform): its cancel switch, its progress streamed to the UI, its end announced.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connector::api::{RunKind, RunWatch, SameEntityChoice, Side};
use connector::error::ApiError;
use connector::sync::{Direction, Progress, RunObserver, RunSummary, Trigger};
use tauri::{AppHandle, Manager, State};

use crate::events::{self, SyncFinishedEvent, SyncProgressEvent};
use crate::state::AppState;

/// The UI redraws at most this often; every count still arrives with the last event.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Forwards the engine's progress to the UI, thinned to what a person can see.
pub struct ProgressForwarder {
    app: AppHandle,
    last_sent: Mutex<Option<Instant>>,
}

impl ProgressForwarder {
    pub fn new(app: &AppHandle) -> ProgressForwarder {
        ProgressForwarder { app: app.clone(), last_sent: Mutex::new(None) }
    }

    pub fn report(&self, instance: &str, progress: Progress) {
        let finished_module = progress.done >= progress.total;
        {
            let mut last = self.last_sent.lock().unwrap_or_else(|p| p.into_inner());
            if !finished_module && last.is_some_and(|at| at.elapsed() < PROGRESS_INTERVAL) {
                return;
            }
            *last = Some(Instant::now());
        }
        events::emit(&self.app, events::SYNC_PROGRESS, SyncProgressEvent { instance: instance.to_owned(), progress });
    }
}

// ------------------------------------------------------------ the run commands

type Answer<T> = Result<T, ApiError>;

#[tauri::command]
pub async fn sync(
    app: AppHandle,
    name: String,
    direction: Direction,
    modules: Option<Vec<String>>,
) -> Answer<RunSummary> {
    run(&app, &name, RunKind::Sync { direction, modules, trigger: Trigger::Button }).await
}

/// The instances with a run going, so that a screen opened mid-run offers Cancel.
#[tauri::command]
pub fn running_syncs(state: State<'_, AppState>) -> Vec<String> {
    state.running()
}

#[tauri::command]
pub fn cancel_sync(state: State<'_, AppState>, name: String) -> Answer<bool> {
    Ok(state.cancel_run(&name))
}

#[tauri::command]
pub async fn retry_failed(app: AppHandle, name: String, run_id: i64) -> Answer<RunSummary> {
    run(&app, &name, RunKind::Retry { run_id }).await
}

#[tauri::command]
pub async fn resync(app: AppHandle, name: String, module: String, platform_id: String) -> Answer<RunSummary> {
    run(&app, &name, RunKind::Resync { module, platform_id }).await
}

#[tauri::command]
pub async fn resolve_conflict(
    app: AppHandle,
    name: String,
    conflict_id: i64,
    choices: BTreeMap<String, Side>,
) -> Answer<RunSummary> {
    run(&app, &name, RunKind::Resolve { conflict_id, choices }).await
}

#[tauri::command]
pub async fn resolve_same_entity(
    app: AppHandle,
    name: String,
    conflict_id: i64,
    choice: SameEntityChoice,
) -> Answer<RunSummary> {
    run(&app, &name, RunKind::ResolveSameEntity { conflict_id, choice }).await
}

/// Reads the linked platform into the store; `whole` reads every record, so deletes there are learnt.
#[tauri::command]
pub async fn read_platform(app: AppHandle, name: String, whole: bool) -> Answer<RunSummary> {
    run(&app, &name, RunKind::ReadPlatform { whole, trigger: Trigger::Button }).await
}

// ------------------------------------------------------------ one way to run

/// Runs `kind` on `instance`: refused while another run of it is going, listed in
/// `running_syncs` and cancellable while it runs.
pub async fn run(app: &AppHandle, instance: &str, kind: RunKind) -> Result<RunSummary, ApiError> {
    let state = app.state::<AppState>();
    let cancel = state.start_run(instance)?;
    let forwarder = ProgressForwarder::new(app);
    let progress = |p: Progress| forwarder.report(instance, p);
    let watch = RunWatch { cancel: Some(cancel), progress: Some(&progress) };
    let result = state.connector.run(instance, kind, watch).await;
    state.end_run(instance);
    finished(app, instance, &result);
    result
}

/// The scheduler's runs, seen by the window as its own: progress, Cancel, and a tick
/// that steps aside while the window runs the same instance.
pub struct ScheduledRuns {
    forwarder: ProgressForwarder,
}

impl ScheduledRuns {
    pub fn new(app: &AppHandle) -> ScheduledRuns {
        ScheduledRuns { forwarder: ProgressForwarder::new(app) }
    }
}

impl RunObserver for ScheduledRuns {
    fn starting(&self, instance: &str) -> Result<Arc<AtomicBool>, ApiError> {
        self.forwarder.app.state::<AppState>().start_run(instance)
    }

    fn progress(&self, instance: &str, progress: Progress) {
        self.forwarder.report(instance, progress);
    }

    fn ended(&self, instance: &str) {
        self.forwarder.app.state::<AppState>().end_run(instance);
    }
}

/// Tells the UI and the tray that a run of `instance` ended.
pub fn finished(app: &AppHandle, instance: &str, result: &Result<RunSummary, ApiError>) {
    let (summary, error) = match result {
        Ok(summary) => (Some(summary.clone()), None),
        Err(error) => (None, Some(error.clone())),
    };
    events::emit(app, events::SYNC_FINISHED, SyncFinishedEvent { instance: instance.to_owned(), summary, error });
}
