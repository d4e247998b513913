//! Conflicts against qbo-sandbox: a record changed on both sides and the module's policy,
//! stale writes both sides agree on, two records QuickBooks sees as one entity and the
//! inbox's decisions, a held conflict resolved field by field.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use connector::platform::Module;
use connector::sync::{ConflictPolicy, Direction, RunOutcome};

use qbo_sandbox::{seed, EntityKind};

use serde_json::{json, Value};

mod support;

use support::{problems, setup, sync};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_on_both_sides_follows_the_modules_policy() {
    let setup = setup(seed::US_REALM).await;
    let account =
        setup.connector.create_record(Module::Accounts, json!({"Name": "Both Sides Ltd", "Phone": "1"})).unwrap();
    sync(&setup, Direction::Push).await;
    let client = setup.connector.qbo_client("Books").await.unwrap();
    let qbo_id =
        connector::sync::store::link_by_platform(&setup.connector.store().connection(), 1, "Accounts", &account.id)
            .unwrap()
            .unwrap()
            .qbo_id;
    let edit_in_quickbooks = |phone: &'static str| edit_phone_in_quickbooks(&client, &qbo_id, phone);

    // Hold (the default): both versions wait in the inbox.
    edit_in_quickbooks("QB-2").await;
    let record = setup.connector.record(Module::Accounts, &account.id).unwrap();
    setup
        .connector
        .update_record(Module::Accounts, &account.id, json!({"Name": "Both Sides Ltd", "Phone": "P-2"}), record.version)
        .unwrap();
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].held, 1);
    let held: i64 = setup
        .connector
        .store()
        .connection()
        .query_row("SELECT COUNT(*) FROM conflict WHERE resolved_at IS NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(held, 1);

    // Platform wins: QuickBooks takes the platform's version.
    let mut settings = setup.connector.instance("Books").unwrap().instance;
    settings.settings.conflict_policies.insert("Accounts".into(), ConflictPolicy::PlatformWins);
    connector::instance::Instances::new(setup.connector.store()).save(&settings, chrono::Utc::now()).unwrap();
    edit_in_quickbooks("QB-3").await;
    let record = setup.connector.record(Module::Accounts, &account.id).unwrap();
    setup
        .connector
        .update_record(Module::Accounts, &account.id, json!({"Name": "Both Sides Ltd", "Phone": "P-3"}), record.version)
        .unwrap();
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].ok, 1, "{:#?}", problems(&setup, &run));
    assert_eq!(client.read_json("Customer", &qbo_id).await.unwrap()["PrimaryPhone"]["FreeFormNumber"], "P-3");

    // QuickBooks wins: the platform takes QuickBooks' version.
    settings.settings.conflict_policies.insert("Accounts".into(), ConflictPolicy::QuickbooksWins);
    connector::instance::Instances::new(setup.connector.store()).save(&settings, chrono::Utc::now()).unwrap();
    edit_in_quickbooks("QB-4").await;
    let record = setup.connector.record(Module::Accounts, &account.id).unwrap();
    setup
        .connector
        .update_record(Module::Accounts, &account.id, json!({"Name": "Both Sides Ltd", "Phone": "P-4"}), record.version)
        .unwrap();
    sync(&setup, Direction::Push).await;
    assert_eq!(setup.connector.record(Module::Accounts, &account.id).unwrap().data["Phone"], "QB-4");
    let _: Value = Value::Null;
}

/// Another app's edit of a customer's phone in QuickBooks.
async fn edit_phone_in_quickbooks(client: &qbo::Client, qbo_id: &str, phone: &str) {
    let current = client.read_json("Customer", qbo_id).await.unwrap();
    let body = json!({"Id": qbo_id, "SyncToken": current["SyncToken"], "PrimaryPhone": {"FreeFormNumber": phone}});
    client.update_json("Customer", &body, true, &qbo::RequestId::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_write_both_sides_agree_on_is_done_and_a_record_held_twice_is_one_inbox_entry() {
    let setup = setup(seed::US_REALM).await;
    let account = setup.connector.create_record(Module::Accounts, json!({"Name": "Agree Ltd", "Phone": "1"})).unwrap();
    sync(&setup, Direction::Push).await;
    let client = setup.connector.qbo_client("Books").await.unwrap();
    let link = || {
        connector::sync::store::link_by_platform(&setup.connector.store().connection(), 1, "Accounts", &account.id)
            .unwrap()
            .unwrap()
    };
    let qbo_id = link().qbo_id;
    let change_here = |phone: &str| {
        let record = setup.connector.record(Module::Accounts, &account.id).unwrap();
        let data = json!({"Name": "Agree Ltd", "Phone": phone});
        setup.connector.update_record(Module::Accounts, &account.id, data, record.version).unwrap();
    };

    // Someone made the same edit in QuickBooks (or our own write that a crash cut off): the
    // SyncToken moved, QuickBooks answers 5010, yet both sides agree. Nothing to hold.
    edit_phone_in_quickbooks(&client, &qbo_id, "P-2").await;
    change_here("P-2");
    let run = sync(&setup, Direction::Push).await;
    assert_eq!((run.counts["Accounts"].ok, run.counts["Accounts"].held), (1, 0), "{:#?}", problems(&setup, &run));
    assert_eq!(run.outcome, RunOutcome::Succeeded);
    assert!(setup.connector.conflicts("Books").unwrap().is_empty());
    let current = client.read_json("Customer", &qbo_id).await.unwrap();
    assert_eq!(
        link().sync_token.as_deref(),
        current["SyncToken"].as_str(),
        "the link moves on to QuickBooks' SyncToken"
    );
    change_here("P-2b");
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].ok, 1, "the next change goes through at once: {:#?}", problems(&setup, &run));

    // A real conflict, held in two runs: one entry in the inbox, showing both sides as they are now.
    for (theirs, ours) in [("QB-3", "P-3"), ("QB-4", "P-4")] {
        edit_phone_in_quickbooks(&client, &qbo_id, theirs).await;
        change_here(ours);
        let run = sync(&setup, Direction::Push).await;
        assert_eq!(run.counts["Accounts"].held, 1);
    }
    let conflicts = setup.connector.conflicts("Books").unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:#?}");
    assert_eq!(conflicts[0].platform_version["Phone"], "P-4");
    assert_eq!(conflicts[0].qbo_version["PrimaryPhone"]["FreeFormNumber"], "QB-4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_records_quickbooks_sees_as_one_fail_alone_and_the_rest_of_the_run_goes_on() {
    let setup = setup(seed::US_REALM).await;
    let client = setup.connector.qbo_client("Books").await.unwrap();
    let existing =
        client.create_json("Customer", &json!({"DisplayName": "Twin Co"}), &qbo::RequestId::new()).await.unwrap();
    let first = setup.connector.create_record(Module::Accounts, json!({"Name": "Twin Co"})).unwrap();
    let second = setup.connector.create_record(Module::Accounts, json!({"Name": "Twin Co"})).unwrap();
    let single = setup.connector.create_record(Module::Accounts, json!({"Name": "Single Co"})).unwrap();

    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.outcome, RunOutcome::FailedRecords);
    assert_eq!((run.counts["Accounts"].ok, run.counts["Accounts"].failed), (2, 1), "{:#?}", problems(&setup, &run));
    let links = setup.connector.links("Books", "Accounts").unwrap();
    let linked = |id: &str| links.iter().find(|l| l.platform_id == id).map(|l| l.qbo_id.clone());
    assert_eq!(linked(&first.id).as_deref(), existing["Id"].as_str());
    assert!(linked(&single.id).is_some(), "the rest of the run went on");
    assert_eq!(linked(&second.id), None);
    let failed = setup.connector.run_records("Books", run.run_id, true).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].record_id, second.id);
    let message = failed[0].message.clone().unwrap_or_default();
    assert!(message.contains(&first.id) && message.contains("DisplayName"), "{message}");
    assert_eq!(failed[0].element.as_deref(), Some("DisplayName"));
}

/// Two accounts named "Twin Co" and the QuickBooks customer the first is linked to, after a
/// push met the collision: (setup, the customer's id, first, second).
async fn twin_accounts(existing_in_quickbooks: bool) -> (support::Setup, String, String, String) {
    let setup = setup(seed::US_REALM).await;
    let c = &setup.connector;
    if existing_in_quickbooks {
        let client = c.qbo_client("Books").await.unwrap();
        let body = json!({"DisplayName": "Twin Co", "PrimaryPhone": {"FreeFormNumber": "QB-0"}});
        client.create_json("Customer", &body, &qbo::RequestId::new()).await.unwrap();
    }
    let first = c.create_record(Module::Accounts, json!({"Name": "Twin Co", "Phone": "111"})).unwrap().id;
    let second = c.create_record(Module::Accounts, json!({"Name": "Twin Co", "Phone": "222"})).unwrap().id;
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].failed, 1, "{:#?}", problems(&setup, &run));
    let customer = linked(&setup, &first).expect("the first is linked");
    (setup, customer, first, second)
}

fn linked(setup: &support::Setup, platform_id: &str) -> Option<String> {
    let links = setup.connector.links("Books", "Accounts").unwrap();
    links.into_iter().find(|l| l.platform_id == platform_id).map(|l| l.qbo_id)
}

fn customer(setup: &support::Setup, qbo_id: &str) -> Value {
    let customers = setup.sandbox.entities(seed::US_REALM, EntityKind::Customer);
    customers.into_iter().find(|c| c["Id"] == qbo_id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_collision_waits_in_the_inbox_as_one_same_entity_decision_not_for_field_by_field() {
    use connector::api::ConflictKind;

    let (setup, customer_id, first, second) = twin_accounts(true).await;
    let c = &setup.connector;
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].failed, 1, "the second push meets it again");

    let conflicts = c.conflicts("Books").unwrap();
    assert_eq!(conflicts.len(), 1, "one entry, not one a push: {conflicts:#?}");
    let entry = &conflicts[0];
    assert_eq!(entry.kind, ConflictKind::SameEntity);
    assert_eq!((entry.platform_id.as_str(), entry.qbo_id.as_str()), (second.as_str(), customer_id.as_str()));
    assert_eq!(entry.other_platform_id.as_deref(), Some(first.as_str()));
    assert_eq!(entry.entity, "Customer");
    assert_eq!(entry.matched_value.as_deref(), Some("Twin Co"));
    assert_eq!(entry.rename_field.as_deref(), Some("Name"));
    assert_eq!(entry.rename_refused, None);
    assert_eq!(entry.platform_version["Phone"], "222");
    assert_eq!(entry.qbo_version["DisplayName"], "Twin Co", "the QuickBooks entity as read");
    let message = entry.message.clone().unwrap_or_default();
    assert!(message.contains(&first) && message.contains(&second) && message.contains("fails alone"), "{message}");

    let refused = c.resolve("Books", entry.id, &Default::default()).await.unwrap_err();
    assert_eq!(refused.code, connector::error::ErrorCode::Validation, "{refused}");
    assert!(refused.message.contains("no fields to pick"), "{refused}");
    assert_eq!(c.conflicts("Books").unwrap().len(), 1, "still open");
    assert_eq!(linked(&setup, &second), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_instead_moves_the_link_and_sends_this_records_values_as_an_update() {
    use connector::api::SameEntityChoice;

    // No customer beforehand: the first is created, the second meets QuickBooks' 6240.
    let (setup, customer_id, first, second) = twin_accounts(false).await;
    let c = &setup.connector;
    let entry = c.conflicts("Books").unwrap().remove(0);
    assert_eq!(entry.other_platform_id.as_deref(), Some(first.as_str()));
    let customers_before = setup.sandbox.count(seed::US_REALM, EntityKind::Customer);

    let run = c.resolve_same_entity("Books", entry.id, &SameEntityChoice::LinkInstead).await.unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    assert_eq!(run.counts["Accounts"].ok, 1);
    assert_eq!(linked(&setup, &second).as_deref(), Some(customer_id.as_str()));
    assert_eq!(linked(&setup, &first), None, "the other record let go");
    assert_eq!(customer(&setup, &customer_id)["PrimaryPhone"]["FreeFormNumber"], "222", "this record's values");
    assert_eq!(setup.sandbox.count(seed::US_REALM, EntityKind::Customer), customers_before, "nothing created");
    assert!(c.conflicts("Books").unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_sends_the_record_as_a_new_entity_under_its_new_name() {
    use connector::api::SameEntityChoice;

    let (setup, customer_id, first, second) = twin_accounts(true).await;
    let c = &setup.connector;
    let entry = c.conflicts("Books").unwrap().remove(0);

    let same = SameEntityChoice::Rename { name: " twin co ".into() };
    let refused = c.resolve_same_entity("Books", entry.id, &same).await.unwrap_err();
    assert_eq!(refused.code, connector::error::ErrorCode::Validation, "a change of case is the same name: {refused}");

    let rename = SameEntityChoice::Rename { name: "Twin Co West".into() };
    let run = c.resolve_same_entity("Books", entry.id, &rename).await.unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    assert_eq!(c.record(Module::Accounts, &second).unwrap().data["Name"], "Twin Co West");
    let created = linked(&setup, &second).expect("the renamed record is linked");
    assert_ne!(created, customer_id);
    assert_eq!(customer(&setup, &created)["DisplayName"], "Twin Co West");
    assert_eq!(linked(&setup, &first).as_deref(), Some(customer_id.as_str()), "the first keeps its link");
    assert!(c.conflicts("Books").unwrap().is_empty());
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "nothing fails any more: {:#?}", problems(&setup, &run));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_a_collision_closes_it_for_good_and_the_record_stays_unlinked() {
    use connector::api::SameEntityChoice;

    let (setup, _, _, second) = twin_accounts(true).await;
    let c = &setup.connector;
    let entry = c.conflicts("Books").unwrap().remove(0);

    let run = c.resolve_same_entity("Books", entry.id, &SameEntityChoice::Dismiss).await.unwrap();
    assert_eq!(run.counts["Accounts"].failed, 1, "it still fails alone");
    assert!(c.conflicts("Books").unwrap().is_empty());
    assert_eq!(linked(&setup, &second), None);

    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].failed, 1);
    assert!(c.conflicts("Books").unwrap().is_empty(), "a later run does not ask again");
    let failed = c.run_records("Books", run.run_id, true).unwrap();
    let message = failed[0].message.clone().unwrap_or_default();
    assert!(message.contains("left unlinked"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collision_settled_outside_the_inbox_leaves_no_entry_asking_about_it() {
    let (setup, customer_id, _, second) = twin_accounts(true).await;
    let c = &setup.connector;
    let record = c.record(Module::Accounts, &second).unwrap();
    let mut data = record.data.clone();
    data["Name"] = json!("Twin Co East");
    c.update_record(Module::Accounts, &second, data, record.version).unwrap();

    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    let created = linked(&setup, &second).expect("renamed by hand, then created");
    assert_ne!(created, customer_id);
    assert!(c.conflicts("Books").unwrap().is_empty(), "nothing left to decide");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_runs_create_that_finds_an_entity_linked_to_another_record_fails_alone() {
    let setup = setup(seed::US_REALM).await;
    let c = &setup.connector;
    let first = c.create_record(Module::Accounts, json!({"Name": "Twin Co"})).unwrap().id;
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded);
    let customer_id = linked(&setup, &first).unwrap();
    // A second "Twin Co" whose create a run journaled and then died with: the next run looks
    // for it in QuickBooks by name and finds the first's customer.
    let second = c.create_record(Module::Accounts, json!({"Name": "Twin Co"})).unwrap().id;
    c.store()
        .connection()
        .execute(
            "INSERT INTO journal (instance_id, run_id, module, platform_id, operation, request_id, body, platform_hash, state, created_at)
             VALUES (1, ?1, 'Accounts', ?2, 'create', 'dead-run-call', '{\"DisplayName\": \"Twin Co\"}', 'h', 'pending', 't')",
            rusqlite::params![run.run_id, second],
        )
        .unwrap();

    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].failed, 1, "{:#?}", problems(&setup, &run));
    assert_eq!(linked(&setup, &first).as_deref(), Some(customer_id.as_str()));
    assert_eq!(linked(&setup, &second), None);
    let conflicts = c.conflicts("Books").unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:#?}");
    assert_eq!(conflicts[0].other_platform_id.as_deref(), Some(first.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_conflict_is_resolved_field_by_field_and_newest_wins_goes_by_the_clocks() {
    use connector::api::Side;

    let setup = setup(seed::US_REALM).await;
    let c = &setup.connector;
    let account = c
        .create_record(Module::Accounts, json!({"Name": "Fern & Flax", "Phone": "100", "CorpEmail": "a@fern.example"}))
        .unwrap();
    sync(&setup, Direction::Push).await;
    let client = c.qbo_client("Books").await.unwrap();
    let qbo_id = c.links("Books", "Accounts").unwrap()[0].qbo_id.clone();
    let edit_in_quickbooks = |change: Value| {
        let (client, qbo_id) = (client.clone(), qbo_id.clone());
        async move {
            let current = client.read_json("Customer", &qbo_id).await.unwrap();
            let mut body = change;
            body["Id"] = json!(qbo_id);
            body["SyncToken"] = current["SyncToken"].clone();
            client.update_json("Customer", &body, true, &qbo::RequestId::new()).await.unwrap()
        }
    };
    let edit_here = |data: Value| {
        let record = c.record(Module::Accounts, &account.id).unwrap();
        c.update_record(Module::Accounts, &account.id, data, record.version).unwrap()
    };

    // Both sides change the phone; QuickBooks also changes the e-mail, the platform the website.
    edit_in_quickbooks(
        json!({"PrimaryPhone": {"FreeFormNumber": "QB-200"}, "PrimaryEmailAddr": {"Address": "qb@fern.example"}}),
    )
    .await;
    edit_here(
        json!({"Name": "Fern & Flax", "Phone": "P-200", "CorpEmail": "a@fern.example", "WebSite": "https://fern.example"}),
    );
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].held, 1);
    let conflict = c.conflicts("Books").unwrap().remove(0);
    assert_eq!(conflict.platform_version["Phone"], "P-200");
    assert_eq!(conflict.qbo_version["PrimaryPhone"]["FreeFormNumber"], "QB-200");
    assert_eq!(
        conflict.last_synced.as_ref().unwrap()["PrimaryPhone"]["FreeFormNumber"],
        "100",
        "what both had agreed on"
    );
    // As the inbox shows it: only what differs, named as QuickBooks names it, in words.
    let row = |field: &str| {
        conflict
            .rows
            .iter()
            .find(|r| r.field == field)
            .map(|r| (r.label.as_str(), r.platform.as_str(), r.quickbooks.as_str()))
    };
    assert_eq!(row("Phone"), Some(("Phone", "P-200", "QB-200")));
    assert_eq!(row("CorpEmail"), Some(("Email", "a@fern.example", "qb@fern.example")));
    assert_eq!(row("WebSite"), Some(("Website", "https://fern.example", "(empty)")));
    assert_eq!(row("Name"), None, "the name is the same on both sides");

    let refused =
        c.resolve_same_entity("Books", conflict.id, &connector::api::SameEntityChoice::Dismiss).await.unwrap_err();
    assert_eq!(refused.code, connector::error::ErrorCode::Validation, "{refused}");
    assert_eq!(c.conflicts("Books").unwrap().len(), 1, "still open");

    // The operator takes QuickBooks' phone and e-mail and keeps the platform's website.
    let choices = [("Phone".to_owned(), Side::Quickbooks), ("CorpEmail".to_owned(), Side::Quickbooks)].into();
    let run = c.resolve("Books", conflict.id, &choices).await.unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    assert!(c.conflicts("Books").unwrap().is_empty());
    let here = c.record(Module::Accounts, &account.id).unwrap().data;
    assert_eq!(
        (&here["Phone"], &here["CorpEmail"], &here["WebSite"]),
        (&json!("QB-200"), &json!("qb@fern.example"), &json!("https://fern.example"))
    );
    let there = client.read_json("Customer", &qbo_id).await.unwrap();
    assert_eq!(there["PrimaryPhone"]["FreeFormNumber"], "QB-200");
    assert_eq!(there["PrimaryEmailAddr"]["Address"], "qb@fern.example");
    assert_eq!(there["WebAddr"]["URI"], "https://fern.example", "the platform's field reached QuickBooks");

    // Newest wins compares QuickBooks' LastUpdatedTime with the record's UpdatedAt; the
    // sandbox's clock is moved so that each side is plainly the newer one in turn.
    let mut instance = c.instance("Books").unwrap().instance;
    instance.settings.conflict_policies.insert("Accounts".into(), ConflictPolicy::NewestWins);
    connector::instance::Instances::new(c.store()).save(&instance, chrono::Utc::now()).unwrap();
    let phone_here = |phone: &str| {
        let mut data = c.record(Module::Accounts, &account.id).unwrap().data;
        data["Phone"] = json!(phone);
        edit_here(data);
    };
    setup.sandbox.advance_clock(-3600);
    edit_in_quickbooks(json!({"PrimaryPhone": {"FreeFormNumber": "QB-300"}})).await;
    phone_here("P-300");
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].ok, 1, "{:#?}", problems(&setup, &run));
    let there = client.read_json("Customer", &qbo_id).await.unwrap();
    assert_eq!(there["PrimaryPhone"]["FreeFormNumber"], "P-300", "the platform was newer");

    phone_here("P-400");
    setup.sandbox.advance_clock(2 * 3600);
    edit_in_quickbooks(json!({"PrimaryPhone": {"FreeFormNumber": "QB-400"}})).await;
    sync(&setup, Direction::Push).await;
    assert_eq!(c.record(Module::Accounts, &account.id).unwrap().data["Phone"], "QB-400", "QuickBooks was newer");
    assert!(c.conflicts("Books").unwrap().is_empty(), "nothing held under newest wins");
}
