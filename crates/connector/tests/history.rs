//! History against qbo-sandbox: a run's records filtered by outcome, module and a name,
//! runs filtered by date and outcome, a record's trail through every run that touched it,
//! and a run's report as CSV read back by a CSV reader.
//! Needs a Secret Service (run under scripts/with-keyring.sh, as the test command does).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use connector::api::HistoryRecord;
use connector::error::ErrorCode;
use connector::platform::Module;
use connector::sync::store::{OutcomeFilter, RunFilter};
use connector::sync::{Direction, Outcome, RecordOp, RunOutcome};
use qbo_sandbox::seed;
use serde_json::json;

mod support;

use support::{problems, setup, sync};

/// (name, outcome) of each record a page lists, in its order.
fn listed(records: &[HistoryRecord]) -> Vec<(String, Outcome)> {
    records
        .iter()
        .map(|r| (r.name.clone().unwrap_or_else(|| format!("#{}", r.outcome.record_id)), r.outcome.outcome))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_filters_names_records_follows_a_trail_and_exports_csv() {
    let setup = setup(seed::US_REALM).await;
    let c = &setup.connector;

    // Run 1: two accounts sent, one refused by QuickBooks (a colon, and a comma and quotes
    // for the CSV), and a contact of the first.
    let alpha = c.create_record(Module::Accounts, json!({"Name": "Alpha Traders"})).unwrap();
    let bad_name = "Bad: \"Quoted\", Inc";
    let bad = c.create_record(Module::Accounts, json!({"Name": bad_name})).unwrap();
    let beta = c.create_record(Module::Accounts, json!({"Name": "Beta Goods"})).unwrap();
    let contact = c
        .create_record(Module::Contacts, json!({"AccountId": alpha.id, "FirstName": "Ann", "LastName": "Smith"}))
        .unwrap();
    let first = sync(&setup, Direction::Push).await;
    assert_eq!(first.outcome, RunOutcome::FailedRecords, "{:#?}", problems(&setup, &first));

    // Every record of the run, by name, in the order recorded.
    let all = c.history_records("Books", first.run_id, &OutcomeFilter::default(), 0, 100).unwrap();
    assert_eq!(all.total, 4, "{:#?}", all.records);
    let mut names = listed(&all.records);
    names.sort();
    assert_eq!(
        names,
        [
            ("Alpha Traders".to_owned(), Outcome::Ok),
            ("Ann Smith".to_owned(), Outcome::Ok),
            (bad_name.to_owned(), Outcome::Failed),
            ("Beta Goods".to_owned(), Outcome::Ok),
        ]
    );
    assert!(all.records.iter().all(|r| r.quickbooks_url.is_none()), "a local sandbox has no web app to open");

    // By outcome: exactly the refused one.
    let failed = OutcomeFilter { outcomes: vec![Outcome::Failed], ..OutcomeFilter::default() };
    let page = c.history_records("Books", first.run_id, &failed, 0, 100).unwrap();
    assert_eq!((page.total, listed(&page.records)), (1, vec![(bad_name.to_owned(), Outcome::Failed)]));
    assert_eq!(page.records[0].outcome.record_id, bad.id);
    // By module: exactly the contact.
    let contacts = OutcomeFilter { module: Some("Contacts".into()), ..OutcomeFilter::default() };
    let page = c.history_records("Books", first.run_id, &contacts, 0, 100).unwrap();
    assert_eq!((page.total, listed(&page.records)), (1, vec![("Ann Smith".to_owned(), Outcome::Ok)]));
    // By a part of the name, in any case, or of the id; with the other filters too.
    let search = |text: &str| OutcomeFilter { search: Some(text.into()), ..OutcomeFilter::default() };
    let page = c.history_records("Books", first.run_id, &search("GOODS"), 0, 100).unwrap();
    assert_eq!(listed(&page.records), [("Beta Goods".to_owned(), Outcome::Ok)]);
    let page = c.history_records("Books", first.run_id, &search(&contact.id), 0, 100).unwrap();
    assert_eq!(listed(&page.records), [("Ann Smith".to_owned(), Outcome::Ok)]);
    let ok_accounts_named_a =
        OutcomeFilter { outcomes: vec![Outcome::Ok], module: Some("Accounts".into()), search: Some("a".into()) };
    let page = c.history_records("Books", first.run_id, &ok_accounts_named_a, 0, 100).unwrap();
    let mut names = listed(&page.records);
    names.sort();
    assert_eq!(names, [("Alpha Traders".to_owned(), Outcome::Ok), ("Beta Goods".to_owned(), Outcome::Ok)]);
    // `%` and `_` in a search are themselves, not wildcards.
    assert_eq!(c.history_records("Books", first.run_id, &search("%"), 0, 100).unwrap().total, 0);
    // Paged: the total stays, the page is the slice.
    let page = c.history_records("Books", first.run_id, &OutcomeFilter::default(), 1, 2).unwrap();
    assert_eq!((page.total, page.records.len()), (4, 2));
    assert_eq!(page.records, all.records[1..3]);

    // Run 1's report (names are the records' names now, so before any is renamed): a header, a row per record, the message and the name quoted as RFC 4180
    // wants, so a CSV reader gives back exactly what the store holds.
    let text = c.run_report_csv("Books", first.run_id, &OutcomeFilter::default()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, connector::api::REPORT_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|row| row.len() == 10 && &row[0] == first.run_id.to_string().as_str()));
    let bad_row = rows.iter().find(|row| &row[2] == bad.id.as_str()).unwrap();
    let stored = &page_of_failed(c, first.run_id)[0];
    assert_eq!(&bad_row[3], bad_name);
    assert_eq!(&bad_row[5], "failed");
    assert_eq!(Some(&bad_row[8]), stored.outcome.message.as_deref());
    assert_eq!(Some(&bad_row[7]), stored.outcome.code.as_deref());
    assert!(bad_row[8].contains(','), "the message has a comma to quote: {}", &bad_row[8]);
    assert!(text.contains("\"Bad: \"\"Quoted\"\", Inc\""), "the name is quoted with its quotes doubled:\n{text}");
    assert!(text.starts_with("run,module,record,name,operation,outcome,quickbooks_id,code,message,intuit_tid\r\n"));
    // Only what a filter lets through, when one is given.
    let failures = c.run_report_csv("Books", first.run_id, &failed).unwrap();
    assert_eq!(csv::Reader::from_reader(failures.as_bytes()).records().count(), 1);
    assert_eq!(c.run_report_csv("Books", 999, &failed).unwrap_err().code, ErrorCode::NotFound);

    // Run 2: Alpha renamed and the refused one fixed; nothing fails.
    let record = c.record(Module::Accounts, &alpha.id).unwrap();
    c.update_record(Module::Accounts, &alpha.id, json!({"Name": "Alpha Traders Two"}), record.version).unwrap();
    let record = c.record(Module::Accounts, &bad.id).unwrap();
    c.update_record(Module::Accounts, &bad.id, json!({"Name": "Fixed Inc"}), record.version).unwrap();
    let second = sync(&setup, Direction::Push).await;
    assert_eq!(second.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &second));
    // Run 3 touches only Beta.
    let record = c.record(Module::Accounts, &beta.id).unwrap();
    c.update_record(Module::Accounts, &beta.id, json!({"Name": "Beta Goods Ltd"}), record.version).unwrap();
    let third = sync(&setup, Direction::Push).await;
    assert_eq!(third.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &third));

    // Alpha's trail: runs 2 and 1, newest first, with what each did; run 3 left it alone.
    let trail = c.record_trail("Books", "Accounts", &alpha.id).unwrap();
    assert_eq!(trail.name.as_deref(), Some("Alpha Traders Two"));
    assert_eq!(trail.entity, "Customer");
    let steps: Vec<(i64, RecordOp, Outcome)> = trail.runs.iter().map(|t| (t.run_id, t.operation, t.outcome)).collect();
    assert_eq!(steps, [(second.run_id, RecordOp::Update, Outcome::Ok), (first.run_id, RecordOp::Create, Outcome::Ok)]);
    assert!(trail.qbo_id.is_some() && trail.runs.iter().all(|t| t.qbo_id == trail.qbo_id), "{trail:#?}");
    assert_eq!(trail.quickbooks_url, None, "a local sandbox has no web app");
    let none = c.quickbooks_address("Books", "Accounts", trail.qbo_id.as_deref().unwrap()).unwrap_err();
    assert_eq!(none.code, ErrorCode::NotFound);
    // The refused one's trail keeps QuickBooks' words from run 1.
    let trail = c.record_trail("Books", "Accounts", &bad.id).unwrap();
    let steps: Vec<(i64, Outcome)> = trail.runs.iter().map(|t| (t.run_id, t.outcome)).collect();
    assert_eq!(steps, [(second.run_id, Outcome::Ok), (first.run_id, Outcome::Failed)]);
    assert!(trail.runs[1].message.as_deref().unwrap_or_default().contains("colon"), "{trail:#?}");
    assert_eq!(c.record_trail("Books", "Nowhere", &alpha.id).unwrap_err().code, ErrorCode::NotFound);

    // Against Intuit's sandbox, the trail and the rows open the customer there.
    let alpha_qbo = c.record_trail("Books", "Accounts", &alpha.id).unwrap().qbo_id.unwrap();
    let intuit = connector::api::InstanceChanges {
        environment: Some(connector::instance::Environment::Sandbox),
        ..Default::default()
    };
    c.update_instance("Books", intuit).unwrap();
    let wanted = format!("https://app.sandbox.qbo.intuit.com/app/customerdetail?nameId={alpha_qbo}");
    let trail = c.record_trail("Books", "Accounts", &alpha.id).unwrap();
    assert_eq!(trail.quickbooks_url.as_deref(), Some(wanted.as_str()));
    assert!(trail.runs.iter().all(|t| t.quickbooks_url.as_deref() == Some(wanted.as_str())), "{trail:#?}");
    assert_eq!(c.quickbooks_address("Books", "Accounts", &alpha_qbo).unwrap(), wanted);
    let search_alpha = OutcomeFilter { search: Some(alpha.id.clone()), ..OutcomeFilter::default() };
    let row = &c.history_records("Books", second.run_id, &search_alpha, 0, 1).unwrap().records[0];
    assert_eq!(row.quickbooks_url.as_deref(), Some(wanted.as_str()));

    // Runs by outcome, module and date.
    let ids = |filter: &RunFilter| -> Vec<i64> {
        c.history_runs("Books", filter, 0, 100).unwrap().runs.iter().map(|r| r.id).collect()
    };
    assert_eq!(ids(&RunFilter::default()), [third.run_id, second.run_id, first.run_id]);
    let with_failures = RunFilter { outcomes: vec![Outcome::Failed], ..RunFilter::default() };
    assert_eq!(ids(&with_failures), [first.run_id]);
    let ended_with_failures = RunFilter { run_outcomes: vec![RunOutcome::FailedRecords], ..RunFilter::default() };
    assert_eq!(ids(&ended_with_failures), [first.run_id]);
    let with_contacts = RunFilter { module: Some("Contacts".into()), ..RunFilter::default() };
    assert_eq!(ids(&with_contacts), [first.run_id]);
    let today = c.now().date_naive();
    let day = |offset: i64| (today + chrono::TimeDelta::days(offset)).to_string();
    let dated = |from: Option<String>, to: Option<String>| RunFilter { from, to, ..RunFilter::default() };
    assert_eq!(ids(&dated(Some(day(0)), Some(day(0)))).len(), 3, "today, both ends inclusive");
    assert_eq!(ids(&dated(Some(day(1)), None)), Vec::<i64>::new());
    assert_eq!(ids(&dated(None, Some(day(-1)))), Vec::<i64>::new());
    let page = c.history_runs("Books", &RunFilter::default(), 1, 1).unwrap();
    assert_eq!((page.total, page.runs.len(), page.runs[0].id), (3, 1, second.run_id));
    let refused = c.history_runs("Books", &dated(Some("last week".into()), None), 0, 10).unwrap_err();
    assert_eq!(refused.code, ErrorCode::Validation);

    // Run 1 counted: three accounts and a contact sent, one failed, nothing received.
    let counts = c.run_counts("Books", first.run_id).unwrap();
    assert_eq!((counts.sent, counts.received, counts.failed), (3, 0, 1), "{counts:?}");
}

fn page_of_failed(c: &connector::api::Connector, run: i64) -> Vec<HistoryRecord> {
    let failed = OutcomeFilter { outcomes: vec![Outcome::Failed], ..OutcomeFilter::default() };
    c.history_records("Books", run, &failed, 0, 10).unwrap().records
}
