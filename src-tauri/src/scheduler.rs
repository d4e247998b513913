//! The scheduler task: while the app runs, it starts each instance's scheduled sync when
//! it falls due (the rules live in `connector::sync::schedule`) and tells the operator
//! when one fails or the company must be connected again.

use std::time::Duration;

use connector::error::ErrorCode;
use connector::sync::ScheduledOutcome;
use tauri::{AppHandle, Manager};

use crate::state::AppState;

/// Due times are minutes apart; looking twice a minute starts a run at most 30 s late.
const TICK: Duration = Duration::from_secs(30);

pub fn spawn(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            tick(&app).await;
        }
    });
}

async fn tick(app: &AppHandle) {
    let state = app.state::<AppState>();
    let runs = match state.connector.run_due(&chrono::Local::now(), None).await {
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
        match &result {
            Ok(summary) if summary.counts.values().any(|c| c.failed > 0) => crate::notify(
                app,
                &format!("{}: some records failed", run.instance),
                "Open History to see each error and retry.",
            ),
            Err(error) if error.code == ErrorCode::ReconnectRequired => crate::notify(
                app,
                &format!("{}: reconnect to QuickBooks", run.instance),
                "The connection has ended. Open the app and press Reconnect.",
            ),
            Err(error) => crate::notify(app, &format!("{}: the scheduled sync failed", run.instance), &error.message),
            Ok(_) => {}
        }
        crate::runs::finished(app, &run.instance, &result);
    }
}
