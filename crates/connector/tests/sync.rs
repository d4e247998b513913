//! The sync engine against qbo-sandbox: push and pull for the six modules, exactly once
//! through injected faults, first sync without twins, failures explained, progress, cancel
//! and the clock. Needs a Secret Service (run under scripts/with-keyring.sh, as the test
//! command does).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::collections::BTreeSet;

use connector::platform::demo::DemoSize;
use connector::platform::Module;
use connector::sync::{Direction, RecordOp, RunOutcome, Trigger};
use qbo::{Op, Query};
use qbo_sandbox::{seed, EntityKind, FaultInjection};
use rust_decimal::Decimal;
use serde_json::json;

mod support;

use support::{problems, setup, sync, us_taxes};

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
        let at = chrono::Utc::now() - chrono::TimeDelta::days(days_ago);
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
    let later = chrono::Utc::now() + chrono::TimeDelta::days(400);
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
    let stamp = |t: chrono::DateTime<chrono::Utc>| qbo::rfc3339::format(t);
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
