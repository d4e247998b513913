//! The first-sync checklist against a company: what the mappings need is offered as the
//! company's records by name, a push waits until the required ones are chosen, and a run's
//! problems say where each is fixed.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod support;

use connector::api::InstanceChanges;
use connector::error::ErrorCode;
use connector::sync::{Direction, ProblemFix, SyncRequest, Trigger};
use qbo_sandbox::{seed, EntityKind};
use support::setup;

fn push() -> SyncRequest<'static> {
    SyncRequest {
        direction: Direction::Push,
        modules: None,
        trigger: Trigger::Cli,
        cancel: None,
        progress: None,
        only: None,
    }
}

fn set_variable(connector: &connector::api::Connector, name: &str, value: &str) {
    let changes =
        InstanceChanges { variables: [(name.to_owned(), value.to_owned())].into(), ..InstanceChanges::default() };
    connector.update_instance("Books", changes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checklist_offers_the_company_by_name_and_a_push_waits_for_what_quickbooks_needs() {
    let setup = setup(seed::US_REALM).await;
    let connector = &setup.connector;
    connector.demo_records(7).unwrap();

    // Only income accounts, by name, for the income account of products.
    let offered = connector.company_records("Books", "Income Account").await.unwrap();
    let accounts = setup.sandbox.entities(seed::US_REALM, EntityKind::Account);
    let income: Vec<&str> = accounts
        .iter()
        .filter(|a| a["AccountType"] == "Income" && a["Active"] != false)
        .map(|a| a["Id"].as_str().unwrap())
        .collect();
    assert!(!offered.is_empty());
    assert_eq!(offered.len(), income.len(), "{offered:?}");
    assert!(offered.iter().all(|r| income.contains(&r.id.as_str()) && r.name != r.id));
    // The tax code lookup by name too: a US company's lines take TAX or NON. A currency is a
    // code, typed.
    let tax_codes = connector.lookup_records("Books", "tax_code").await.unwrap();
    let ids: Vec<&str> = tax_codes.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["NON", "TAX"], "{tax_codes:?}");
    let terms = connector.lookup_records("Books", "term").await.unwrap();
    assert!(!terms.is_empty() && terms.iter().all(|t| t.name != t.id), "{terms:?}");
    assert_eq!(connector.lookup_records("Books", "currency").await.unwrap_err().code, ErrorCode::Validation);

    // Unchosen: the checklist marks it missing and a push is refused with the reason, before
    // anything is sent.
    set_variable(connector, "Income Account", "");
    let setup_view = connector.setup("Books").unwrap();
    let missing: Vec<&str> = setup_view.missing().map(|c| c.variable.as_str()).collect();
    assert_eq!(missing, ["Income Account"]);
    assert_eq!(setup_view.first_sync, None);
    let requests = setup.sandbox.requests().len();
    let refused = connector.sync("Books", push()).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Validation);
    assert!(
        refused.message.starts_with("Products cannot be sent until \"Income Account\" is chosen"),
        "{}",
        refused.message
    );
    let writes = setup.sandbox.requests()[requests..].iter().filter(|r| !r.operation.starts_with("query")).count();
    assert_eq!(writes, 0, "nothing was sent");
    // A push of modules that do not need it still runs.
    let accounts_only = SyncRequest { modules: Some(vec!["Accounts".into()]), ..push() };
    connector.sync("Books", accounts_only).await.unwrap();

    // A vendor QuickBooks does not know: the run's problem says to choose it again.
    set_variable(connector, "Income Account", &offered[0].id);
    set_variable(connector, "Vendor ID", "999999");
    let run = connector.sync("Books", push()).await.unwrap();
    let problems = connector.run_problems("Books", run.run_id).unwrap();
    let orders = problems.iter().find(|p| p.module == "Orders").unwrap_or_else(|| panic!("{problems:?}"));
    assert_eq!(orders.fix, Some(ProblemFix::Choose { variable: "Vendor ID".into() }));
    assert!(connector.setup("Books").unwrap().first_sync.is_some(), "records were sent: the checklist is done");
}
