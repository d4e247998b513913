//! An instance linked to a REST platform (bss-sandbox, in the interworks.cloud BSS shape)
//! and to QuickBooks (qbo-sandbox), both over real HTTP: records made on the platform reach
//! QuickBooks, records made in QuickBooks reach the platform, and nothing comes back twice.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use bss_sandbox::{BssConfig, BssSandbox, Kind};
use connector::platform::link::{PlatformLink, PlatformSecret, RestLink};
use connector::platform::Module;
use connector::sync::{Direction, RecordOp, RunOutcome};
use qbo_sandbox::{seed, EntityKind};
use serde_json::json;

mod support;

use support::{problems, setup, sync, Setup};

async fn bss() -> BssSandbox {
    BssSandbox::start(BssConfig { time_scale: 0.0, ..BssConfig::default() }).await.unwrap()
}

fn link_to(setup: &Setup, bss: &BssSandbox) {
    let link = PlatformLink::Rest(RestLink {
        profile: "interworks-bss.json".into(),
        custom_profile: None,
        variables: BTreeMap::from([("server".to_owned(), bss.base_url().to_owned())]),
        username: Some(bss_sandbox::DEMO_USERNAME.into()),
        client_id: Some(bss_sandbox::DEMO_CLIENT_ID.into()),
    });
    let secrets = BTreeMap::from([
        (PlatformSecret::Password, bss_sandbox::DEMO_PASSWORD.to_owned()),
        (PlatformSecret::ClientSecret, bss_sandbox::DEMO_CLIENT_SECRET.to_owned()),
    ]);
    setup.connector.set_platform_link("Books", &link, &secrets).unwrap();
}

/// The instance linked to a Ledgerline sandbox by its built-in profile and API key.
fn link_to_ledgerline(setup: &Setup, ledger: &rest_sandbox::RestSandbox) {
    let link = PlatformLink::Rest(RestLink {
        profile: "ledger-rest.json".into(),
        custom_profile: None,
        variables: BTreeMap::from([("server".to_owned(), ledger.base_url().to_owned())]),
        username: None,
        client_id: None,
    });
    let secrets = BTreeMap::from([(PlatformSecret::Token, ledger.api_key().to_owned())]);
    setup.connector.set_platform_link("Books", &link, &secrets).unwrap();
}

fn ops(setup: &Setup, run_id: i64, op: RecordOp) -> usize {
    let connection = setup.connector.store().connection();
    connector::sync::store::outcomes(&connection, run_id, false)
        .unwrap()
        .iter()
        .filter(|o| o.operation == op && o.outcome == connector::sync::Outcome::Ok)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn records_made_on_the_platform_reach_quickbooks_and_back_without_bouncing() {
    let setup = setup(seed::US_REALM).await;
    let bss = bss().await;
    let account = bss
        .create(Kind::Accounts, &json!({"name": "Harbour Lights Ltd", "code": "HL", "corpEmail": "a@harbour.example"}))
        .unwrap();
    let account_id = account["id"].to_string();
    bss.create(
        Kind::Contacts,
        &json!({"accountId": account["id"], "firstName": "Mei", "lastName": "Tanaka", "email": "mei@harbour.example"}),
    )
    .unwrap();
    link_to(&setup, &bss);

    let first = sync(&setup, Direction::Sync).await;
    assert_eq!(first.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &first));
    assert_eq!(ops(&setup, first.run_id, RecordOp::MirrorCreate), 2);
    let customers = setup.sandbox.entities(seed::US_REALM, EntityKind::Customer);
    assert!(
        customers.iter().any(|c| c["DisplayName"] == "Harbour Lights Ltd"),
        "the platform's account is in QuickBooks"
    );
    assert!(customers.iter().any(|c| c["GivenName"] == "Mei"), "and its contact");
    assert_eq!(setup.connector.record(Module::Accounts, &account_id).unwrap().data["Name"], "Harbour Lights Ltd");

    // The company's own customers were pulled and written to the platform, once each.
    let written = ops(&setup, first.run_id, RecordOp::WriteCreate);
    assert!(written > 0, "{:#?}", problems(&setup, &first));
    let accounts_there = bss.count(Kind::Accounts);

    // Nothing changed anywhere: nothing is read, sent or written.
    bss.advance_clock(Duration::from_secs(60));
    let quiet = sync(&setup, Direction::Sync).await;
    assert_eq!(quiet.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &quiet));
    assert!(quiet.counts.values().all(|c| c.ok == 0), "nothing bounced: {:?}", quiet.counts);
    assert_eq!(bss.count(Kind::Accounts), accounts_there);

    // A customer made in QuickBooks arrives on the platform.
    let client = setup.connector.qbo_client("Books").await.unwrap();
    client
        .create_json(
            "Customer",
            &json!({"DisplayName": "Made In QuickBooks Co", "PrimaryEmailAddr": {"Address": "qb@made.example"}}),
            &qbo::RequestId::new(),
        )
        .await
        .unwrap();
    bss.advance_clock(Duration::from_secs(60));
    let run = sync(&setup, Direction::Sync).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    let there: Vec<_> = bss.list(Kind::Accounts).into_iter().filter(|a| a["name"] == "Made In QuickBooks Co").collect();
    assert_eq!(there.len(), 1, "created once on the platform");
    assert_eq!(there[0]["corpEmail"], "qb@made.example");

    // A change on the platform arrives in QuickBooks.
    bss.update(
        Kind::Accounts,
        &account_id,
        &json!({"name": "Harbour Lights Ltd", "code": "HL", "corpEmail": "billing@harbour.example"}),
    )
    .unwrap();
    bss.advance_clock(Duration::from_secs(60));
    let run = sync(&setup, Direction::Sync).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    let customers = setup.sandbox.entities(seed::US_REALM, EntityKind::Customer);
    let harbour = customers.iter().find(|c| c["DisplayName"] == "Harbour Lights Ltd").unwrap();
    assert_eq!(harbour["PrimaryEmailAddr"]["Address"], "billing@harbour.example");

    bss.advance_clock(Duration::from_secs(60));
    let quiet = sync(&setup, Direction::Sync).await;
    assert!(
        quiet.counts.values().all(|c| c.ok == 0),
        "nothing bounced: {:#?}",
        connector_outcomes(&setup, quiet.run_id)
    );
}

fn connector_outcomes(setup: &Setup, run_id: i64) -> Vec<String> {
    let connection = setup.connector.store().connection();
    connector::sync::store::outcomes(&connection, run_id, false)
        .unwrap()
        .into_iter()
        .map(|o| {
            format!("{} {} {} {}: {}", o.module, o.record_id, o.operation, o.outcome, o.message.unwrap_or_default())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_records_of_all_six_kinds_reach_quickbooks_in_one_sync() {
    // The UK company: the seeded accounts bill in four currencies.
    let setup = setup(seed::UK_REALM).await;
    let bss = bss().await;
    bss.seed_records(84);
    link_to(&setup, &bss);
    tax_every_line(&setup, seed::UK_REALM, "20.0% S");
    let run = sync(&setup, Direction::Sync).await;
    let outcomes = connector_outcomes(&setup, run.run_id);
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    assert_eq!(ops(&setup, run.run_id, RecordOp::MirrorCreate), 504, "{outcomes:#?}");
    for (module, kind) in [
        ("Accounts", EntityKind::Customer),
        ("Products", EntityKind::Item),
        ("Invoices", EntityKind::Invoice),
        ("Payments", EntityKind::Payment),
    ] {
        let pushed = setup
            .connector
            .store()
            .connection()
            .query_row("SELECT COUNT(*) FROM link WHERE module = ?1", [module], |row| row.get::<_, i64>(0))
            .unwrap();
        assert!(pushed >= 84, "{module}: {pushed} linked; {:?}", run.counts);
        assert!(setup.sandbox.count(seed::UK_REALM, kind) >= 84, "{module}");
    }

    // Nothing bounces back from either side.
    bss.advance_clock(Duration::from_secs(60));
    let quiet = sync(&setup, Direction::Sync).await;
    assert!(quiet.counts.values().all(|c| c.ok == 0), "{:#?}", connector_outcomes(&setup, quiet.run_id));

    // A change made in QuickBooks to a customer that came from the platform reaches the platform.
    // One with nothing billed to it, so QuickBooks lets it be made inactive further down.
    let billed: Vec<String> = bss.list(Kind::Invoices).iter().map(|i| i["billingAccountId"].to_string()).collect();
    let account = bss.list(Kind::Accounts).into_iter().find(|a| !billed.contains(&a["id"].to_string())).unwrap();
    let account_id = account["id"].to_string();
    let qbo_id: String = setup
        .connector
        .store()
        .connection()
        .query_row("SELECT qbo_id FROM link WHERE module = 'Accounts' AND platform_id = ?1", [&account_id], |row| {
            row.get(0)
        })
        .unwrap();
    let client = setup.connector.qbo_client("Books").await.unwrap();
    let customer = client.read_json("Customer", &qbo_id).await.unwrap();
    client
        .update_json("Customer", &json!({"Id": qbo_id, "SyncToken": customer["SyncToken"], "PrimaryPhone": {"FreeFormNumber": "+44 20 7946 0001"}}), true, &qbo::RequestId::new())
        .await
        .unwrap();
    bss.advance_clock(Duration::from_secs(60));
    let run = sync(&setup, Direction::Sync).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    assert_eq!(ops(&setup, run.run_id, RecordOp::WriteUpdate), 1, "{:#?}", connector_outcomes(&setup, run.run_id));
    let there = bss.get(Kind::Accounts, &account_id).unwrap();
    assert_eq!(there["phone"], "+44 20 7946 0001");
    assert_eq!(there["addresses"], account["addresses"], "what the connector does not map is kept");

    // A delete on the platform is learnt by a whole read and acts in QuickBooks as the matrix
    // says: the customer is made inactive.
    bss.delete(Kind::Accounts, &account_id).unwrap();
    bss.advance_clock(Duration::from_secs(60));
    read_everything_finds_one_delete(&setup).await;
    assert!(setup.connector.record(Module::Accounts, &account_id).unwrap().deleted);
    let run = sync(&setup, Direction::Sync).await;
    assert_eq!(ops(&setup, run.run_id, RecordOp::Delete), 1, "{:#?}", connector_outcomes(&setup, run.run_id));
    let customer = client.read_json("Customer", &qbo_id).await.unwrap();
    assert_eq!(customer["Active"], false);
}

/// A VAT company needs a rate on every line and the BSS's lines carry none: the operator's
/// customizing gives lines without a code the company's standard rate.
fn tax_every_line(setup: &Setup, realm: &str, code_name: &str) {
    let codes = setup.sandbox.entities(realm, EntityKind::TaxCode);
    let code = codes.iter().find(|c| c["Name"] == code_name).unwrap();
    let row = connector::api::LookupRow {
        lookup: "tax_code".into(),
        platform_value: "(none)".into(),
        qbo_value: code["Id"].as_str().unwrap().into(),
    };
    setup.connector.set_lookup("Books", row).unwrap();
    let mut spec = setup.connector.spec("Books").unwrap();
    let given = r#"(if .TaxCode then {value: lookup_or("tax_code"; .TaxCode; .TaxCode)} else null end)"#;
    let defaulted = r#"{value: lookup_or("tax_code"; (.TaxCode // "(none)"); .TaxCode)}"#;
    let mut changed = 0;
    for module in ["Invoices", "Orders"] {
        let methods = &mut spec.module_mut(module).unwrap().methods;
        for rule in methods.push_create.rules.iter_mut().chain(methods.push_update.rules.iter_mut()) {
            if rule.expr.contains(given) {
                rule.expr = rule.expr.replace(given, defaulted);
                changed += 1;
            }
        }
    }
    assert_eq!(changed, 4, "the built-in line rules changed shape");
    setup.connector.save_spec("Books", &spec).unwrap();
}

/// Customers made in QuickBooks, named `Made In QuickBooks NN`, for a write-back to carry.
async fn customers_in_quickbooks(setup: &Setup, count: usize) {
    let client = setup.connector.qbo_client("Books").await.unwrap();
    for n in 0..count {
        let body = json!({"DisplayName": format!("Made In QuickBooks {n:02}"), "PrimaryEmailAddr": {"Address": format!("qb{n}@made.example")}});
        client.create_json("Customer", &body, &qbo::RequestId::new()).await.unwrap();
    }
}

/// Each account name on the platform, with how many accounts carry it.
fn platform_names(bss: &BssSandbox) -> BTreeMap<String, usize> {
    let mut names = BTreeMap::new();
    for account in bss.list(Kind::Accounts) {
        *names.entry(account["name"].as_str().unwrap_or_default().to_owned()).or_insert(0) += 1;
    }
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn platform_faults_leave_no_duplicate_and_lose_nothing() {
    let setup = setup(seed::US_REALM).await;
    let faults = bss_sandbox::Faults {
        server_error_rate: 0.10,
        rate_limited_rate: 0.05,
        drop_after_commit_rate: 0.02,
        retry_after_secs: 1,
        ..Default::default()
    };
    let bss = BssSandbox::start(BssConfig { time_scale: 0.0, seed: 17, faults, ..BssConfig::default() }).await.unwrap();
    for n in 0..30 {
        bss.create(Kind::Accounts, &json!({"name": format!("Made On The Platform {n:02}")})).unwrap();
    }
    customers_in_quickbooks(&setup, 60).await;
    link_to(&setup, &bss);

    // A record a fault stopped is tried again by the next run; a few runs finish everything.
    let mut runs = 0;
    loop {
        runs += 1;
        let run = sync(&setup, Direction::Sync).await;
        if run.outcome == RunOutcome::Succeeded {
            break;
        }
        assert!(runs < 6, "still failing after {runs} runs: {:#?}", problems(&setup, &run));
    }
    let state = bss.state();
    assert!(
        state.faults_injected.server_errors > 0 && state.faults_injected.rate_limited > 0,
        "the faults happened: {state:?}"
    );
    assert!(state.faults_injected.dropped_after_commit > 0, "an answer was lost after a commit: {state:?}");

    let names = platform_names(&bss);
    let twins: Vec<_> = names.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twins.is_empty(), "created twice on the platform: {twins:?}");
    for n in 0..60 {
        assert!(names.contains_key(&format!("Made In QuickBooks {n:02}")), "customer {n} reached the platform");
    }
    let customers = setup.sandbox.entities(seed::US_REALM, EntityKind::Customer);
    for n in 0..30 {
        let name = format!("Made On The Platform {n:02}");
        assert_eq!(
            customers.iter().filter(|c| c["DisplayName"] == name.as_str()).count(),
            1,
            "{name} in QuickBooks once"
        );
    }
    // Every link names the platform record of its own record.
    let links: Vec<(String, String)> = {
        let connection = setup.connector.store().connection();
        let mut statement =
            connection.prepare("SELECT local_id, remote_id FROM platform_remote WHERE module = 'Accounts'").unwrap();
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert_eq!(links.len(), bss.count(Kind::Accounts), "every platform account is linked, once");
    for (local_id, remote_id) in links {
        let here = setup.connector.record(Module::Accounts, &local_id).unwrap();
        let there = bss.get(Kind::Accounts, &remote_id).unwrap();
        assert_eq!(here.data["Name"], there["name"], "{local_id} ↔ {remote_id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_platform_token_is_renewed_mid_run_and_a_wrong_password_stops_the_run() {
    let setup = setup(seed::US_REALM).await;
    let bss = bss().await;
    customers_in_quickbooks(&setup, 5).await;
    link_to(&setup, &bss);
    let signed_in = std::sync::atomic::AtomicBool::new(false);
    let expire_once = |progress: connector::sync::Progress| {
        if progress.phase == connector::sync::Phase::WriteBack
            && !signed_in.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            bss.expire_tokens();
        }
    };
    let tokens_before = bss.tokens_issued();
    let watch = connector::api::RunWatch { cancel: None, progress: Some(&expire_once) };
    let kind = connector::api::RunKind::Sync {
        direction: Direction::Sync,
        modules: None,
        trigger: connector::sync::Trigger::Cli,
    };
    let run = setup.connector.run("Books", kind, watch).await.unwrap();
    assert!(signed_in.load(std::sync::atomic::Ordering::SeqCst), "the tokens were expired during the write-back");
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    assert_eq!(bss.tokens_issued(), tokens_before + 2, "signed in at the start and again once the token was refused");
    assert_eq!(platform_names(&bss).keys().filter(|n| n.starts_with("Made In QuickBooks")).count(), 5);

    bss.set_password("changed-by-the-admin");
    bss.expire_tokens();
    let error = setup
        .connector
        .sync(
            "Books",
            connector::sync::SyncRequest {
                direction: Direction::Sync,
                modules: None,
                trigger: connector::sync::Trigger::Cli,
                cancel: None,
                progress: None,
                only: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, connector::error::ErrorCode::PlatformSignIn);
    assert_eq!(error.message, "interworks.cloud BSS refused the sign-in: the user name or password is wrong");
    let last = setup.connector.runs("Books", 1).unwrap();
    assert_eq!(last[0].outcome, Some(RunOutcome::Failed));
}

/// Ledgerline, a platform shaped unlike the BSS on every axis (next links, PATCH with
/// If-Match, snake_case, string ids, an API key, a filter by update time, lookup by key),
/// goes through the same loop with nothing but its profile.
#[tokio::test(flavor = "multi_thread")]
async fn a_differently_shaped_platform_passes_the_same_loop_by_its_profile_alone() {
    use rest_sandbox::{Kind as LedgerKind, RestConfig, RestSandbox};
    let setup = setup(seed::UK_REALM).await;
    let ledger = RestSandbox::start(RestConfig { page_size: 50, ..RestConfig::default() }).await.unwrap();
    ledger.seed(84).unwrap();
    // Every seeded account is billed; QuickBooks only lets an account with no open balance go.
    let unbilled = ledger.create(LedgerKind::Accounts, &json!({"display_name": "Unbilled Traders"})).unwrap();
    link_to_ledgerline(&setup, &ledger);
    tax_every_line(&setup, seed::UK_REALM, "20.0% S");

    let run = sync(&setup, Direction::Sync).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    assert_eq!(ops(&setup, run.run_id, RecordOp::MirrorCreate), 6 * 84 + 1);
    assert!(setup.sandbox.count(seed::UK_REALM, EntityKind::Invoice) >= 84);
    let written = ops(&setup, run.run_id, RecordOp::WriteCreate);
    assert!(written > 0, "the company's own customers and items went to Ledgerline");

    ledger.advance_clock(Duration::from_secs(60));
    let quiet = sync(&setup, Direction::Sync).await;
    assert!(quiet.counts.values().all(|c| c.ok == 0), "{:#?}", connector_outcomes(&setup, quiet.run_id));

    // QuickBooks → Ledgerline by PATCH with If-Match; Ledgerline → QuickBooks by its filter.
    let account_id = unbilled["id"].as_str().unwrap().to_owned();
    let qbo_id: String = {
        let connection = setup.connector.store().connection();
        let sql = "SELECT qbo_id FROM link WHERE module = 'Accounts' AND platform_id = ?1";
        connection.query_row(sql, [&account_id], |row| row.get(0)).unwrap()
    };
    let client = setup.connector.qbo_client("Books").await.unwrap();
    let customer = client.read_json("Customer", &qbo_id).await.unwrap();
    client
        .update_json("Customer", &json!({"Id": qbo_id, "SyncToken": customer["SyncToken"], "PrimaryPhone": {"FreeFormNumber": "+61 3 9000 0042"}}), true, &qbo::RequestId::new())
        .await
        .unwrap();
    let etag_before = ledger.etag(LedgerKind::Accounts, &account_id).unwrap();
    ledger.advance_clock(Duration::from_secs(60));
    let run = sync(&setup, Direction::Sync).await;
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
    assert_eq!(ledger.get(LedgerKind::Accounts, &account_id).unwrap()["phone"], "+61 3 9000 0042");
    assert_ne!(ledger.etag(LedgerKind::Accounts, &account_id).unwrap(), etag_before);

    ledger.advance_clock(Duration::from_secs(60));
    ledger.update(LedgerKind::Accounts, &account_id, &json!({"email_address": "accounts@ledger.example"})).unwrap();
    ledger.advance_clock(Duration::from_secs(60));
    let run = sync(&setup, Direction::Sync).await;
    assert_eq!(ops(&setup, run.run_id, RecordOp::MirrorUpdate), 1, "{:#?}", connector_outcomes(&setup, run.run_id));
    let customer = client.read_json("Customer", &qbo_id).await.unwrap();
    assert_eq!(customer["PrimaryEmailAddr"]["Address"], "accounts@ledger.example");

    ledger.delete(LedgerKind::Accounts, &account_id).unwrap();
    read_everything_finds_one_delete(&setup).await;
    sync(&setup, Direction::Sync).await;
    assert_eq!(client.read_json("Customer", &qbo_id).await.unwrap()["Active"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watched_folder_feeds_quickbooks_and_receives_what_was_pulled() {
    let setup = setup(seed::US_REALM).await;
    let folder = tempfile::tempdir().unwrap();
    let link = PlatformLink::Folder { path: folder.path().display().to_string() };
    setup.connector.set_platform_link("Books", &link, &BTreeMap::new()).unwrap();
    let inbox = folder.path().join("inbox");
    std::fs::write(inbox.join("accounts-2026-12-01.csv"), "Id,Name,CorpEmail\nF-1,Folder Farms,farm@folder.example\n")
        .unwrap();
    std::fs::write(inbox.join("Products.csv"), "Id,Name,Price\nF-P1,Hay bale,not a price\n").unwrap();

    let run = sync(&setup, Direction::Sync).await;
    assert_eq!(run.outcome, RunOutcome::FailedRecords, "the refused file is a failure of the run");
    let problems = problems(&setup, &run);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with("Products Products.csv mirror_create: refused (1 problem"), "{}", problems[0]);
    assert!(folder.path().join("rejected/Products.csv.report.txt").exists());
    assert!(folder.path().join("imported/accounts-2026-12-01.csv").exists());
    let customers = setup.sandbox.entities(seed::US_REALM, EntityKind::Customer);
    assert!(customers.iter().any(|c| c["DisplayName"] == "Folder Farms"), "the folder's account is in QuickBooks");

    // The company's own customers were pulled, and are in the outbox for the platform to read.
    let outbox: Vec<String> = std::fs::read_dir(folder.path().join("outbox"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let accounts_file = outbox.iter().find(|name| name.starts_with("Accounts-") && name.ends_with(".csv")).unwrap();
    let written = std::fs::read_to_string(folder.path().join("outbox").join(accounts_file)).unwrap();
    assert!(!written.contains("Folder Farms"), "what the folder sent is not sent back to it");
    let pulled = setup.connector.records(Module::Accounts, "", 0, 100).unwrap();
    let pulled_name = pulled.iter().find(|r| r.id != "F-1").unwrap().data["Name"].as_str().unwrap().to_owned();
    assert!(written.contains(&pulled_name), "{written}");

    let quiet = sync(&setup, Direction::Sync).await;
    assert_eq!(quiet.outcome, RunOutcome::Succeeded, "{:#?}", connector_outcomes(&setup, quiet.run_id));
    assert_eq!(std::fs::read_dir(folder.path().join("outbox")).unwrap().count(), outbox.len(), "nothing new to write");
}

/// Ledgerline's `updated_after` is strict and its clock stands still between a test's
/// advances: a change stamped with the very instant of the newest record read last time
/// must still be read.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_stamped_at_the_instant_of_the_last_read_is_not_missed() {
    use rest_sandbox::{Kind as LedgerKind, RestConfig, RestSandbox};
    let setup = setup(seed::US_REALM).await;
    let ledger = RestSandbox::start(RestConfig::default()).await.unwrap();
    let made = ledger.create(LedgerKind::Accounts, &json!({"display_name": "Same Instant Ltd"})).unwrap();
    link_to_ledgerline(&setup, &ledger);
    let first = sync(&setup, Direction::Sync).await;
    assert_eq!(first.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &first));

    let id = made["id"].as_str().unwrap();
    ledger.update(LedgerKind::Accounts, id, &json!({"email_address": "same@instant.example"})).unwrap();
    assert_eq!(ledger.get(LedgerKind::Accounts, id).unwrap()["updated_at"], made["updated_at"], "the same instant");
    let run = sync(&setup, Direction::Sync).await;
    assert_eq!(ops(&setup, run.run_id, RecordOp::MirrorUpdate), 1, "{:#?}", connector_outcomes(&setup, run.run_id));
    assert_eq!(setup.connector.record(Module::Accounts, id).unwrap().data["CorpEmail"], "same@instant.example");
}

/// A whole read of the platform, which must find exactly one record gone there.
async fn read_everything_finds_one_delete(setup: &Setup) {
    let read = read_whole(setup).await;
    assert_eq!(ops(setup, read.run_id, RecordOp::MirrorDelete), 1, "{:#?}", connector_outcomes(setup, read.run_id));
}

/// A whole read of the platform into the store.
async fn read_whole(setup: &Setup) -> connector::sync::RunSummary {
    let kind = connector::api::RunKind::ReadPlatform { whole: true, trigger: connector::sync::Trigger::Cli };
    setup.connector.run("Books", kind, Default::default()).await.unwrap()
}

/// The app's demo keeps its BSS sandbox in a file and starts it on a new port each launch:
/// linked again there, the instance meets its records as the ones it knows, not as new.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_sandbox_back_on_another_port_is_the_same_platform() {
    use connector::api::demo::start_bss_sandbox;
    let setup = setup(seed::US_REALM).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo-bss.json");

    let first = start_bss_sandbox(Some(file.clone())).await.unwrap();
    let made = first.count(Kind::Accounts);
    assert!(made > 0, "the demo records are made into an empty sandbox");
    let first_address = setup.connector.link_demo_platform("Books", &first).unwrap().address.unwrap();
    let read = read_whole(&setup).await;
    assert_eq!(
        ops(&setup, read.run_id, RecordOp::MirrorCreate),
        setup.connector.platform_link("Books").unwrap().linked_records
    );
    let records = setup.connector.records_page(Module::Accounts, "", 0, 100).unwrap().total;
    first.shutdown().await;

    let again = start_bss_sandbox(Some(file)).await.unwrap();
    assert_eq!(again.count(Kind::Accounts), made, "the kept store is not given the demo records twice");
    let view = setup.connector.link_demo_platform("Books", &again).unwrap();
    assert_ne!(view.address.as_deref(), Some(first_address.as_str()), "a new port");
    assert!(view.linked_records > 0, "the links moved to the new address");
    assert!(view.cursors.keys().any(|name| name == "read:Accounts"), "and so did the cursors: {:?}", view.cursors);
    let read = read_whole(&setup).await;
    assert_eq!(read.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &read));
    for op in [RecordOp::MirrorCreate, RecordOp::MirrorDelete] {
        assert_eq!(ops(&setup, read.run_id, op), 0, "{op:?}: {:#?}", connector_outcomes(&setup, read.run_id));
    }
    assert_eq!(setup.connector.records_page(Module::Accounts, "", 0, 100).unwrap().total, records);
}
