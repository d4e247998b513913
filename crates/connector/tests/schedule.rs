//! The scheduler with several instances due at once.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod support;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use connector::error::ApiError;
use connector::platform::Module;
use connector::sync::{Cadence, Progress, RunObserver, Schedule, ScheduledOutcome};
use qbo_sandbox::{seed, RegisteredApp};
use serde_json::json;
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
