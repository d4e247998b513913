//! Seeded faults and the per-token rate limit, over HTTP.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod common;

use std::time::Duration;

use bss_sandbox::{BssConfig, Faults, Kind};
use common::{message, stopped_clock, Bss};
use reqwest::Method;
use serde_json::json;

fn faulty(seed: u64) -> BssConfig {
    BssConfig {
        seed,
        faults: Faults {
            server_error_rate: 0.25,
            rate_limited_rate: 0.15,
            drop_after_commit_rate: 0.0,
            ..Faults::default()
        },
        ..stopped_clock()
    }
}

/// The statuses (and Retry-After headers) of 60 list requests.
async fn answers(config: BssConfig) -> Vec<(u16, Option<String>)> {
    let bss = Bss::start(config).await;
    let mut seen = Vec::new();
    for _ in 0..60 {
        let response = bss.send(Method::GET, "/api/accounts", None).await;
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        seen.push((response.status().as_u16(), retry_after));
    }
    let state = bss.sandbox.state();
    let injected = state.faults_injected;
    let failed = seen.iter().filter(|(status, _)| *status != 200).count() as u64;
    assert_eq!(injected.server_errors + injected.rate_limited, failed, "the admin counts every injected fault");
    seen
}

#[tokio::test]
async fn the_same_seed_gives_the_same_sequence_of_answers() {
    let first = answers(faulty(11)).await;
    let second = answers(faulty(11)).await;
    assert_eq!(first, second);
    for status in [200, 500, 503, 403] {
        assert!(first.iter().any(|(s, _)| *s == status), "{status} among {first:?}");
    }
    assert!(first.iter().filter(|(s, _)| *s == 403).all(|(_, retry)| retry.as_deref() == Some("5")));
    assert_ne!(first, answers(faulty(12)).await, "another seed, another sequence");
}

#[tokio::test]
async fn an_injected_fault_answers_a_json_message() {
    let config = BssConfig {
        faults: Faults { rate_limited_rate: 1.0, retry_after_secs: 30, ..Faults::default() },
        ..stopped_clock()
    };
    let bss = Bss::start(config).await;
    let response = bss.send(Method::GET, "/api/accounts", None).await;
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["retry-after"], "30");
    let (_, body) = common::json(response).await;
    assert_eq!(message(&body), "rate limit exceeded");
    bss.sandbox.set_faults(Faults { server_error_rate: 1.0, ..Faults::default() });
    let (status, body) = bss.get("/api/accounts").await;
    assert!([500, 503].contains(&status));
    message(&body);
}

#[tokio::test]
async fn a_write_dropped_after_commit_is_stored_though_the_client_hears_nothing() {
    let config = BssConfig { faults: Faults { drop_after_commit_rate: 1.0, ..Faults::default() }, ..stopped_clock() };
    let bss = Bss::start(config).await;
    let sent = bss
        .http
        .post(bss.url("/api/accounts"))
        .bearer_auth(&bss.token)
        .json(&json!({"name": "Lost answer"}))
        .send()
        .await;
    assert!(sent.is_err(), "no answer: {sent:?}");
    let stored = bss.sandbox.list(Kind::Accounts);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["name"], "Lost answer");
    // Reads are never dropped, so the client can find what it wrote.
    let (status, body) = bss.get("/api/accounts?sort=createdAt&order=desc&pageSize=1").await;
    assert_eq!((status, &body["data"][0]["name"]), (200, &json!("Lost answer")));
    let sent =
        bss.http.put(bss.url("/api/accounts/1")).bearer_auth(&bss.token).json(&json!({"name": "Renamed"})).send().await;
    assert!(sent.is_err());
    assert_eq!(bss.sandbox.get(Kind::Accounts, "1").unwrap()["name"], "Renamed");
    assert_eq!(bss.sandbox.state().faults_injected.dropped_after_commit, 2);
}

#[tokio::test]
async fn the_rate_limit_answers_403_with_retry_after_until_the_sandbox_minute_passes() {
    let bss = Bss::start(BssConfig { rate_limit_per_minute: 3, ..stopped_clock() }).await;
    for _ in 0..3 {
        assert_eq!(bss.get("/api/accounts").await.0, 200);
    }
    let refused = bss.send(Method::GET, "/api/accounts", None).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.headers()["retry-after"], "60");
    assert_eq!(message(&common::json(refused).await.1), "rate limit exceeded");

    bss.sandbox.advance_clock(Duration::from_secs(45));
    let refused = bss.send(Method::GET, "/api/accounts", None).await;
    assert_eq!((refused.status().as_u16(), &refused.headers()["retry-after"]), (403, &"15".parse().unwrap()));
    // Another token has its own window.
    let other = common::grant(&bss.sandbox, &bss.http).await;
    let answer = bss.http.get(bss.url("/api/accounts")).bearer_auth(other).send().await.unwrap();
    assert_eq!(answer.status(), 200);

    bss.sandbox.advance_clock(Duration::from_secs(15));
    assert_eq!(bss.get("/api/accounts").await.0, 200, "the minute has passed");
    assert_eq!(bss.sandbox.state().rate_limit_refusals, 2);
    assert_eq!(bss.sandbox.state().faults_injected.rate_limited, 0, "a real limit is not an injected fault");
}

#[tokio::test]
async fn retry_after_is_in_real_seconds_under_a_time_scale() {
    // At 6x a sandbox minute lasts ten real seconds: the client waits at most 10 s, not 60.
    let bss = Bss::start(BssConfig { rate_limit_per_minute: 1, time_scale: 6.0, ..BssConfig::default() }).await;
    assert_eq!(bss.get("/api/accounts").await.0, 200);
    let refused = bss.send(Method::GET, "/api/accounts", None).await;
    assert_eq!(refused.status(), 403);
    let seconds: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&seconds), "{seconds}");
}
