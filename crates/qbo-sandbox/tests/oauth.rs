//! Intuit's OAuth over HTTP: discovery, the consent page with its company picker,
//! redirect URI checks, the token endpoint and the hard-expiry header.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use qbo_sandbox::{seed, RegisteredApp, Sandbox, SandboxConfig};
use reqwest::redirect::Policy;
use serde_json::Value;

const REDIRECT: &str = "http://localhost:9911/callback";

async fn sandbox() -> (Sandbox, reqwest::Client) {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    sandbox.register_app(RegisteredApp {
        name: "Consent Test".into(),
        client_id: "consent-client".into(),
        client_secret: "consent-secret".into(),
        redirect_uris: vec![REDIRECT.into()],
    });
    (sandbox, reqwest::Client::builder().redirect(Policy::none()).build().unwrap())
}

fn authorize_url(base: &str, redirect: &str, scope: &str) -> String {
    let mut url = url::Url::parse(&format!("{base}/connect/oauth2")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", "consent-client")
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("redirect_uri", redirect)
        .append_pair("state", "st-123");
    url.to_string()
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

#[tokio::test]
async fn discovery_points_at_the_sandbox_itself() {
    let (sandbox, http) = sandbox().await;
    let doc: Value = http
        .get(format!("{}/.well-known/openid_sandbox_configuration", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["token_endpoint"], format!("{}/oauth2/v1/tokens/bearer", sandbox.base_url()));
    assert_eq!(doc["revocation_endpoint"], format!("{}/v2/oauth2/tokens/revoke", sandbox.base_url()));
}

#[tokio::test]
async fn the_consent_page_lets_the_operator_pick_a_company_or_cancel() {
    let (sandbox, http) = sandbox().await;
    let page = http
        .get(authorize_url(sandbox.base_url(), REDIRECT, "com.intuit.quickbooks.accounting openid"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("value=\"{}\"", seed::UK_REALM)), "every company is offered");
    let nonce = html.split("name=\"nonce\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    let decision = |decision: &'static str, nonce: String| {
        let http = http.clone();
        let url = format!("{}/connect/oauth2/decision", sandbox.base_url());
        async move {
            http.post(url)
                .form(&[("nonce", nonce.as_str()), ("realm_id", seed::UK_REALM), ("decision", decision)])
                .send()
                .await
                .unwrap()
        }
    };
    let connected = decision("connect", nonce.clone()).await;
    assert_eq!(connected.status(), 303);
    let query = query_of(connected.headers()["location"].to_str().unwrap());
    assert_eq!(query["state"], "st-123");
    assert_eq!(query["realmId"], seed::UK_REALM);
    assert!(query["code"].len() > 20);
    assert_eq!(decision("connect", nonce).await.status(), 400, "a consent form is used once");

    let html = http
        .get(authorize_url(sandbox.base_url(), REDIRECT, "com.intuit.quickbooks.accounting"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let nonce = html.split("name=\"nonce\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let cancelled = decision("cancel", nonce).await;
    let query = query_of(cancelled.headers()["location"].to_str().unwrap());
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "st-123");

    // The code from the first consent exchanges for tokens, with the hard expiry when asked.
    let tokens: Value = http
        .post(format!("{}/oauth2/v1/tokens/bearer", sandbox.base_url()))
        .basic_auth("consent-client", Some("consent-secret"))
        .header("x-include-refresh-token-hard-expires-in", "true")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", query_of(connected.headers()["location"].to_str().unwrap())["code"].as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["token_type"], "bearer");
    assert!(tokens["x_refresh_token_hard_expires_in"].as_i64().unwrap() > 100_000_000);
    assert!(tokens["id_token"].is_string(), "openid was asked for");
}

#[tokio::test]
async fn redirect_uris_and_scopes_are_checked_as_intuit_checks_them() {
    let (sandbox, http) = sandbox().await;
    let unregistered = http
        .get(authorize_url(sandbox.base_url(), "http://localhost:9912/callback", "com.intuit.quickbooks.accounting"))
        .send()
        .await
        .unwrap();
    assert_eq!(unregistered.status(), 400, "no redirect to an unregistered URI");
    let custom = http
        .get(authorize_url(sandbox.base_url(), "qbconnector://oauth/callback", "com.intuit.quickbooks.accounting"))
        .send()
        .await
        .unwrap();
    assert_eq!(custom.status(), 400);
    let bad_scope = http.get(authorize_url(sandbox.base_url(), REDIRECT, "openid")).send().await.unwrap();
    assert_eq!(query_of(bad_scope.headers()["location"].to_str().unwrap())["error"], "invalid_scope");

    let wrong_secret = http
        .post(format!("{}/oauth2/v1/tokens/bearer", sandbox.base_url()))
        .basic_auth("consent-client", Some("nope"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status(), 401);
    let unknown = http
        .post(format!("{}/oauth2/v1/tokens/bearer", sandbox.base_url()))
        .basic_auth("consent-client", Some("consent-secret"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "not-a-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn the_token_endpoint_counts_the_refresh_grants_and_access_tokens_it_issues() {
    let (sandbox, http) = sandbox().await;
    let tokens = sandbox.issue_tokens("consent-client", seed::US_REALM);
    let refresh = |token: String| {
        let request = http
            .post(format!("{}/oauth2/v1/tokens/bearer", sandbox.base_url()))
            .basic_auth("consent-client", Some("consent-secret"))
            .form(&[("grant_type", "refresh_token".to_owned()), ("refresh_token", token)]);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(refresh(tokens.refresh_token.clone()).await, 200);
    assert_eq!(refresh(tokens.refresh_token.clone()).await, 200);
    assert_eq!(refresh("not-a-token".into()).await, 400, "a refused refresh is not counted");

    let counts = qbo_sandbox::TokenCounts { refresh_grants: 2, access_tokens: 3 };
    assert_eq!(sandbox.token_counts(), counts);
    let admin: qbo_sandbox::TokenCounts =
        http.get(format!("{}/admin/oauth/counts", sandbox.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(admin, counts, "the admin route tells other processes the same");
    sandbox.reset(true).unwrap();
    assert_eq!(sandbox.token_counts(), qbo_sandbox::TokenCounts::default());
}

#[tokio::test]
async fn auto_approval_connects_the_company_it_is_told_to_keeping_the_other_settings() {
    let (sandbox, http) = sandbox().await;
    let added = "9341453050000101";
    sandbox.add_company(seed::us_company(added, "Client 101", sandbox.clock().now_utc())).unwrap();
    sandbox.set_oauth_config(qbo_sandbox::OAuthConfig { access_token_ttl_secs: 1234, ..Default::default() });
    for realm in [added, seed::CA_REALM] {
        sandbox.auto_approve(realm);
        let answer = http
            .get(authorize_url(sandbox.base_url(), REDIRECT, "com.intuit.quickbooks.accounting"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303, "approved without a page");
        assert_eq!(query_of(answer.headers()["location"].to_str().unwrap())["realmId"], realm);
    }
    assert_eq!(sandbox_ttl(&http, &sandbox).await, 1234);
}

/// The access tokens' lifetime, as the admin surface reports the OAuth settings.
async fn sandbox_ttl(http: &reqwest::Client, sandbox: &Sandbox) -> Value {
    let config: Value =
        http.get(format!("{}/admin/oauth", sandbox.base_url())).send().await.unwrap().json().await.unwrap();
    config["access_token_ttl_secs"].clone()
}
