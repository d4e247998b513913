//! Records' table and form: where each record stands with an instance's company (in
//! QuickBooks, not sent, held as a conflict), and the schema a form is built from.
//! Needs a Secret Service (run under scripts/with-keyring.sh, as the test command does).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use connector::api::SyncStatus;
use connector::platform::Module;
use connector::spec::qbo_fields::FieldKind;
use connector::sync::Direction;
use qbo_sandbox::seed;
use serde_json::json;

mod support;

use support::{problems, setup, sync};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_record_is_in_quickbooks_a_new_one_not_sent_and_a_held_one_a_conflict() {
    let setup = setup(seed::US_REALM).await;
    let c = &setup.connector;
    let sent = c.create_record(Module::Accounts, json!({"Name": "Status Sent Ltd"})).unwrap();
    let held = c.create_record(Module::Accounts, json!({"Name": "Status Held Ltd"})).unwrap();
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(problems(&setup, &run), Vec::<String>::new());
    let fresh = c.create_record(Module::Accounts, json!({"Name": "Status Fresh Ltd"})).unwrap();

    // Held in the inbox as QuickBooks seeing it as another record's entity.
    let connection = c.store().connection();
    let link = connector::sync::store::link_by_platform(&connection, 1, "Accounts", &held.id).unwrap().unwrap();
    connector::sync::store::hold_same_entity(
        &connection,
        1,
        &connector::sync::store::SameEntity {
            module: "Accounts",
            platform_id: &held.id,
            qbo_id: &link.qbo_id,
            other_platform_id: &sent.id,
            platform_version: &held.data,
            qbo_version: &json!(null),
            matched_value: None,
            created_at: "2026-01-01T00:00:00Z",
        },
    )
    .unwrap();
    drop(connection);

    let ids = vec![sent.id.clone(), held.id.clone(), fresh.id.clone(), "ACC-NOPE".to_owned()];
    let statuses = c.record_status("Books", Module::Accounts, &ids).unwrap();
    let got: Vec<(&str, SyncStatus, bool)> =
        statuses.iter().map(|s| (s.id.as_str(), s.status, s.qbo_id.is_some())).collect();
    assert_eq!(
        got,
        vec![
            (sent.id.as_str(), SyncStatus::InQuickbooks, true),
            (held.id.as_str(), SyncStatus::Conflict, true),
            (fresh.id.as_str(), SyncStatus::NotSent, false),
            ("ACC-NOPE", SyncStatus::NotSent, false),
        ]
    );
    assert!(c.record_status("Nobody", Module::Accounts, &ids).is_err(), "an unknown instance is refused");

    // The names a table shows for the ids an invoice's AccountId gives; an unknown id left out.
    let names = c.record_names(Module::Accounts, &ids).unwrap();
    assert_eq!(
        names,
        vec![
            (sent.id.clone(), "Status Sent Ltd".to_owned()),
            (held.id.clone(), "Status Held Ltd".to_owned()),
            (fresh.id.clone(), "Status Fresh Ltd".to_owned()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_reads_the_schema_with_objects_and_lines_walked_into() {
    let setup = setup(seed::US_REALM).await;
    let invoice = setup.connector.record_fields(Module::Invoices);
    let account = invoice.iter().find(|f| f.name == "AccountId").unwrap();
    assert_eq!(
        (account.kind, account.required, account.refers_to),
        (FieldKind::Reference, true, Some(Module::Accounts))
    );
    let lines = invoice.iter().find(|f| f.name == "Lines").unwrap();
    assert_eq!(lines.kind, FieldKind::Lines);
    let quantity = lines.fields.iter().find(|f| f.name == "Quantity").unwrap();
    assert_eq!((quantity.kind, quantity.required), (FieldKind::Number, true));

    let accounts = setup.connector.record_fields(Module::Accounts);
    let address = accounts.iter().find(|f| f.name == "Address").unwrap();
    assert_eq!(address.kind, FieldKind::Object);
    assert!(address.fields.iter().any(|f| f.name == "City" && f.kind == FieldKind::Text && !f.required));
    let name = accounts.iter().find(|f| f.name == "Name").unwrap();
    assert_eq!((name.required, name.max_chars), (true, 500));
}
