//! A sandbox kept in a data file: stopped and started again on it, it is the same
//! platform — the same records under the same ids, the next ids after the last handed
//! out, and a clock that does not go back.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod common;

use std::path::PathBuf;
use std::time::Duration;

use bss_sandbox::{BssConfig, BssSandbox, Kind};
use common::{stopped_clock, Bss};
use serde_json::{json, Value};

/// A directory of the test's own, removed when it ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("bss-data-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn kept_in(file: &std::path::Path) -> BssConfig {
    BssConfig { data_file: Some(file.to_owned()), ..stopped_clock() }
}

fn everything(sandbox: &BssSandbox) -> Vec<Vec<Value>> {
    Kind::ALL.iter().map(|kind| sandbox.list(*kind)).collect()
}

#[tokio::test]
async fn a_sandbox_started_again_on_its_file_has_the_same_records_and_counts_on() {
    let scratch = Scratch::new("restart");
    let file = scratch.0.join("bss.json");

    // Records of every shape, made over HTTP (as a client does) and through the handle.
    let bss = Bss::start(kept_in(&file)).await;
    let (status, first) = bss.post("/api/accounts", &json!({"name": "Acme", "code": "AC-1"})).await;
    assert_eq!(status, 201, "{first}");
    let second = bss.sandbox.create(Kind::Accounts, &json!({"name": "Birch"})).unwrap();
    let third = bss.sandbox.create(Kind::Accounts, &json!({"name": "Cedar"})).unwrap();
    let product = bss.sandbox.create(Kind::Products, &json!({"name": "Seat", "unitPrice": "12.34567"})).unwrap();
    bss.sandbox.advance_clock(Duration::from_secs(60));
    let (status, invoice) = bss
        .post(
            "/api/invoices",
            &json!({"billingAccountId": second["id"], "date": "2026-11-02",
                    "lines": [{"product": {"id": product["id"]}, "quantity": 3, "unitPrice": "0.10"}],
                    "customValues": [{"name": "po", "value": "7"}]}),
        )
        .await;
    assert_eq!(status, 201, "{invoice}");
    // The newest account goes, so its id is known only to the counter; the product an
    // invoice line names goes too, which the live sandbox allows.
    bss.sandbox.delete(Kind::Accounts, &third["id"].to_string()).unwrap();
    bss.sandbox.delete(Kind::Products, product["id"].as_str().unwrap()).unwrap();
    let before = everything(&bss.sandbox);
    let last_time = bss.sandbox.now();
    bss.sandbox.shutdown().await;
    assert!(!scratch.0.join("bss.json.tmp").exists(), "no temporary file is left beside the data file");

    let again = Bss::start(kept_in(&file)).await;
    assert_eq!(everything(&again.sandbox), before, "the same records, field for field");
    let (status, read) = again.get(&format!("/api/invoices/{}", invoice["id"].as_str().unwrap())).await;
    assert_eq!((status, &read), (200, &invoice), "a record reads back as it was answered");
    assert!(again.sandbox.now() >= last_time, "the clock goes on from where it was");

    let (status, next) = again.post("/api/accounts", &json!({"name": "Dogwood"})).await;
    assert_eq!(status, 201, "{next}");
    assert_eq!(next["id"], 4, "ids go on after the last one handed out, deleted or not");
    assert!(next["createdAt"].as_str() >= first["updatedAt"].as_str());
    let (status, refused) = again.post("/api/accounts", &json!({"name": "Twin", "code": "AC-1"})).await;
    assert_eq!(status, 400, "codes stay unique across the restart: {refused}");
    let next_invoice =
        again.sandbox.create(Kind::Invoices, &json!({"billingAccountId": 1, "date": "2026-11-03"})).unwrap();
    assert_eq!(next_invoice["code"], "000002", "invoice numbers go on");
    let next_product = again.sandbox.create(Kind::Products, &json!({"name": "Desk"})).unwrap();
    assert_ne!(next_product["id"], product["id"], "a GUID is never handed out twice");
    assert_ne!(next_product["id"], invoice["id"]);
    again.sandbox.shutdown().await;

    // What the second run made is kept as well.
    let third_run = BssSandbox::start(kept_in(&file)).await.unwrap();
    assert_eq!(third_run.count(Kind::Accounts), 3);
    assert_eq!(third_run.get(Kind::Accounts, "4").unwrap()["name"], "Dogwood");
}

#[tokio::test]
async fn seeded_records_are_made_once_and_a_file_that_is_not_the_sandbox_s_is_refused() {
    let scratch = Scratch::new("seeded");
    let file = scratch.0.join("bss.json");
    let config = BssConfig { seed_records: 5, ..kept_in(&file) };
    let first = BssSandbox::start(config.clone()).await.unwrap();
    assert_eq!(first.count(Kind::Invoices), 5);
    first.shutdown().await;
    let second = BssSandbox::start(config).await.unwrap();
    assert_eq!(second.count(Kind::Invoices), 5, "a kept store is not seeded again");
    second.shutdown().await;

    std::fs::write(&file, "{\"format\": 1, \"tables\": ").unwrap();
    let error = BssSandbox::start(kept_in(&file)).await.err().expect("a broken file is refused");
    assert!(error.to_string().contains("bss.json"), "the error names the file: {error}");
}
