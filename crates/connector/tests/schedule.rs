//! The scheduler: what is due runs, a running sync is yielded to, failures back off, and
//! several instances due at once run side by side.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod support;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use connector::api::ConnectionState;
use connector::error::ApiError;
use connector::platform::Module;
use connector::sync::{Cadence, Progress, RunObserver, RunOutcome, Schedule, ScheduledOutcome, Trigger};
use qbo_sandbox::{seed, EntityKind, RegisteredApp};
use serde_json::{json, Value};
use support::setup;

/// The order in which runs started and ended.
#[derive(Default)]
struct Heard(Mutex<Vec<String>>);

impl RunObserver for Heard {
    fn starting(&self, instance: &str) -> Result<Arc<AtomicBool>, ApiError> {
        self.0.lock().unwrap().push(format!("start {instance}"));
        Ok(Arc::default())
    }

    fn progress(&self, _instance: &str, _progress: Progress) {}

    fn ended(&self, instance: &str) {
        self.0.lock().unwrap().push(format!("end {instance}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_due_together_run_side_by_side_up_to_the_bound() {
    let setup = setup(seed::US_REALM).await;
    let connector = &setup.connector;
    let app = RegisteredApp::named("Second", "https://relay.example/second");
    connector.connect_to_sandbox("Shop", &setup.sandbox, app).await.unwrap();
    for name in ["Books", "Shop"] {
        connector
            .set_schedule(name, Schedule { cadence: Cadence::Every { minutes: 15 }, ..Schedule::default() })
            .unwrap();
    }
    connector.create_record(Module::Accounts, json!({"Id": "PAR-1", "Name": "Parallel Plover"})).unwrap();
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();

    connector.set_parallel_runs(1);
    let one_at_a_time = Heard::default();
    let ran = connector.run_due(&start, Some(&one_at_a_time)).await.unwrap();
    assert_eq!(ran.iter().map(|r| r.instance.as_str()).collect::<Vec<_>>(), ["Books", "Shop"]);
    assert!(ran.iter().all(|r| matches!(r.outcome, ScheduledOutcome::Ran { .. })), "{ran:?}");
    assert_eq!(*one_at_a_time.0.lock().unwrap(), ["start Books", "end Books", "start Shop", "end Shop"]);

    connector.set_parallel_runs(2);
    let side_by_side = Heard::default();
    let later = start + chrono::TimeDelta::minutes(15);
    let ran = connector.run_due(&later, Some(&side_by_side)).await.unwrap();
    assert_eq!(ran.iter().map(|r| r.instance.as_str()).collect::<Vec<_>>(), ["Books", "Shop"], "answered in order");
    let heard = side_by_side.0.lock().unwrap().clone();
    assert_eq!(&heard[..2], ["start Books", "start Shop"], "the second started before the first ended: {heard:?}");
    assert_eq!(connector.runs("Shop", 10).unwrap().len(), 2, "each instance ran once a tick");
}

/// Writes down what the scheduler tells it, and refuses to start when told a run is going.
#[derive(Default)]
struct Observer {
    heard: std::sync::Mutex<Vec<String>>,
    busy: std::sync::atomic::AtomicBool,
}

impl connector::sync::RunObserver for Observer {
    fn starting(
        &self,
        instance: &str,
    ) -> Result<std::sync::Arc<std::sync::atomic::AtomicBool>, connector::error::ApiError> {
        if self.busy.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(connector::error::ApiError::new(connector::error::ErrorCode::Busy, "the window's run"));
        }
        self.heard.lock().unwrap().push(format!("start {instance}"));
        Ok(Default::default())
    }

    fn progress(&self, instance: &str, progress: connector::sync::Progress) {
        let line = format!("progress {instance} {}", progress.module);
        let mut heard = self.heard.lock().unwrap();
        if heard.last() != Some(&line) {
            heard.push(line);
        }
    }

    fn ended(&self, instance: &str) {
        self.heard.lock().unwrap().push(format!("end {instance}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_runs_what_is_due_yields_to_a_running_sync_and_backs_off_after_failures() {
    use chrono::{TimeDelta, TimeZone, Utc};
    use connector::sync::{Cadence, Schedule, ScheduledOutcome};

    let setup = setup(seed::US_REALM).await;
    let connector = &setup.connector;
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let minutes = |n: i64| start + TimeDelta::minutes(n);
    assert!(connector.run_due(&start, None).await.unwrap().is_empty(), "manual instances do not run by themselves");

    connector
        .set_schedule("Books", Schedule { cadence: Cadence::Every { minutes: 15 }, ..Schedule::default() })
        .unwrap();
    connector.create_record(Module::Accounts, json!({"Id": "SCH-1", "Name": "Scheduled Sparrow"})).unwrap();
    let observer = Observer::default();
    let ran = connector.run_due(&start, Some(&observer)).await.unwrap();
    assert!(
        matches!(&ran[..], [run] if matches!(&run.outcome, ScheduledOutcome::Ran { summary } if summary.outcome == RunOutcome::Succeeded)),
        "{ran:?}"
    );
    let heard = observer.heard.lock().unwrap().clone();
    assert_eq!(heard.first().map(String::as_str), Some("start Books"));
    assert_eq!(heard.last().map(String::as_str), Some("end Books"));
    assert!(heard.iter().any(|h| h == "progress Books Accounts"), "a scheduled run streams its progress: {heard:?}");

    // The window's own run of the instance is going: the tick leaves it due, touching nothing.
    observer.busy.store(true, std::sync::atomic::Ordering::SeqCst);
    let runs_before = connector.runs("Books", 100).unwrap().len();
    let ran = connector.run_due(&minutes(15), Some(&observer)).await.unwrap();
    assert!(matches!(ran[0].outcome, ScheduledOutcome::Busy), "{ran:?}");
    assert_eq!(connector.runs("Books", 100).unwrap().len(), runs_before, "no run was started");
    assert_eq!(observer.heard.lock().unwrap().len(), heard.len(), "a run that did not start does not end");
    assert_eq!(connector.runs("Books", 1).unwrap()[0].trigger, Trigger::Schedule);
    let names: Vec<Value> = setup
        .sandbox
        .entities(seed::US_REALM, EntityKind::Customer)
        .into_iter()
        .map(|c| c["DisplayName"].clone())
        .collect();
    assert!(names.contains(&json!("Scheduled Sparrow")));
    assert!(connector.run_due(&minutes(10), None).await.unwrap().is_empty(), "not due again before 15 minutes");

    // Another process is syncing this instance: the tick steps aside and the instance stays due.
    let instance_id = connector.instance("Books").unwrap().instance.id;
    let lock_path = connector.data_dir().join(format!("instance-{instance_id}.sync.lock"));
    let held = std::fs::File::options().create(true).truncate(false).write(true).open(&lock_path).unwrap();
    held.lock().unwrap();
    let ran = connector.run_due(&minutes(15), None).await.unwrap();
    assert!(matches!(ran[0].outcome, ScheduledOutcome::Busy), "{ran:?}");
    drop(held);
    let ran = connector.run_due(&minutes(16), None).await.unwrap();
    assert!(matches!(ran[0].outcome, ScheduledOutcome::Ran { .. }), "{ran:?}");

    // Disconnected: each scheduled run fails as a whole, and the next waits longer.
    assert_eq!(connector.instance("Books").unwrap().connection, ConnectionState::Connected);
    connector.disconnect("Books").await.unwrap();
    let after = connector.instance("Books").unwrap();
    assert_eq!(after.connection, ConnectionState::NotConnected, "the list and the tray stop saying connected");
    assert!(after.instance.company_id.is_some(), "the company stays for reconnecting");
    connector
        .set_schedule("Books", Schedule { cadence: Cadence::Every { minutes: 1 }, ..Schedule::default() })
        .unwrap();
    let ran = connector.run_due(&minutes(20), None).await.unwrap();
    match &ran[0].outcome {
        ScheduledOutcome::Failed { error, failures } => {
            assert_eq!(error.code, connector::error::ErrorCode::ReconnectRequired);
            assert_eq!(*failures, 1);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(connector.run_due(&minutes(24), None).await.unwrap().is_empty(), "5 minutes of backoff after one failure");
    let ran = connector.run_due(&minutes(25), None).await.unwrap();
    assert!(matches!(ran[0].outcome, ScheduledOutcome::Failed { failures: 2, .. }), "{ran:?}");
    let view = connector.schedules(&minutes(26)).unwrap().remove(0);
    assert_eq!(view.failures, 2);
    assert_eq!(
        view.next_due.as_deref(),
        Some(minutes(35).to_rfc3339().as_str()),
        "10 minutes after the second failure"
    );
    assert!(view.last_error.unwrap().contains("not connected"));

    connector.pause_schedules(None, true).unwrap();
    assert!(connector.run_due(&minutes(600), None).await.unwrap().is_empty(), "paused schedules do not run");
    assert_eq!(connector.schedules(&minutes(600)).unwrap()[0].next_due, None);
}
