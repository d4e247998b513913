//! The password grant and the bearer check, over HTTP.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod common;

use std::time::Duration;

use bss_sandbox::{BssConfig, BssSandbox, Faults, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, DEMO_USERNAME};
use common::{json, message, password_form, stopped_clock, token_request, Bss};
use reqwest::Client;

async fn sandbox(config: BssConfig) -> (BssSandbox, Client) {
    (BssSandbox::start(config).await.expect("the sandbox starts"), Client::new())
}

const DEMO: Option<(&str, &str)> = Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET));

#[tokio::test]
async fn a_password_grant_with_basic_client_auth_answers_a_bearer_token_that_works() {
    let (sandbox, http) = sandbox(BssConfig { token_lifetime_secs: 1800, ..stopped_clock() }).await;
    let (status, body) = token_request(&sandbox, &http, DEMO, &password_form()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 1800);
    let token = body["access_token"].as_str().unwrap();
    let answer = http.get(format!("{}/api/accounts", sandbox.base_url())).bearer_auth(token).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(sandbox.tokens_issued(), 1);
}

#[tokio::test]
async fn client_credentials_in_the_body_are_refused_even_beside_basic_auth() {
    let (sandbox, http) = sandbox(stopped_clock()).await;
    let mut form = password_form();
    form.extend([("client_id", DEMO_CLIENT_ID), ("client_secret", DEMO_CLIENT_SECRET)]);
    for basic in [None, DEMO] {
        let (status, body) = token_request(&sandbox, &http, basic, &form).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    }
    assert_eq!(sandbox.tokens_issued(), 0);
}

#[tokio::test]
async fn a_wrong_or_missing_client_is_401_invalid_client() {
    let (sandbox, http) = sandbox(stopped_clock()).await;
    for basic in [None, Some((DEMO_CLIENT_ID, "not-the-secret")), Some(("someone-else", DEMO_CLIENT_SECRET))] {
        let (status, body) = token_request(&sandbox, &http, basic, &password_form()).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{basic:?}: {body}");
    }
}

#[tokio::test]
async fn a_wrong_user_or_password_is_400_invalid_grant_and_a_new_password_takes_over() {
    let (sandbox, http) = sandbox(stopped_clock()).await;
    for form in [
        [("grant_type", "password"), ("username", DEMO_USERNAME), ("password", "guess")],
        [("grant_type", "password"), ("username", "nobody@demo.example"), ("password", DEMO_PASSWORD)],
    ] {
        let (status, body) = token_request(&sandbox, &http, DEMO, &form).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    }
    sandbox.set_password("changed");
    let (status, _) = token_request(&sandbox, &http, DEMO, &password_form()).await;
    assert_eq!(status, 400, "the old password no longer works");
    let form = [("grant_type", "password"), ("username", DEMO_USERNAME), ("password", "changed")];
    let (status, _) = token_request(&sandbox, &http, DEMO, &form).await;
    assert_eq!(status, 200);
    assert_eq!(sandbox.tokens_issued(), 1);
}

#[tokio::test]
async fn there_is_no_refresh_grant() {
    let (sandbox, http) = sandbox(stopped_clock()).await;
    let form = [("grant_type", "refresh_token"), ("refresh_token", "anything")];
    let (status, body) = token_request(&sandbox, &http, DEMO, &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")), "{body}");
}

#[tokio::test]
async fn a_token_expires_on_the_moved_sandbox_clock() {
    let bss = Bss::start(BssConfig { token_lifetime_secs: 600, ..stopped_clock() }).await;
    bss.sandbox.advance_clock(Duration::from_secs(599));
    assert_eq!(bss.get("/api/accounts").await.0, 200, "one second left");
    bss.sandbox.advance_clock(Duration::from_secs(1));
    let (status, body) = bss.get("/api/accounts").await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("expired"), "{body}");
    // The client's way back is a new password grant.
    let fresh = common::grant(&bss.sandbox, &bss.http).await;
    let answer = bss.http.get(bss.url("/api/accounts")).bearer_auth(fresh).send().await.unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn a_missing_unknown_or_force_expired_bearer_is_401_with_a_message() {
    let bss = Bss::start(stopped_clock()).await;
    let bare = bss.http.get(bss.url("/api/accounts")).send().await.unwrap();
    let (status, body) = json(bare).await;
    assert_eq!(status, 401);
    message(&body);
    let unknown = bss.http.get(bss.url("/api/accounts")).bearer_auth("made-up").send().await.unwrap();
    assert_eq!(unknown.status(), 401);
    assert_eq!(bss.get("/api/accounts").await.0, 200);
    bss.sandbox.expire_tokens();
    let (status, body) = bss.get("/api/accounts").await;
    assert_eq!(status, 401);
    message(&body);
}

#[tokio::test]
async fn faults_spare_the_token_endpoint_unless_configured() {
    let always_failing = Faults { server_error_rate: 1.0, ..Faults::default() };
    let (sandbox, http) = sandbox(BssConfig { faults: always_failing.clone(), ..stopped_clock() }).await;
    let (status, body) = token_request(&sandbox, &http, DEMO, &password_form()).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let api = http.get(format!("{}/api/accounts", sandbox.base_url())).bearer_auth(token).send().await.unwrap();
    assert!([500, 503].contains(&api.status().as_u16()));

    sandbox.set_faults(Faults { on_token_endpoint: true, ..always_failing });
    let (status, body) = token_request(&sandbox, &http, DEMO, &password_form()).await;
    assert!([500, 503].contains(&status), "{status} {body}");
    message(&body);
    assert_eq!(sandbox.tokens_issued(), 1);
}
