//! Seeded faults over HTTP: reproducible from the seed, in Ledgerline's error shape.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod common;

use common::{error_code, json, Ledger};
use reqwest::Method;
use rest_sandbox::{Faults, Kind, RestConfig};
use serde_json::json;

fn faulty(seed: u64) -> RestConfig {
    let faults = Faults { server_error_rate: 0.25, rate_limited_rate: 0.15, retry_after_secs: 7, ..Faults::default() };
    RestConfig { seed, faults, ..RestConfig::default() }
}

/// The status and Retry-After of 60 list calls, each error checked for its shape.
async fn answers(config: RestConfig) -> Vec<(u16, Option<String>)> {
    let ledger = Ledger::start(config).await;
    let mut seen = Vec::new();
    for _ in 0..60 {
        let response = ledger.request(Method::GET, "/v1/accounts").send().await.unwrap();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let (status, body) = json(response).await;
        match status {
            200 => {}
            429 => assert_eq!(error_code(&body), "rate_limited"),
            500 => assert_eq!(error_code(&body), "internal_error"),
            503 => assert_eq!(error_code(&body), "unavailable"),
            other => panic!("{other}: {body}"),
        }
        seen.push((status, retry_after));
    }
    let counts = ledger.sandbox.fault_counts();
    let failed = seen.iter().filter(|(status, _)| *status != 200).count() as u64;
    assert_eq!(counts.server_errors + counts.rate_limited, failed, "every injected fault is counted");
    assert_eq!(ledger.sandbox.requests_served(), 60);
    seen
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults_and_a_429_says_when_to_retry() {
    let first = answers(faulty(11)).await;
    assert_eq!(first, answers(faulty(11)).await);
    for status in [200, 429, 500, 503] {
        assert!(first.iter().any(|(s, _)| *s == status), "{status} among {first:?}");
    }
    for (status, retry_after) in &first {
        assert_eq!(retry_after.as_deref(), (*status == 429).then_some("7"), "{status}");
    }
    assert_ne!(first, answers(faulty(12)).await, "another seed, another sequence");
}

#[tokio::test]
async fn a_write_dropped_after_commit_is_stored_and_found_by_its_key() {
    let config =
        RestConfig { faults: Faults { drop_after_commit_rate: 1.0, ..Faults::default() }, ..RestConfig::default() };
    let ledger = Ledger::start(config).await;
    let sent = ledger
        .request(Method::POST, "/v1/accounts")
        .json(&json!({"display_name": "Lost", "external_ref": "ACC-9"}))
        .send()
        .await;
    assert!(sent.is_err(), "no answer: {sent:?}");
    assert_eq!(ledger.sandbox.count(Kind::Accounts), 1, "stored though unanswered");
    // Reads are never dropped, so a client finds what it wrote by its key.
    let (status, found) = ledger.get("/v1/accounts?external_ref=ACC-9").await;
    assert_eq!((status, found["items"][0]["id"].as_str()), (200, Some("acct_000001")));
    let again = ledger
        .request(Method::POST, "/v1/accounts")
        .json(&json!({"display_name": "Lost", "external_ref": "ACC-9"}))
        .send()
        .await;
    assert!(again.is_err());
    assert_eq!(ledger.sandbox.count(Kind::Accounts), 1, "sent again, the key stops a second record (409, unheard)");
    assert_eq!(ledger.sandbox.fault_counts().dropped_after_commit, 2);

    ledger.sandbox.set_faults(Faults::default()).unwrap();
    let (status, body) = ledger.post("/v1/accounts", &json!({"display_name": "Lost", "external_ref": "ACC-9"})).await;
    assert_eq!((status, error_code(&body)), (409, "duplicate_key"));
    assert!(ledger.sandbox.set_faults(Faults { server_error_rate: 1.5, ..Faults::default() }).is_err());
}
