//! The sync engine against qbo-sandbox: push and pull for the six modules, exactly once
//! through injected faults, first sync without twins, conflicts, failures explained.
//! Needs a Secret Service (run under scripts/with-keyring.sh, as the test command does).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::collections::BTreeSet;

use chrono::{TimeDelta, Utc};
use connector::api::ConnectionState;
use connector::platform::demo::{DemoSize, TaxCode};
use connector::platform::Module;
use connector::sync::{ConflictPolicy, Direction, RecordOp, RunOutcome, Trigger};
use qbo::{Op, Query};
use qbo_sandbox::{seed, EntityKind, FaultInjection};
use rust_decimal::Decimal;
use serde_json::{json, Value};

mod support;

use support::{problems, setup, sync};

fn us_taxes() -> Vec<TaxCode> {
    // The sandbox's California + Alameda code: two component rates, each rounded on its own.
    vec![TaxCode::new("TAX", &[Decimal::new(725, 2), Decimal::ONE]), TaxCode::new("NON", &[])]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_push_sends_every_module_once_and_a_second_sends_nothing() {
    let setup = setup(seed::US_REALM).await;
    let counts = setup.connector.generate_demo_data(DemoSize::small(), 5, &us_taxes(), "USD").unwrap();
    let customers_before = setup.sandbox.count(seed::US_REALM, EntityKind::Customer);

    // The dry run plans what the push will do: the records that refer to others still to be
    // created are creates too, not waiting, and their bodies name the record they will point at.
    let plan = setup.connector.plan("Books", None).await.unwrap();
    assert_eq!(setup.sandbox.count(seed::US_REALM, EntityKind::Customer), customers_before, "a dry run writes nothing");
    let planned_creates = |module: &str| {
        let view = plan.iter().find(|v| v.module == module).unwrap();
        view.operations
            .iter()
            .filter(|p| matches!(p.operation, connector::sync::plan::Operation::Create { .. }))
            .count()
    };
    let invoices = plan.iter().find(|v| v.module == "Invoices").unwrap();
    let connector::sync::plan::Operation::Create { body, .. } = &invoices.operations[0].operation else {
        panic!("the first invoice is planned as {:?}", invoices.operations[0].operation);
    };
    let customer = body["CustomerRef"]["value"].as_str().unwrap();
    assert!(customer.starts_with("(new Customer for Accounts "), "CustomerRef {customer}");

    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    let ok = |module: &str| run.counts.get(module).map_or(0, |c| c.ok);
    for module in Module::ALL {
        assert_eq!(ok(module.name()), counts[&module], "{module}");
        assert_eq!(planned_creates(module.name()), counts[&module], "{module}: planned creates");
    }
    let size = DemoSize::small();
    assert_eq!(
        setup.sandbox.count(seed::US_REALM, EntityKind::Customer),
        customers_before + size.accounts * (1 + size.contacts_per_account)
    );
    assert_eq!(setup.sandbox.count(seed::US_REALM, EntityKind::Payment), size.payments);

    // Invoice totals in QuickBooks are what the platform billed (tax included).
    for invoice in setup.connector.records(Module::Invoices, "", 0, 100).unwrap() {
        let link =
            connector::sync::store::link_by_platform(&setup.connector.store().connection(), 1, "Invoices", &invoice.id)
                .unwrap()
                .unwrap();
        let qbo = setup
            .sandbox
            .entities(seed::US_REALM, EntityKind::Invoice)
            .into_iter()
            .find(|i| i["Id"] == link.qbo_id.as_str())
            .unwrap();
        assert_eq!(
            qbo["TotalAmt"].to_string().parse::<Decimal>().unwrap(),
            invoice.data["Total"].to_string().parse::<Decimal>().unwrap(),
            "{}",
            invoice.id
        );
    }

    // The first pull brings in what the company had before (its 4 customers and 5 items),
    // and none of what was just pushed.
    let first_pull = sync(&setup, Direction::Pull).await;
    assert_eq!(first_pull.counts.get("Accounts").map(|c| c.ok), Some(4), "{:?}", first_pull.counts);
    assert_eq!(first_pull.counts.get("Products").map(|c| c.ok), Some(5), "{:?}", first_pull.counts);
    assert_eq!(first_pull.counts.values().map(|c| c.ok).sum::<usize>(), 9, "{:?}", first_pull.counts);

    let again = sync(&setup, Direction::Sync).await;
    assert!(again.counts.values().all(|c| c.ok == 0), "nothing changed, nothing sent or pulled: {:?}", again.counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_deletes_follow_the_platform_and_pulls_follow_quickbooks() {
    let setup = setup(seed::US_REALM).await;
    let account = setup
        .connector
        .create_record(Module::Accounts, json!({"Name": "Harbour Lights Ltd", "CorpEmail": "a@harbour.example"}))
        .unwrap();
    let contact = setup
        .connector
        .create_record(Module::Contacts, json!({"AccountId": account.id, "FirstName": "Mei", "LastName": "Tanaka"}))
        .unwrap();
    let product = setup.connector.create_record(Module::Products, json!({"Name": "Lamp repair", "Price": 30})).unwrap();
    let invoice = setup.connector.create_record(Module::Invoices, json!({"AccountId": account.id, "Number": "HL-1", "Date": "2026-11-01", "Lines": [{"ProductId": product.id, "Quantity": 2, "UnitPrice": 30, "TaxCode": "NON"}]})).unwrap();
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));

    let renamed = setup
        .connector
        .update_record(
            Module::Accounts,
            &account.id,
            json!({"Name": "Harbour Lights Ltd", "CorpEmail": "billing@harbour.example"}),
            account.version,
        )
        .unwrap();
    setup.connector.delete_record(Module::Contacts, &contact.id).unwrap();
    setup.connector.delete_record(Module::Invoices, &invoice.id).unwrap();
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    let customers = setup.sandbox.entities(seed::US_REALM, EntityKind::Customer);
    let qbo_account = customers.iter().find(|c| c["CompanyName"] == "Harbour Lights Ltd").unwrap();
    assert_eq!(qbo_account["PrimaryEmailAddr"]["Address"], "billing@harbour.example");
    assert!(customers.iter().any(|c| c["GivenName"] == "Mei" && c["Active"] == false), "the contact was deactivated");
    assert!(
        !setup.sandbox.entities(seed::US_REALM, EntityKind::Invoice).iter().any(|i| i["DocNumber"] == "HL-1"),
        "the invoice was deleted"
    );
    let _ = renamed;

    // Changes made in QuickBooks come back; our own pushes do not.
    let client = setup.connector.qbo_client("Books").await.unwrap();
    let mut changed = qbo_account.clone();
    changed["PrimaryPhone"] = json!({"FreeFormNumber": "+64 4 555 0199"});
    client
        .update_json(
            "Customer",
            &json!({"Id": changed["Id"], "SyncToken": changed["SyncToken"], "PrimaryPhone": changed["PrimaryPhone"]}),
            true,
            &qbo::RequestId::new(),
        )
        .await
        .unwrap();
    client
        .create_json(
            "Customer",
            &json!({"DisplayName": "Made In QuickBooks Co", "PrimaryEmailAddr": {"Address": "qb@made.example"}}),
            &qbo::RequestId::new(),
        )
        .await
        .unwrap();
    let run = sync(&setup, Direction::Pull).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    assert_eq!(setup.connector.record(Module::Accounts, &account.id).unwrap().data["Phone"], "+64 4 555 0199");
    let made = setup.connector.records(Module::Accounts, "made in quickbooks", 0, 10).unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].data["CorpEmail"], "qb@made.example");
    // The pulled change is not pushed back.
    let push = sync(&setup, Direction::Push).await;
    assert_eq!(push.counts.get("Accounts").map_or(0, |c| c.ok), 0, "{:?}", push.counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pulled_record_that_could_not_be_stored_is_read_again_until_it_is() {
    let setup = setup(seed::US_REALM).await;
    let connector = &setup.connector;
    // A customised mapping that refuses one customer, as a bad rule would.
    let mut spec = connector.spec("Books").unwrap();
    let name_rule =
        spec.module_mut("Accounts").unwrap().methods.pull_create.rules.iter_mut().find(|r| r.target == "Name");
    name_rule.unwrap().expr =
        r#"if (.DisplayName | startswith("Refused")) then error("not this one") else .DisplayName end"#.into();
    connector.save_spec("Books", &spec).unwrap();
    let client = connector.qbo_client("Books").await.unwrap();
    // Made ten minutes ago, so no later pull's window of changes reaches back to it.
    setup.sandbox.advance_clock(-600);
    client.create_json("Customer", &json!({"DisplayName": "Refused Rowan Ltd"}), &qbo::RequestId::new()).await.unwrap();
    setup.sandbox.advance_clock(600);

    let first = sync(&setup, Direction::Pull).await;
    assert_eq!(first.counts["Accounts"].failed, 1, "{:#?}", problems(&setup, &first));
    assert!(connector.records(Module::Accounts, "refused rowan", 0, 10).unwrap().is_empty());

    // The rule is put right; nothing changed in QuickBooks, so only the record's own
    // failure brings it back.
    connector.reset_spec("Books").unwrap();
    let second = sync(&setup, Direction::Pull).await;
    assert_eq!(second.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &second));
    assert_eq!(second.counts["Accounts"].ok, 1, "{:?}", second.counts);
    assert_eq!(connector.records(Module::Accounts, "refused rowan", 0, 10).unwrap().len(), 1);

    let third = sync(&setup, Direction::Pull).await;
    assert_eq!(third.counts.get("Accounts").map_or(0, |c| c.ok), 0, "stored once, not read again: {:?}", third.counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_links_records_quickbooks_already_has() {
    let setup = setup(seed::US_REALM).await;
    let before = setup.sandbox.count(seed::US_REALM, EntityKind::Customer);
    // The sandbox company already has this customer.
    setup.connector.create_record(Module::Accounts, json!({"Name": "Amy's Bird Sanctuary"})).unwrap();
    setup.connector.create_record(Module::Accounts, json!({"Name": "Brand New Customer"})).unwrap();
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].ok, 2, "{:#?}", problems(&setup, &run));
    assert_eq!(
        setup.sandbox.count(seed::US_REALM, EntityKind::Customer),
        before + 1,
        "one linked, one created, no twin"
    );
    let outcomes = connector::sync::store::outcomes(&setup.connector.store().connection(), run.run_id, false).unwrap();
    assert!(outcomes.iter().any(|o| o.operation == RecordOp::Link
        && o.message.as_deref().unwrap_or_default().contains("linked instead of created")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_5xx_429_and_dropped_answers_2000_records_land_exactly_once() {
    let setup = setup(seed::US_REALM).await;
    let size =
        DemoSize { accounts: 300, contacts_per_account: 1, products: 100, invoices: 800, orders: 200, payments: 300 };
    let created = setup.connector.generate_demo_data(size, 21, &us_taxes(), "USD").unwrap();
    assert_eq!(created.values().sum::<usize>(), 2000);
    let kinds =
        [EntityKind::Customer, EntityKind::Item, EntityKind::Invoice, EntityKind::PurchaseOrder, EntityKind::Payment];
    let before: Vec<usize> = kinds.iter().map(|k| setup.sandbox.count(seed::US_REALM, *k)).collect();
    setup.sandbox.set_faults(FaultInjection {
        seed: 21,
        server_error_rate: 0.10,
        throttle_rate: 0.05,
        drop_after_commit_rate: 0.02,
        latency_min_ms: 0,
        latency_max_ms: 2,
    });
    // A record whose every retry failed is sent again by the next run, as an operator's
    // next sync (or the scheduler) would.
    let mut runs = 0;
    loop {
        runs += 1;
        let run = sync(&setup, Direction::Push).await;
        if run.outcome == RunOutcome::Succeeded || runs == 5 {
            assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
            break;
        }
    }
    setup.sandbox.set_faults(FaultInjection::default());

    let new_customers = created[&Module::Accounts] + created[&Module::Contacts];
    let expected = [
        new_customers,
        created[&Module::Products],
        created[&Module::Invoices],
        created[&Module::Orders],
        created[&Module::Payments],
    ];
    for ((kind, before), expected) in kinds.iter().zip(&before).zip(expected) {
        assert_eq!(setup.sandbox.count(seed::US_REALM, *kind), before + expected, "{kind:?}: none lost, none twice");
    }
    for module in Module::ALL {
        let links = setup.connector.links("Books", module.name()).unwrap();
        assert_eq!(links.len(), created[&module], "{module}: every record linked");
        let distinct: BTreeSet<&String> = links.iter().map(|l| &l.qbo_id).collect();
        assert_eq!(distinct.len(), links.len(), "{module}: each to its own QuickBooks record");
    }
    assert!(setup.sandbox.requests().iter().any(|r| r.status == 429), "the faults were really injected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_record_among_1500_fails_alone_with_the_field_named_and_alone_is_sent_again() {
    let setup = setup(seed::US_REALM).await;
    // More than one page of the push (1,000), with the bad record in the first.
    for n in 0..700 {
        setup.connector.create_record(Module::Accounts, json!({"Name": format!("Good Account {n:04}")})).unwrap();
    }
    let bad = setup.connector.create_record(Module::Accounts, json!({"Name": "Bad: Colon Inc"})).unwrap();
    for n in 700..1499 {
        setup.connector.create_record(Module::Accounts, json!({"Name": format!("Good Account {n:04}")})).unwrap();
    }
    let run = sync(&setup, Direction::Push).await;
    assert_eq!(run.counts["Accounts"].ok, 1499);
    assert_eq!(run.counts["Accounts"].failed, 1);
    let failures = connector::sync::store::outcomes(&setup.connector.store().connection(), run.run_id, true).unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].record_id, bad.id);
    assert_eq!(failures[0].element.as_deref(), Some("DisplayName"));
    assert_eq!(failures[0].code.as_deref(), Some("6000"));
    assert!(failures[0].intuit_tid.is_some());
    assert!(failures[0].message.as_deref().unwrap().contains("colon"), "{:?}", failures[0].message);

    setup.connector.update_record(Module::Accounts, &bad.id, json!({"Name": "Fixed Colon Inc"}), bad.version).unwrap();
    let again = sync(&setup, Direction::Push).await;
    assert_eq!(again.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &again));
    assert_eq!(again.counts["Accounts"].ok, 1, "the fixed record, once, and nothing else");
    let customers = setup.sandbox.entities(seed::US_REALM, EntityKind::Customer);
    let ours = customers.iter().filter(|c| {
        c["DisplayName"].as_str().is_some_and(|n| n.starts_with("Good Account ") || n == "Fixed Colon Inc")
    });
    assert_eq!(ours.count(), 1500);
}

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
    connector::instance::Instances::new(setup.connector.store()).save(&settings, Utc::now()).unwrap();
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
    connector::instance::Instances::new(setup.connector.store()).save(&settings, Utc::now()).unwrap();
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

/// What a run that died leaves behind: the planned updates of the accounts journaled, then
/// sent and committed in QuickBooks, no answer recorded. `as_one_call` sends them as one batch
/// call; otherwise each alone with its own requestid, as the journal says.
/// Answers the updates' QuickBooks ids with their SyncTokens before, and the requestids sent.
async fn a_dead_runs_updates(setup: &support::Setup, as_one_call: bool) -> (Vec<(String, u64)>, Vec<qbo::RequestId>) {
    let plan = setup.connector.plan("Books", Some(vec!["Accounts".into()])).await.unwrap();
    let call = qbo::RequestId::new();
    let client = setup.connector.qbo_client("Books").await.unwrap();
    let (mut before, mut items, mut sent_ids) = (Vec::new(), Vec::new(), Vec::new());
    for planned in &plan[0].operations {
        let connector::sync::plan::Operation::Update { qbo_id, sync_token, body, hash } = planned.operation.clone()
        else {
            panic!("planned {:?}", planned.operation);
        };
        let own = qbo::RequestId::new();
        setup
            .connector
            .store()
            .connection()
            .execute(
                "INSERT INTO journal (instance_id, run_id, module, platform_id, operation, request_id, body, platform_hash, state, created_at, record_request_id, qbo_id, sync_token)
                 VALUES (1, 0, 'Accounts', ?1, 'update', ?2, ?3, ?4, 'pending', '2026-12-01T00:00:00Z', ?5, ?6, ?7)",
                rusqlite::params![
                    planned.platform_id,
                    if as_one_call { call.as_str() } else { own.as_str() },
                    body.to_string(),
                    hash,
                    own.as_str(),
                    qbo_id,
                    sync_token
                ],
            )
            .unwrap();
        let mut sent = body.clone();
        sent["Id"] = json!(qbo_id);
        sent["SyncToken"] = json!(sync_token);
        if as_one_call {
            items.push(qbo::BatchItem::Update { entity: "Customer".into(), body: sent, sparse: true });
        } else {
            client.update_json("Customer", &sent, true, &own).await.unwrap();
            sent_ids.push(own);
        }
        before.push((qbo_id, sync_token.parse().unwrap()));
    }
    if as_one_call {
        client.batch(&items, &call).await.unwrap();
        sent_ids.push(call);
    }
    (before, sent_ids)
}

async fn dead_runs_updates_are_sent_again_as_they_went_and_answered_once(as_one_call: bool) {
    let setup = setup(seed::US_REALM).await;
    let names = ["Resume Ltd", "Resume Too Ltd"];
    let ids: Vec<String> = names
        .iter()
        .map(|name| setup.connector.create_record(Module::Accounts, json!({"Name": name, "Phone": "1"})).unwrap().id)
        .collect();
    sync(&setup, Direction::Push).await;
    for (id, name) in ids.iter().zip(names) {
        let record = setup.connector.record(Module::Accounts, id).unwrap();
        setup
            .connector
            .update_record(Module::Accounts, id, json!({"Name": name, "Phone": "P-2"}), record.version)
            .unwrap();
    }
    let (before, sent_ids) = a_dead_runs_updates(&setup, as_one_call).await;

    let run = sync(&setup, Direction::Push).await;
    assert_eq!((run.counts["Accounts"].ok, run.counts["Accounts"].held), (2, 0), "{:#?}", problems(&setup, &run));
    let requests = setup.sandbox.requests();
    for sent_id in &sent_ids {
        let statuses: Vec<u16> =
            requests.iter().filter(|r| r.request_id.as_deref() == Some(sent_id.as_str())).map(|r| r.status).collect();
        assert_eq!(statuses, [200, 200], "sent again with the journaled requestid, answered as a replay");
    }
    let client = setup.connector.qbo_client("Books").await.unwrap();
    for (qbo_id, sync_token) in before {
        let customer = client.read_json("Customer", &qbo_id).await.unwrap();
        assert_eq!(customer["SyncToken"].as_str().unwrap().parse::<u64>().unwrap(), sync_token + 1, "written once");
        let link = connector::sync::store::link_by_qbo(&setup.connector.store().connection(), 1, "Accounts", &qbo_id)
            .unwrap()
            .unwrap();
        assert_eq!(link.sync_token.as_deref(), customer["SyncToken"].as_str());
    }
    let next = sync(&setup, Direction::Push).await;
    assert_eq!(next.counts.get("Accounts").map_or(0, |c| c.ok), 0, "nothing left to send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_a_dead_run_had_sent_alone_are_sent_again_with_their_own_requestids() {
    dead_runs_updates_are_sent_again_as_they_went_and_answered_once(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_updates_a_dead_run_had_sent_is_sent_again_as_the_same_call() {
    dead_runs_updates_are_sent_again_as_they_went_and_answered_once(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_process_died_is_closed_as_interrupted_with_what_it_had_recorded() {
    let setup = setup(seed::US_REALM).await;
    for name in ["Died Ltd", "Died Too Ltd"] {
        setup.connector.create_record(Module::Accounts, json!({"Name": name})).unwrap();
    }
    let run = sync(&setup, Direction::Push).await;
    // As a killed process leaves it: started, never ended.
    setup
        .connector
        .store()
        .connection()
        .execute("UPDATE run SET finished_at = NULL, outcome = NULL, counts = '{}' WHERE id = ?1", [run.run_id])
        .unwrap();
    assert_eq!(setup.connector.runs("Books", 1).unwrap()[0].outcome, None);

    let reopened = connector::api::Connector::open(setup.connector.data_dir()).unwrap();
    let closed = &reopened.runs("Books", 1).unwrap()[0];
    assert_eq!(closed.outcome, Some(RunOutcome::Interrupted));
    assert!(closed.finished_at.is_some());
    assert_eq!(closed.counts, run.counts, "the counts are what the run had recorded");
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
async fn a_record_too_large_for_quickbooks_fails_alone_with_its_field_named() {
    let setup = setup(seed::US_REALM).await;
    let ids: Vec<String> = ["Small One", "Huge One", "Small Two"]
        .into_iter()
        .map(|name| setup.connector.create_record(Module::Accounts, json!({"Name": name})).unwrap().id)
        .collect();
    // As a store written before field lengths were checked at the door can hold it.
    let huge = "H".repeat(3_000_000);
    setup
        .connector
        .store()
        .connection()
        .execute(
            "UPDATE platform_record SET data = json_set(data, '$.Name', ?1) WHERE module = 'Accounts' AND id = ?2",
            rusqlite::params![huge, ids[1]],
        )
        .unwrap();

    let run = sync(&setup, Direction::Push).await;
    assert_eq!((run.counts["Accounts"].ok, run.counts["Accounts"].failed), (2, 1), "{:#?}", problems(&setup, &run));
    let failed = setup.connector.run_records("Books", run.run_id, true).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].record_id, ids[1]);
    assert_eq!(failed[0].element.as_deref(), Some("DisplayName"));
    let message = failed[0].message.clone().unwrap_or_default();
    assert!(message.contains("too large") && message.contains("3000000 characters"), "{message}");
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
    use chrono::TimeZone;
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
    connector::instance::Instances::new(c.store()).save(&instance, Utc::now()).unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_older_than_30_days_falls_back_to_a_bounded_query_and_a_recent_one_uses_cdc() {
    let setup = setup(seed::US_REALM).await;
    let c = &setup.connector;
    sync(&setup, Direction::Pull).await; // the company's customers are here, the cursors set
    let client = c.qbo_client("Books").await.unwrap();
    let amy = {
        use futures::StreamExt;
        let query = Query::select("Customer").filter("DisplayName", Op::Eq, "Amy's Bird Sanctuary");
        Box::pin(client.query_values(query)).next().await.unwrap().unwrap()
    };
    let amy_here = |setup: &support::Setup| {
        let id =
            setup.connector.links("Books", "Accounts").unwrap().into_iter().find(|l| l.qbo_id == amy["Id"]).unwrap();
        setup.connector.record(Module::Accounts, &id.platform_id).unwrap().data
    };
    let rename = |phone: &'static str| {
        let (client, id) = (client.clone(), amy["Id"].clone());
        async move {
            let current = client.read_json("Customer", id.as_str().unwrap()).await.unwrap();
            let body = json!({"Id": id, "SyncToken": current["SyncToken"], "PrimaryPhone": {"FreeFormNumber": phone}});
            client.update_json("Customer", &body, true, &qbo::RequestId::new()).await.unwrap();
        }
    };
    let operations_since = |seq: usize| -> Vec<String> {
        setup.sandbox.requests().into_iter().skip(seq).map(|r| format!("{} {}", r.operation, r.path)).collect()
    };
    let set_cursor = |days_ago: i64| {
        let at = Utc::now() - TimeDelta::days(days_ago);
        let text = qbo::rfc3339::format(at);
        let connection = c.store().connection();
        connector::sync::store::set_cursor(&connection, 1, "qbo_since:Accounts", &text).unwrap();
    };

    // 40 days without a sync: CDC cannot reach back, so the module reads by LastUpdatedTime.
    set_cursor(40);
    setup.sandbox.advance_clock(-600); // the change is plainly older than the upper bound
    rename("555-0140").await;
    let seen = setup.sandbox.requests().len();
    let run = sync(&setup, Direction::Pull).await;
    assert_eq!(run.counts["Accounts"].ok, 1, "{:?}", run.counts);
    assert_eq!(amy_here(&setup)["Phone"], "555-0140");
    let used = operations_since(seen);
    assert!(!used.iter().any(|o| o.starts_with("cdc") && o.contains("Customer")), "{used:?}");
    let query_log: Vec<String> =
        setup.sandbox.requests().into_iter().skip(seen).filter(|r| r.operation == "query").map(|r| r.path).collect();
    assert!(!query_log.is_empty(), "{used:?}");

    // A day: CDC.
    set_cursor(1);
    rename("555-0141").await;
    let seen = setup.sandbox.requests().len();
    let run = sync(&setup, Direction::Pull).await;
    assert_eq!(run.counts["Accounts"].ok, 1, "{:?}", run.counts);
    assert_eq!(amy_here(&setup)["Phone"], "555-0141");
    assert!(operations_since(seen).iter().any(|o| o.starts_with("cdc")), "{:?}", operations_since(seen));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_reported_per_module_and_a_cancelled_run_is_finished_by_the_next() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use connector::sync::{Progress, SyncRequest, Trigger};

    let setup = setup(seed::US_REALM).await;
    for n in 0..600 {
        setup.connector.create_record(Module::Accounts, json!({"Name": format!("Progressive {n:03}")})).unwrap();
    }
    setup.connector.create_record(Module::Products, json!({"Name": "Progress bar", "Price": 5})).unwrap();
    let events: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let cancel = Arc::new(AtomicBool::new(false));
    let report = {
        let (events, cancel) = (events.clone(), cancel.clone());
        move |progress: Progress| {
            // The operator presses Cancel once the first 60 accounts are through.
            if progress.module == "Accounts" && progress.done >= 60 {
                cancel.store(true, Ordering::Relaxed);
            }
            events.lock().unwrap().push(progress);
        }
    };
    let request = SyncRequest {
        direction: Direction::Push,
        modules: None,
        trigger: Trigger::Button,
        cancel: Some(cancel.clone()),
        progress: Some(&report),
        only: None,
    };
    let run = setup.connector.sync("Books", request).await.unwrap();
    assert_eq!(run.outcome, RunOutcome::Cancelled);
    let sent = run.counts["Accounts"].ok;
    assert!((60..600).contains(&sent), "stopped between batches, after {sent}");
    {
        let events = events.lock().unwrap();
        let accounts: Vec<&Progress> = events.iter().filter(|p| p.module == "Accounts").collect();
        assert_eq!(accounts.first().map(|p| (p.done, p.total)), Some((0, 600)), "a first event with the total");
        assert!(accounts.windows(2).all(|w| w[0].done <= w[1].done), "done only grows");
        assert_eq!(accounts.last().unwrap().done, sent);
        assert!(
            accounts.iter().any(|p| p.current.as_deref().is_some_and(|c| !c.is_empty())),
            "names the current record"
        );
        assert!(!events.iter().any(|p| p.module == "Products"), "nothing after the cancel");
    }
    let customers = |s: &support::Setup| {
        s.sandbox
            .entities(seed::US_REALM, EntityKind::Customer)
            .iter()
            .filter(|c| c["DisplayName"].as_str().unwrap().starts_with("Progressive"))
            .count()
    };
    assert_eq!(customers(&setup), sent, "a consistent state: what was sent is linked");
    assert_eq!(setup.connector.links("Books", "Accounts").unwrap().len(), sent);

    let rest = sync(&setup, Direction::Push).await;
    assert_eq!(rest.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &rest));
    assert_eq!(rest.counts["Accounts"].ok, 600 - sent, "the rest, and only the rest");
    assert_eq!(rest.counts["Products"].ok, 1);
    assert_eq!(customers(&setup), 600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_reads_the_time_from_the_clock_the_connector_was_given() {
    let setup = setup(seed::US_REALM).await;
    let later = Utc::now() + TimeDelta::days(400);
    let connector = setup.connector.with_clock(std::sync::Arc::new(move || later));
    connector.generate_demo_data(DemoSize::small(), 7, &us_taxes(), "USD").unwrap();
    let request = connector::sync::SyncRequest {
        direction: Direction::Push,
        modules: Some(vec!["Accounts".into()]),
        trigger: Trigger::Cli,
        cancel: None,
        progress: None,
        only: None,
    };
    let run = connector.sync("Books", request).await.unwrap();
    let stamp = qbo::rfc3339::format;
    let row = connector.runs("Books", 1).unwrap().remove(0);
    assert_eq!(row.id, run.run_id);
    assert_eq!(row.started_at, stamp(later), "the run started on the given clock");
    assert_eq!(row.finished_at, Some(stamp(later)), "and ended on it: nothing read the system's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_and_a_resync_are_runs_a_caller_follows_and_can_cancel() {
    use connector::api::{RunKind, RunWatch};
    use connector::sync::{Phase, Progress};
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Mutex};

    let setup = setup(seed::US_REALM).await;
    setup.connector.generate_demo_data(DemoSize::small(), 11, &us_taxes(), "USD").unwrap();
    let first = sync(&setup, Direction::Push).await;
    assert_eq!(first.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &first));
    let account = setup.connector.records_page(Module::Accounts, "", 0, 1).unwrap().records.remove(0);

    let seen: Mutex<Vec<Progress>> = Mutex::default();
    let report = |progress: Progress| seen.lock().unwrap().push(progress);
    let resync = RunKind::Resync { module: "Accounts".into(), platform_id: account.id.clone() };
    let watch = RunWatch { cancel: None, progress: Some(&report) };
    let run = setup.connector.run("Books", resync.clone(), watch).await.unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded);
    assert!(
        seen.lock().unwrap().iter().any(|p| p.module == "Accounts" && p.phase == Phase::Push),
        "the resync's progress reached the caller"
    );

    let cancelled = Arc::new(AtomicBool::new(true));
    let watch = RunWatch { cancel: Some(cancelled.clone()), progress: None };
    let run = setup.connector.run("Books", resync, watch).await.unwrap();
    assert_eq!(run.outcome, RunOutcome::Cancelled, "a resync honours Cancel");
    let watch = RunWatch { cancel: Some(cancelled), progress: None };
    let run = setup.connector.run("Books", RunKind::Retry { run_id: first.run_id }, watch).await.unwrap();
    assert_eq!(run.outcome, RunOutcome::Cancelled, "so does a retry");
}
