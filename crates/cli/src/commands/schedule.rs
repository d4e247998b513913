//! `qbconnector schedule`: when instances sync by themselves, and the headless scheduler.

use std::time::Duration;

use connector::api::Connector;
use connector::error::ApiError;
use connector::sync::{Cadence, ScheduleView, ScheduledOutcome, ScheduledRun};

use crate::args::ScheduleCommand;
use crate::output::{col, show, table, Finished};
use crate::progress::RunProgress;

pub async fn run(connector: &Connector, json: bool, command: ScheduleCommand) -> Result<Finished, ApiError> {
    let mut finished = Finished::Done;
    match command {
        ScheduleCommand::Show => {
            let views = connector.schedules(&chrono::Local::now())?;
            show(json, &views, || schedules(&views));
        }
        ScheduleCommand::Set { name, every, daily, manual, quiet, no_quiet } => {
            let mut schedule = connector.instance(&name)?.instance.settings.schedule;
            schedule.cadence = match (every, daily, manual) {
                (Some(minutes), _, _) => Cadence::Every { minutes },
                (_, Some(at), _) => Cadence::Daily { at },
                (_, _, true) => Cadence::Manual,
                _ => schedule.cadence,
            };
            if no_quiet {
                schedule.quiet_hours = None;
            } else if quiet.is_some() {
                schedule.quiet_hours = quiet;
            }
            connector.set_schedule(&name, schedule)?;
            let view = connector.schedules(&chrono::Local::now())?.into_iter().find(|v| v.instance == name);
            show(json, &view, || schedules(view.as_slice()));
        }
        ScheduleCommand::Pause { name } => {
            let changed = connector.pause_schedules(name.as_deref(), true)?;
            show(json, &changed, || format!("Paused {} schedule(s).", changed.len()));
        }
        ScheduleCommand::Resume { name } => {
            let changed = connector.pause_schedules(name.as_deref(), false)?;
            show(json, &changed, || format!("Resumed {} schedule(s).", changed.len()));
        }
        ScheduleCommand::Run { once, parallel } => {
            connector.set_parallel_runs(parallel);
            // A bar a run while they go, side by side when --parallel lets them.
            let progress = RunProgress::new(json);
            loop {
                let ran = connector.run_due(&chrono::Local::now(), Some(&progress)).await;
                progress.clear();
                let ran = ran?;
                for run in &ran {
                    show(json, run, || describe_scheduled_run(run));
                    if let ScheduledOutcome::Ran { summary } = &run.outcome {
                        if Finished::of(summary) == Finished::RecordsNeedAttention {
                            finished = Finished::RecordsNeedAttention;
                        }
                    }
                }
                if once {
                    break;
                }
                // Wake for the earliest due run, and at least once a minute so that edits made
                // elsewhere (the app, another terminal) take effect.
                let earliest = connector
                    .schedules(&chrono::Local::now())?
                    .iter()
                    .filter_map(|v| v.next_due.as_deref())
                    .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .min();
                let wait = earliest
                    .map(|t| (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or_default())
                    .unwrap_or(Duration::from_secs(60))
                    .clamp(Duration::from_secs(1), Duration::from_secs(60));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = tokio::signal::ctrl_c() => break,
                }
            }
        }
    }
    Ok(finished)
}

fn schedules(views: &[ScheduleView]) -> String {
    table(&[col("INSTANCE"), col("SCHEDULE"), col("NEXT"), col("LAST")], views, "", describe_schedule)
}

fn describe_schedule(view: &ScheduleView) -> Vec<String> {
    let cadence = match &view.schedule.cadence {
        Cadence::Manual => "manual".to_owned(),
        Cadence::Every { minutes } => format!("every {minutes} min"),
        Cadence::Daily { at } => format!("daily at {at}"),
    };
    let quiet = view.schedule.quiet_hours.map(|q| format!(", quiet {}-{}", q.from, q.to)).unwrap_or_default();
    let paused = if view.schedule.paused { " (paused)" } else { "" };
    let next = view.next_due.clone().unwrap_or_else(|| "-".to_owned());
    let last = match (&view.last_outcome, &view.last_error) {
        (_, Some(error)) => format!("failed ({} in a row): {error}", view.failures),
        (Some(outcome), None) => outcome.to_string(),
        (None, None) => "never ran".to_owned(),
    };
    vec![view.instance.clone(), format!("{cadence}{quiet}{paused}"), next, last]
}

fn describe_scheduled_run(run: &ScheduledRun) -> String {
    match &run.outcome {
        ScheduledOutcome::Ran { summary } => format!("{}: run #{} {}", run.instance, summary.run_id, summary.outcome),
        ScheduledOutcome::Failed { error, failures } => {
            format!("{}: failed ({failures} in a row), backing off: {error}", run.instance)
        }
        ScheduledOutcome::Busy => format!("{}: a run is already going; trying again shortly", run.instance),
    }
}
