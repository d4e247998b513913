//! Pushes killed with SIGKILL at seeded moments and pushed again to the end: creates leave
//! exactly one QuickBooks record per platform record; updates and deletes arrive once each,
//! hold no false conflict and lose nothing, with and without answers dropped after commit.
//! Needs a Secret Service.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use connector::api::Connector;
use connector::platform::Module;
use connector::sync::RunOutcome;
use qbo_sandbox::{seed, EntityKind, FaultInjection, Limits, RegisteredApp, Sandbox, SandboxConfig};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

mod support;

use support::{killed_when, to_the_end};

async fn sandbox(drop_after_commit_rate: f64) -> Sandbox {
    let config = SandboxConfig {
        limits: Limits { enabled: false, ..Limits::default() },
        faults: FaultInjection { seed: 11, drop_after_commit_rate, ..FaultInjection::default() },
        ..SandboxConfig::auto_approving(seed::US_REALM)
    };
    Sandbox::start(config).await.unwrap()
}

/// An instance "Books" connected to the sandbox's US company, with `accounts` imported.
async fn books(sandbox: &Sandbox, dir: &Path, accounts: Vec<Value>) {
    let connector = Connector::open(dir).unwrap();
    let app = RegisteredApp::named("Crash", "https://relay.example/cb");
    connector.connect_to_sandbox("Books", sandbox, app).await.unwrap();
    if !accounts.is_empty() {
        connector.import_json(&json!({"format": 1, "Accounts": accounts})).unwrap();
    }
}

/// Batch calls (writes and match look-ups alike) and single writes the sandbox has had.
fn writing_calls(sandbox: &Sandbox) -> usize {
    let writes = ["batch", "write ", "update ", "delete "];
    sandbox.requests().iter().filter(|r| writes.iter().any(|w| r.operation.starts_with(w))).count()
}

/// A push killed once the sandbox has had `further` more writing calls.
async fn push_killed_after(sandbox: &Sandbox, dir: &Path, further: usize) {
    let kill_after = writing_calls(sandbox) + further;
    killed_when(dir, &["push", "Books"], || writing_calls(sandbox) >= kill_after).await;
}

fn push_to_the_end(dir: &Path) -> Output {
    to_the_end(dir, &["push", "Books"])
}

/// The sandbox's customers made by this test, by display name.
fn customers_named(sandbox: &Sandbox, prefix: &str) -> BTreeMap<String, Vec<Value>> {
    let mut by_name: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for customer in sandbox.entities(seed::US_REALM, EntityKind::Customer) {
        if let Some(name) = customer["DisplayName"].as_str().filter(|n| n.starts_with(prefix)) {
            by_name.entry(name.to_owned()).or_default().push(customer.clone());
        }
    }
    by_name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_killed_ten_times_creates_each_record_exactly_once() {
    const RECORDS: usize = 3000;
    let sandbox = sandbox(0.0).await;
    let dir = tempfile::tempdir().unwrap();
    let accounts = (0..RECORDS).map(|n| json!({"Id": format!("CR-{n:05}"), "Name": format!("Crash Test {n:05}")}));
    books(&sandbox, dir.path(), accounts.collect()).await;
    let before = sandbox.count(seed::US_REALM, EntityKind::Customer);

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    for _ in 0..10 {
        push_killed_after(&sandbox, dir.path(), rng.random_range(1..=12)).await;
    }
    let finish = push_to_the_end(dir.path());
    assert!(finish.status.success(), "{}", String::from_utf8_lossy(&finish.stderr));

    let by_name = customers_named(&sandbox, "Crash Test");
    let twins: Vec<&String> = by_name.iter().filter(|(_, found)| found.len() > 1).map(|(name, _)| name).collect();
    assert!(twins.is_empty(), "created twice: {twins:?}");
    assert_eq!(by_name.len(), RECORDS, "every record is in QuickBooks");
    assert_eq!(sandbox.count(seed::US_REALM, EntityKind::Customer), before + RECORDS);

    let connector = Connector::open(dir.path()).unwrap();
    let links = connector.links("Books", "Accounts").unwrap();
    assert_eq!(links.len(), RECORDS);
    for link in links {
        let name =
            connector.record(Module::Accounts, &link.platform_id).unwrap().data["Name"].as_str().unwrap().to_owned();
        assert_eq!(
            by_name[&name][0]["Id"],
            json!(link.qbo_id),
            "{} is linked to its own QuickBooks record",
            link.platform_id
        );
    }
}

/// 1,000 accounts in QuickBooks; then every phone changes here but for a tenth of the
/// accounts, which are deleted here; the push of that is killed three times and pushed again
/// to the end. QuickBooks must end with each change applied exactly once (the SyncToken moved
/// by one), no conflict held (both sides agree on every record), nothing lost.
async fn updates_and_deletes_survive_kills(drop_after_commit_rate: f64, seed: u64) {
    const RECORDS: usize = 1000;
    let sandbox = sandbox(drop_after_commit_rate).await;
    let dir = tempfile::tempdir().unwrap();
    let accounts = (0..RECORDS)
        .map(|n| json!({"Id": format!("UP-{n:04}"), "Name": format!("Update Test {n:04}"), "Phone": "555-0100"}));
    books(&sandbox, dir.path(), accounts.collect()).await;
    let first = push_to_the_end(dir.path());
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    // By QuickBooks id: a deactivated customer's name gains " (deleted)".
    let qbo_ids: BTreeMap<String, String> = {
        let connector = Connector::open(dir.path()).unwrap();
        connector.links("Books", "Accounts").unwrap().into_iter().map(|l| (l.platform_id, l.qbo_id)).collect()
    };
    assert_eq!(qbo_ids.len(), RECORDS);
    let customers = |sandbox: &Sandbox| -> BTreeMap<String, Value> {
        let all = sandbox.entities(seed::US_REALM, EntityKind::Customer);
        all.into_iter().map(|c| (c["Id"].as_str().unwrap().to_owned(), c)).collect()
    };
    let sync_token = |customer: &Value| -> u64 { customer["SyncToken"].as_str().unwrap().parse().unwrap() };
    let before = customers(&sandbox);
    let count_before = before.len();

    let deleted = |n: usize| n % 10 == 3;
    {
        let connector = Connector::open(dir.path()).unwrap();
        let changed: Vec<Value> = (0..RECORDS)
            .filter(|&n| !deleted(n))
            .map(|n| json!({"Id": format!("UP-{n:04}"), "Name": format!("Update Test {n:04}"), "Phone": format!("556-{n:04}")}))
            .collect();
        connector.import_json(&json!({"format": 1, "Accounts": changed})).unwrap();
        for n in (0..RECORDS).filter(|&n| deleted(n)) {
            connector.delete_record(Module::Accounts, &format!("UP-{n:04}")).unwrap();
        }
    }

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..3 {
        push_killed_after(&sandbox, dir.path(), rng.random_range(1..=6)).await;
    }
    let finish = push_to_the_end(dir.path());
    let stderr = String::from_utf8_lossy(&finish.stderr);
    assert!(finish.status.success(), "the last push ends with no record needing attention: {stderr}");

    let connector = Connector::open(dir.path()).unwrap();
    let conflicts = connector.conflicts("Books").unwrap();
    assert!(conflicts.is_empty(), "{} conflicts held where both sides agree", conflicts.len());
    let after = customers(&sandbox);
    assert_eq!(after.len(), count_before, "no customer was created");
    for n in 0..RECORDS {
        let platform_id = format!("UP-{n:04}");
        let qbo_id = &qbo_ids[&platform_id];
        let customer = &after[qbo_id];
        let written = sync_token(customer) - sync_token(&before[qbo_id]);
        assert_eq!(written, 1, "{platform_id} was written exactly once: {customer}");
        if deleted(n) {
            assert_eq!(customer["Active"], json!(false), "{platform_id} was deactivated");
        } else {
            assert_eq!(customer["PrimaryPhone"]["FreeFormNumber"], json!(format!("556-{n:04}")), "{platform_id}");
        }
    }
    let links = connector.links("Books", "Accounts").unwrap();
    assert_eq!(links.len(), (0..RECORDS).filter(|&n| !deleted(n)).count(), "a deleted record's link goes");
    for link in &links {
        let customer = &after[&link.qbo_id];
        assert_eq!(link.qbo_id, qbo_ids[&link.platform_id]);
        assert_eq!(
            link.sync_token.as_deref(),
            customer["SyncToken"].as_str(),
            "{}'s link knows the SyncToken",
            link.platform_id
        );
    }
    let runs = connector.runs("Books", 10).unwrap();
    let last = &runs[0];
    assert!(connector.run_records("Books", last.id, true).unwrap().is_empty(), "the last run has no problem left");
    for killed in &runs[1..4] {
        assert_eq!(killed.outcome, Some(RunOutcome::Interrupted), "a killed run is closed as interrupted");
        assert!(killed.finished_at.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_deletes_killed_three_times_arrive_once_with_no_false_conflict() {
    updates_and_deletes_survive_kills(0.0, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_deletes_killed_with_dropped_answers_arrive_once_with_no_false_conflict() {
    updates_and_deletes_survive_kills(0.05, 21).await;
}

/// 2,000 customers made in QuickBooks; a pull of them killed three times (mid-transaction,
/// at seeded counts of stored records) and pulled again to the end: each arrives here exactly
/// once, linked to its own QuickBooks id, and nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_killed_three_times_stores_each_record_exactly_once() {
    const RECORDS: usize = 2000;
    let sandbox = sandbox(0.0).await;
    let dir = tempfile::tempdir().unwrap();
    books(&sandbox, dir.path(), Vec::new()).await;
    let client = Connector::open(dir.path()).unwrap().qbo_client("Books").await.unwrap();
    let names: Vec<String> = (0..RECORDS).map(|n| format!("Pulled Customer {n:05}")).collect();
    for chunk in names.chunks(qbo::client::BATCH_MAX) {
        let items: Vec<qbo::BatchItem> = chunk
            .iter()
            .map(|name| qbo::BatchItem::Create { entity: "Customer".into(), body: json!({"DisplayName": name}) })
            .collect();
        for result in client.batch(&items, &qbo::RequestId::new()).await.unwrap() {
            result.outcome.unwrap();
        }
    }
    let in_quickbooks: BTreeMap<String, String> = sandbox
        .entities(seed::US_REALM, EntityKind::Customer)
        .into_iter()
        .filter(|c| c["ParentRef"].is_null())
        .map(|c| (c["Id"].as_str().unwrap().to_owned(), c["DisplayName"].as_str().unwrap().to_owned()))
        .collect();

    let database = dir.path().join(connector::paths::DATABASE_FILE);
    let stored = || -> usize {
        let db = rusqlite::Connection::open(&database).unwrap();
        db.query_row("SELECT COUNT(*) FROM link WHERE module = 'Accounts'", [], |row| row.get::<_, i64>(0)).unwrap()
            as usize
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2027);
    for _ in 0..3 {
        let kill_at = stored() + rng.random_range(100..=500);
        killed_when(dir.path(), &["pull", "Books"], || stored() >= kill_at).await;
    }
    let finish = to_the_end(dir.path(), &["pull", "Books"]);
    assert!(finish.status.success(), "{}", String::from_utf8_lossy(&finish.stderr));

    let connector = Connector::open(dir.path()).unwrap();
    let links = connector.links("Books", "Accounts").unwrap();
    let mut names_here: BTreeMap<String, usize> = BTreeMap::new();
    for link in &links {
        let record = connector.record(Module::Accounts, &link.platform_id).unwrap();
        let name = record.data["Name"].as_str().unwrap().to_owned();
        assert_eq!(in_quickbooks.get(&link.qbo_id), Some(&name), "{} is linked to its own customer", link.platform_id);
        *names_here.entry(name).or_default() += 1;
    }
    let twice: Vec<&String> = names_here.iter().filter(|(_, n)| **n > 1).map(|(name, _)| name).collect();
    assert!(twice.is_empty(), "stored twice: {twice:?}");
    assert_eq!(links.len(), in_quickbooks.len(), "every customer arrived");
    assert_eq!(connector.records(Module::Accounts, "", 0, 1_000_000).unwrap().len(), in_quickbooks.len());
    let runs = connector.runs("Books", 4).unwrap();
    assert!(runs[1..].iter().all(|run| run.outcome == Some(RunOutcome::Interrupted)), "{runs:?}");
}
