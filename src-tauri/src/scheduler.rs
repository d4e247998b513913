//! The scheduler task: while the app runs, it starts each instance's scheduled sync when
//! it falls due (the rules live in `connector::sync::schedule`) and tells the operator
//! when one fails or the company must be connected again (`connector::desktop` decides).

use std::time::Duration;

use connector::desktop::scheduled_run_notice;
use connector::sync::ScheduledOutcome;
use tauri::{AppHandle, Manager};

use crate::state::AppState;

/// Due times are minutes apart; looking twice a minute starts a run at most 30 s late.
const TICK: Duration = Duration::from_secs(30);

/// A schedule was set, paused or resumed: the scheduler looks at once, the window and tray redraw.
pub fn schedules_changed(app: &AppHandle) {
    app.state::<AppState>().schedules_changed.notify_one();
    crate::events::instances_changed(app);
}

pub fn spawn(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A schedule the operator just set or resumed is looked at now, not at the next tick.
        let changed = app.state::<AppState>().schedules_changed.clone();
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = changed.notified() => {}
            }
            tick(&app).await;
        }
    });
}

async fn tick(app: &AppHandle) {
    let state = app.state::<AppState>();
    let observer = crate::runs::ScheduledRuns::new(app);
    let runs = match state.connector.run_due(&chrono::Local::now(), Some(&observer)).await {
        Ok(runs) => runs,
        Err(error) => {
            tracing::warn!("the scheduler could not look at the schedules: {}", error.message);
            return;
        }
    };
    for run in runs {
        let result = match &run.outcome {
            ScheduledOutcome::Ran { summary } => Ok(summary.clone()),
            ScheduledOutcome::Failed { error, .. } => Err(error.clone()),
            ScheduledOutcome::Busy => continue,
        };
        if let Some(notice) = scheduled_run_notice(&run) {
            crate::window::notify(app, &notice);
        }
        crate::runs::finished(app, &run.instance, &result);
    }
}
