//! How often the session refreshes, counted by qbo-sandbox's token endpoint.
//!
//! The sandbox's clock is frozen and the session reads the same clock, so a token
//! ends at the same instant on both sides and time moves only when a test says so.
//! Tokens live in memory here (the keyring's part is in `auth.rs`, with the test of
//! two real processes).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::path::Path;
use std::sync::Arc;

use qbo::auth::{GrantKey, MemoryTokenStore, OAuthApp, OAuthEndpoints, Secret, Session, TokenGrant, TokenStore};
use qbo::{AccessTokens, Client, ClientConfig};
use qbo_sandbox::{seed, OAuthConfig, Sandbox, SandboxConfig, TokenSet, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

const LIFETIME: i64 = 5;

/// A sandbox whose access tokens live five seconds and whose refresh tokens rotate
/// on every refresh, so a refresh made from a stale grant fails instead of hiding.
async fn short_lived_sandbox() -> Sandbox {
    let sandbox = Sandbox::start(SandboxConfig {
        oauth: OAuthConfig { access_token_ttl_secs: LIFETIME, refresh_rotation_secs: 0, ..OAuthConfig::default() },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    sandbox.clock().freeze();
    sandbox
}

async fn demo_app(sandbox: &Sandbox) -> OAuthApp {
    let discovery = format!("{}/.well-known/openid_sandbox_configuration", sandbox.base_url()).parse().unwrap();
    OAuthApp {
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: Secret::new(DEMO_CLIENT_SECRET),
        redirect_uri: "http://localhost:8765/callback".into(),
        endpoints: OAuthEndpoints::discover(&discovery).await.unwrap(),
        http: None,
    }
}

/// The grant a code exchange at the sandbox's `now` would have stored.
fn grant_of(tokens: TokenSet, now: i64) -> TokenGrant {
    TokenGrant {
        realm_id: tokens.realm_id,
        access_token: Secret::new(tokens.access_token),
        refresh_token: Secret::new(tokens.refresh_token),
        access_issued_at: Some(now),
        access_expires_at: now + tokens.expires_in,
        refresh_expires_at: now + tokens.x_refresh_token_expires_in,
        refresh_hard_expires_at: None,
    }
}

/// A connected company: a grant in `store`, and the key it is under.
fn connect(sandbox: &Sandbox, store: &Arc<dyn TokenStore>) -> GrantKey {
    let key = GrantKey::new(format!("refresh-{}", uuid_like()), seed::US_REALM);
    let now = sandbox.clock().now_utc().timestamp();
    store.save(&key, &grant_of(sandbox.issue_tokens(DEMO_CLIENT_ID, seed::US_REALM), now)).unwrap();
    key
}

fn uuid_like() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string()
}

async fn session(sandbox: &Sandbox, key: &GrantKey, store: &Arc<dyn TokenStore>, lock_dir: &Path) -> Session {
    let clock = sandbox.clock();
    Session::new(key.clone(), demo_app(sandbox).await, store.clone(), lock_dir).with_clock(move || clock.now_utc())
}

fn client(sandbox: &Sandbox, session: Session) -> Client {
    Client::new(ClientConfig::custom(sandbox.base_url().parse().unwrap(), seed::US_REALM), Arc::new(session))
}

fn memory() -> Arc<dyn TokenStore> {
    Arc::new(MemoryTokenStore::default())
}

fn gateway_refusals(sandbox: &Sandbox) -> usize {
    sandbox.requests().iter().filter(|r| r.status == 401).count()
}

#[tokio::test]
async fn a_five_second_token_is_refreshed_once_per_lifetime_not_before_every_request() {
    let sandbox = short_lived_sandbox().await;
    let store = memory();
    let dir = tempfile::tempdir().unwrap();
    let key = connect(&sandbox, &store);
    let client = client(&sandbox, session(&sandbox, &key, &store, dir.path()).await);

    const SECONDS: i64 = 60;
    const PER_SECOND: usize = 5;
    for _ in 0..SECONDS {
        for _ in 0..PER_SECOND {
            client.read_json("CompanyInfo", seed::US_REALM).await.unwrap();
        }
        sandbox.advance_clock(1);
    }

    let refreshes = sandbox.token_counts().refresh_grants;
    let bound = (SECONDS / LIFETIME + 1) as u64;
    assert!(
        refreshes <= bound,
        "{refreshes} refreshes for {} requests over {SECONDS} s",
        SECONDS as usize * PER_SECOND
    );
    assert!(refreshes >= bound - 2, "the token was replaced as it ended ({refreshes} refreshes)");
    assert_eq!(sandbox.token_counts().access_tokens, refreshes + 1, "every access token came from a counted grant");
    assert_eq!(gateway_refusals(&sandbox), 0, "no request went out with an ended token");
}

#[tokio::test]
async fn twenty_tasks_on_an_ended_token_wait_for_one_refresh() {
    let sandbox = short_lived_sandbox().await;
    let store = memory();
    let dir = tempfile::tempdir().unwrap();
    let key = connect(&sandbox, &store);
    let client = client(&sandbox, session(&sandbox, &key, &store, dir.path()).await);
    client.read_json("CompanyInfo", seed::US_REALM).await.unwrap();

    sandbox.advance_clock(LIFETIME);
    let calls = (0..20).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.read_json("CompanyInfo", seed::US_REALM).await })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    assert_eq!(sandbox.token_counts().refresh_grants, 1, "the clock said ended: one refresh for all");
    assert_eq!(gateway_refusals(&sandbox), 0);

    // Ended by the gateway, unknown to the session: twenty 401s, still one refresh.
    sandbox.expire_access_tokens();
    let calls = (0..20).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.read_json("CompanyInfo", seed::US_REALM).await })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    assert_eq!(sandbox.token_counts().refresh_grants, 2, "the rejected token was replaced once");
}

#[tokio::test]
async fn two_sessions_sharing_only_the_store_and_lock_dir_refresh_once_between_them() {
    let sandbox = short_lived_sandbox().await;
    let store = memory();
    let dir = tempfile::tempdir().unwrap();
    let key = connect(&sandbox, &store);
    // Two values with their own remembered token: two processes as far as memory goes.
    let first = session(&sandbox, &key, &store, dir.path()).await;
    let second = session(&sandbox, &key, &store, dir.path()).await;
    let before = (first.access_token().await.unwrap(), second.access_token().await.unwrap());
    // Compared without printing: tokens stay out of test output too.
    assert!(before.0 == before.1);

    sandbox.advance_clock(LIFETIME);
    let (a, b) = tokio::join!(first.access_token(), second.access_token());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a == b, "the second found the first one's token in the store");
    assert!(a != before.0, "the ended token was replaced");
    assert_eq!(sandbox.token_counts().refresh_grants, 1);

    // Within the new lifetime neither refreshes again.
    sandbox.advance_clock(LIFETIME - 1);
    assert!(first.access_token().await.unwrap() == a && second.access_token().await.unwrap() == a);
    assert_eq!(sandbox.token_counts().refresh_grants, 1);
}
