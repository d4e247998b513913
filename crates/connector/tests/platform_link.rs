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
