//! Lists over HTTP: next links, `updated_after` and the key filter.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{error_code, ids, Ledger};
use rest_sandbox::{Kind, RestConfig};
use serde_json::json;

fn paged_by(page_size: usize) -> RestConfig {
    RestConfig { page_size, ..RestConfig::default() }
}

fn account(n: usize) -> serde_json::Value {
    json!({"display_name": format!("Account {n}"), "external_ref": format!("ACC-{n}")})
}

#[tokio::test]
async fn next_links_reach_every_row_exactly_once_whether_relative_or_absolute() {
    for absolute_next_links in [false, true] {
        let ledger = Ledger::start(RestConfig { absolute_next_links, ..paged_by(7) }).await;
        for n in 0..50 {
            ledger.sandbox.create(Kind::Accounts, &account(n)).unwrap();
        }
        let pages = ledger.every_page("/v1/accounts").await;
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(sizes, [7, 7, 7, 7, 7, 7, 7, 1], "no empty page at the end");
        let seen: Vec<String> = pages.iter().flat_map(|page| ids(page)).collect();
        let expected: Vec<String> = (1..=50).map(|n| format!("acct_{n:06}")).collect();
        assert_eq!(seen, expected);

        let (_, first) = ledger.get("/v1/accounts").await;
        let next = first["next"].as_str().unwrap();
        let origin = if absolute_next_links { ledger.sandbox.base_url() } else { "" };
        assert_eq!(next, format!("{origin}/v1/accounts?after=acct_000007"));
    }
}

#[tokio::test]
async fn rows_made_or_deleted_while_a_client_pages_neither_repeat_nor_hide_others() {
    let ledger = Ledger::start(paged_by(5)).await;
    for n in 0..12 {
        ledger.sandbox.create(Kind::Accounts, &account(n)).unwrap();
    }
    let (_, first) = ledger.get("/v1/accounts").await;
    ledger.sandbox.delete(Kind::Accounts, "acct_000002").unwrap();
    ledger.sandbox.delete(Kind::Accounts, "acct_000009").unwrap();
    ledger.sandbox.create(Kind::Accounts, &account(12)).unwrap();
    let rest = ledger.every_page(first["next"].as_str().unwrap()).await;
    let mut seen = ids(first["items"].as_array().unwrap());
    seen.extend(rest.iter().flat_map(|page| ids(page)));
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "{seen:?}");
    let expected: Vec<String> = (1..=13).filter(|n| *n != 9).map(|n| format!("acct_{n:06}")).collect();
    assert_eq!(seen, expected, "the row deleted before it was reached is gone, the new one is last");
}

#[tokio::test]
async fn updated_after_keeps_the_rows_changed_strictly_after_it_and_carries_into_next_links() {
    let ledger = Ledger::start(paged_by(2)).await;
    for n in 0..6 {
        ledger.sandbox.create(Kind::Accounts, &account(n)).unwrap();
    }
    let cursor = ledger.sandbox.get(Kind::Accounts, "acct_000006").unwrap()["updated_at"].as_str().unwrap().to_owned();
    assert_eq!(cursor, "2026-01-01T00:00:00.000Z", "the clock stands still until a test moves it");
    ledger.sandbox.advance_clock(Duration::from_millis(1));
    for id in ["acct_000005", "acct_000002", "acct_000004"] {
        ledger.sandbox.update(Kind::Accounts, id, &json!({"phone": "+1 555 0100"})).unwrap();
    }
    let path = format!("/v1/accounts?updated_after={}", cursor.replace(':', "%3A"));
    let pages = ledger.every_page(&path).await;
    let seen: Vec<String> = pages.iter().flat_map(|page| ids(page)).collect();
    assert_eq!(seen, ["acct_000002", "acct_000004", "acct_000005"]);
    assert_eq!(pages.len(), 2);
    let (_, first) = ledger.get(&path).await;
    assert!(first["next"].as_str().unwrap().contains("updated_after=2026-01-01T00%3A00%3A00.000Z"), "{first}");

    let later = ledger.get("/v1/accounts?updated_after=2026-01-01T00%3A00%3A00.001Z").await.1;
    assert_eq!(later["items"], json!([]), "strictly after: a row stamped at the instant is not in");
    let offset = ledger.every_page("/v1/accounts?updated_after=2026-01-01T01%3A00%3A00%2B01%3A00").await;
    assert_eq!(offset.concat().len(), 3, "an offset is an instant like any other");

    let (status, body) = ledger.get("/v1/accounts?updated_after=yesterday").await;
    assert_eq!((status, error_code(&body)), (400, "invalid_field"));
    assert_eq!(body["error"]["field"], "updated_after");
}

#[tokio::test]
async fn the_key_field_finds_one_record_or_none() {
    let ledger = Ledger::start(paged_by(3)).await;
    ledger.sandbox.seed(5).unwrap();
    let made = ledger.sandbox.create(Kind::Accounts, &account(77)).unwrap();
    let (status, found) = ledger.get("/v1/accounts?external_ref=ACC-77").await;
    assert_eq!(status, 200);
    assert_eq!(found, json!({"items": [made], "next": null}));
    let (_, invoices) = ledger.get("/v1/invoices?number=L-01003").await;
    assert_eq!(ids(invoices["items"].as_array().unwrap()), ["inv_000003"]);
    assert_eq!(ledger.get("/v1/accounts?external_ref=acc-77").await.1["items"], json!([]), "keys match exactly");
    let (status, body) = ledger.get("/v1/accounts?code=ACC-77").await;
    assert_eq!((status, error_code(&body), body["error"]["field"].as_str()), (400, "invalid_field", Some("code")));
}
