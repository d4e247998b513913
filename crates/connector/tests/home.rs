//! The Home screen's counts against qbo-sandbox: a run's records sent and received told
//! apart, its problems, the held conflicts, and the words the tray shares.
//! Needs a Secret Service (run under scripts/with-keyring.sh, as the test command does).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use connector::api::{ConnectionState, NextRun};
use connector::platform::Module;
use connector::sync::{Cadence, Direction, RunOutcome};
use qbo_sandbox::seed;
use serde_json::json;

mod support;

use support::{problems, setup, sync};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_counts_sent_and_received_apart_with_the_failed_record_and_the_held_conflict() {
    let setup = setup(seed::US_REALM).await;
    let c = &setup.connector;
    let home = c.home("Books").unwrap();
    assert_eq!(home.connection, ConnectionState::Connected);
    assert_eq!(home.last_run, None);
    assert_eq!(home.next_run, NextRun::Manual);
    assert_eq!(home.reconnect_by, None, "a fresh grant ends far beyond 30 days");
    assert_eq!(home.summary, "connected · never run");

    // One record in both places, then a first full sync so the next one carries only what follows.
    let account = c.create_record(Module::Accounts, json!({"Name": "Both Sides Ltd", "Phone": "1"})).unwrap();
    sync(&setup, Direction::Sync).await;

    // Changed on both sides (held), one refused by QuickBooks (failed), one new (sent), and one
    // customer made in QuickBooks (received).
    let client = c.qbo_client("Books").await.unwrap();
    let qbo_id = connector::sync::store::link_by_platform(&c.store().connection(), 1, "Accounts", &account.id)
        .unwrap()
        .unwrap()
        .qbo_id;
    let current = client.read_json("Customer", &qbo_id).await.unwrap();
    let edit = json!({"Id": qbo_id, "SyncToken": current["SyncToken"], "PrimaryPhone": {"FreeFormNumber": "QB-2"}});
    client.update_json("Customer", &edit, true, &qbo::RequestId::new()).await.unwrap();
    let record = c.record(Module::Accounts, &account.id).unwrap();
    c.update_record(Module::Accounts, &account.id, json!({"Name": "Both Sides Ltd", "Phone": "P-2"}), record.version)
        .unwrap();
    c.create_record(Module::Accounts, json!({"Name": "Bad: Colon Inc"})).unwrap();
    c.create_record(Module::Accounts, json!({"Name": "New Here Ltd"})).unwrap();
    client
        .create_json("Customer", &json!({"DisplayName": "Made In QuickBooks"}), &qbo::RequestId::new())
        .await
        .unwrap();

    let run = sync(&setup, Direction::Sync).await;
    assert_eq!(run.outcome, RunOutcome::FailedRecords, "{:#?}", problems(&setup, &run));
    let home = c.home("Books").unwrap();
    let last = home.last_run.clone().unwrap();
    assert_eq!(last.id, run.run_id);
    assert_eq!((last.sent, last.failed, last.held, last.waiting), (1, 1, 1, 0), "{:#?}", problems(&setup, &run));
    assert!(last.received >= 1, "the customer made in QuickBooks came in: {last:?}");
    let pulled_ok: usize = connector::sync::store::outcomes(&c.store().connection(), run.run_id, false)
        .unwrap()
        .iter()
        .filter(|o| o.operation.is_pull() && o.outcome == connector::sync::Outcome::Ok)
        .count();
    assert_eq!(last.received, pulled_ok);
    assert_eq!(home.held_conflicts, c.conflicts("Books").unwrap().len());
    assert_eq!(home.held_conflicts, 1);
    assert_eq!(home.summary, "connected · last run failed records");
    let customers = setup.sandbox.entities(seed::US_REALM, qbo_sandbox::EntityKind::Customer);
    assert!(customers.iter().any(|e| e["DisplayName"] == "New Here Ltd"), "the one sent is in QuickBooks");

    // The tray says the same words after the name.
    let menu = c.tray_menu().unwrap();
    assert_eq!(menu.instances[0].line, format!("Books — {}", home.summary));

    // A pull alone: received counted, nothing sent.
    client
        .create_json("Customer", &json!({"DisplayName": "Also From QuickBooks"}), &qbo::RequestId::new())
        .await
        .unwrap();
    let pull = sync(&setup, Direction::Pull).await;
    let last = c.home("Books").unwrap().last_run.unwrap();
    assert_eq!(last.id, pull.run_id);
    assert_eq!((last.sent, last.received), (0, 1), "{last:?}");

    // A schedule: its next run; paused, it says so.
    let mut schedule = c.instance("Books").unwrap().instance.settings.schedule;
    schedule.cadence = Cadence::Every { minutes: 30 };
    c.set_schedule("Books", schedule.clone()).unwrap();
    assert!(matches!(c.home("Books").unwrap().next_run, NextRun::At { .. }));
    schedule.paused = true;
    c.set_schedule("Books", schedule).unwrap();
    assert_eq!(c.home("Books").unwrap().next_run, NextRun::Paused);
}
