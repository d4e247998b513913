//! The tray menu, the desktop notifications and closing the window, as the app decides
//! them from a real store. (The app's end-to-end test reads the same menu over D-Bus.)
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::collections::BTreeMap;

use connector::api::{ConnectionState, Connector};
use connector::desktop::{instance_line, scheduled_run_notice, TrayAction};
use connector::error::{ApiError, ErrorCode};
use connector::instance::{Environment, NewInstance};
use connector::sync::store::Counts;
use connector::sync::{Cadence, RunOutcome, RunSummary, Schedule, ScheduledOutcome, ScheduledRun};

fn activate(connector: &Connector, name: &str, company: Option<&str>) {
    connector
        .activate(
            NewInstance {
                name: name.into(),
                environment: Environment::Sandbox,
                company_id: company.map(str::to_owned),
                client_id: None,
                redirect_uri: None,
            },
            None,
        )
        .unwrap();
}

/// A run as the engine leaves it in the store (`outcome` none while it runs).
fn add_run(connector: &Connector, name: &str, outcome: Option<&str>) {
    let id = connector.instance(name).unwrap().instance.id;
    connector
        .store()
        .connection()
        .execute(
            "INSERT INTO run (instance_id, trigger, direction, started_at, finished_at, outcome, counts)
             VALUES (?1, 'button', 'sync', '2026-11-25T09:00:00Z', ?2, ?3, '{}')",
            rusqlite::params![id, outcome.map(|_| "2026-11-25T09:01:00Z"), outcome],
        )
        .unwrap();
}

fn every_hour() -> Schedule {
    Schedule { cadence: Cadence::Every { minutes: 60 }, quiet_hours: None, paused: false }
}

#[test]
fn the_tray_lists_each_instance_with_its_connection_and_last_run() {
    let dir = tempfile::tempdir().unwrap();
    let connector = Connector::open(dir.path()).unwrap();
    activate(&connector, "Shop", Some("9130"));
    activate(&connector, "North: wholesale", None);
    add_run(&connector, "Shop", Some("succeeded"));
    add_run(&connector, "Shop", Some("failed_records"));

    let menu = connector.tray_menu().unwrap();
    let lines: Vec<&str> = menu.instances.iter().map(|i| i.line.as_str()).collect();
    // Shop has a company id but no grant in the keyring, as after a Disconnect.
    assert_eq!(
        lines,
        ["North: wholesale — not connected · never run", "Shop — not connected · last run failed records"]
    );
    assert_eq!(menu.instances[1].actions, [TrayAction::SyncNow("Shop".into()), TrayAction::Open("Shop".into())]);
    assert_eq!(menu.schedules, TrayAction::PauseSchedules);

    add_run(&connector, "Shop", None);
    assert_eq!(connector.tray_menu().unwrap().instances[1].line, "Shop — not connected · running");

    connector.pause_schedules(None, true).unwrap();
    assert_eq!(connector.tray_menu().unwrap().schedules, TrayAction::ResumeSchedules, "all paused: offer resume");
    connector.pause_schedules(Some("Shop"), false).unwrap();
    assert_eq!(connector.tray_menu().unwrap().schedules, TrayAction::PauseSchedules, "one running: offer pause");
}

#[test]
fn every_menu_id_leads_back_to_its_action_even_with_a_colon_in_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let connector = Connector::open(dir.path()).unwrap();
    activate(&connector, "North: wholesale", None);
    let menu = connector.tray_menu().unwrap();
    let mut actions: Vec<TrayAction> = menu.instances.iter().flat_map(|i| i.actions.clone()).collect();
    actions.extend([menu.schedules, TrayAction::ResumeSchedules]);
    actions.extend(menu.app);
    for action in actions {
        assert_eq!(TrayAction::from_id(&action.id()), Some(action.clone()), "{}", action.id());
    }
    assert_eq!(TrayAction::from_id("delete:Shop"), None);
    assert_eq!(TrayAction::from_id("about"), None);
}

#[test]
fn a_scheduled_run_is_announced_only_when_the_operator_must_act() {
    let ran = |failed: usize| ScheduledRun {
        instance: "Shop".into(),
        outcome: ScheduledOutcome::Ran {
            summary: RunSummary {
                run_id: 1,
                outcome: if failed > 0 { RunOutcome::FailedRecords } else { RunOutcome::Succeeded },
                counts: BTreeMap::from([("Invoices".to_owned(), Counts { ok: 3, failed, ..Counts::default() })]),
            },
        },
    };
    let failed = |code: ErrorCode, message: &str| ScheduledRun {
        instance: "Shop".into(),
        outcome: ScheduledOutcome::Failed { error: ApiError::new(code, message), failures: 1 },
    };

    assert_eq!(scheduled_run_notice(&ran(0)), None, "a good run is silent");
    assert_eq!(scheduled_run_notice(&ScheduledRun { instance: "Shop".into(), outcome: ScheduledOutcome::Busy }), None);
    assert_eq!(scheduled_run_notice(&ran(2)).unwrap().title, "Shop: some records failed");
    let reconnect = scheduled_run_notice(&failed(ErrorCode::ReconnectRequired, "the refresh token expired")).unwrap();
    assert_eq!(reconnect.title, "Shop: reconnect to QuickBooks");
    assert!(reconnect.body.contains("Reconnect"), "{}", reconnect.body);
    let down = scheduled_run_notice(&failed(ErrorCode::QuickBooks, "QuickBooks could not be reached")).unwrap();
    assert_eq!(
        (down.title.as_str(), down.body.as_str()),
        ("Shop: the scheduled sync failed", "QuickBooks could not be reached")
    );
}

#[test]
fn closing_the_window_keeps_the_app_only_while_a_schedule_is_active_and_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let connector = Connector::open(dir.path()).unwrap();
    activate(&connector, "Shop", Some("9130"));
    assert_eq!(connector.on_window_close(true).unwrap(), (false, None), "no schedule: the app quits");

    connector.set_schedule("Shop", every_hour()).unwrap();
    assert_eq!(connector.on_window_close(false).unwrap(), (false, None), "no tray to stay in: the app quits");
    let (keep, notice) = connector.on_window_close(true).unwrap();
    assert!(keep);
    assert_eq!(notice.unwrap().title, "QuickBooks Connector is still running");
    assert_eq!(connector.on_window_close(true).unwrap(), (true, None), "told once");
    // The mark lives with the data: a restarted app does not tell again.
    drop(connector);
    let reopened = Connector::open(dir.path()).unwrap();
    assert_eq!(reopened.on_window_close(true).unwrap(), (true, None));

    reopened.pause_schedules(None, true).unwrap();
    assert_eq!(reopened.on_window_close(true).unwrap(), (false, None), "paused schedules run nowhere");
}

#[test]
fn an_instance_line_says_connection_and_last_run_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let connector = Connector::open(dir.path()).unwrap();
    activate(&connector, "Shop", None);
    let view = connector.instance("Shop").unwrap();
    assert_eq!(instance_line(&view, None), "Shop — not connected · never run");
    add_run(&connector, "Shop", Some("cancelled"));
    let run = connector.runs("Shop", 1).unwrap().pop();
    assert_eq!(instance_line(&view, run.as_ref()), "Shop — not connected · last run cancelled");
    let mut view = view;
    view.connection = ConnectionState::Connected;
    assert_eq!(instance_line(&view, run.as_ref()), "Shop — connected · last run cancelled");
    view.connection = ConnectionState::ReconnectNeeded;
    assert_eq!(instance_line(&view, None), "Shop — reconnect needed · never run");
}

#[test]
fn a_refused_csv_import_names_each_row_problem_on_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let connector = Connector::open(dir.path()).unwrap();
    let csv = "Id,Name,IsTaxable\nA1,Alder Ltd,true\nA2,,maybe\nA3,Birch Co,nope\n";
    let error = connector.import_csv(connector::platform::Module::Accounts, csv).unwrap_err();
    assert_eq!(error.code, ErrorCode::Validation);
    assert!(!error.message.contains('\n'), "the message is one line: {}", error.message);
    let rows: Vec<&str> = error.detail.as_deref().unwrap_or_default().lines().collect();
    assert!(rows.iter().any(|r| r.starts_with("line 3, column IsTaxable")), "{rows:#?}");
    assert!(rows.iter().any(|r| r.starts_with("line 4, column IsTaxable")), "{rows:#?}");
    assert_eq!(error.message, format!("nothing was imported; {} problems found", rows.len()));
    assert!(
        connector.records(connector::platform::Module::Accounts, "", 0, 10).unwrap().is_empty(),
        "nothing half-imported"
    );
}
