//! Connecting and staying connected, against qbo-sandbox's OAuth server, with tokens
//! in the real OS keyring. Run under `scripts/with-keyring.sh` (the test command does):
//! without a Secret Service these tests fail, they never fall back to memory.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;
use qbo::auth::{
    GrantKey, KeyringStore, LoopbackListener, OAuthApp, OAuthEndpoints, PendingAuthorizations, Secret, Session,
    TokenGrant, TokenStore, ACCOUNTING_SCOPE,
};
use qbo::{AccessTokens, AuthError, Client, ClientConfig};
use qbo_sandbox::{seed, OAuthConfig, RegisteredApp, Sandbox, SandboxConfig};
use serde_json::Value;

const CHILD_ENV: &str = "QBO_AUTH_CHILD";

fn auto_approving() -> SandboxConfig {
    SandboxConfig {
        oauth: OAuthConfig {
            auto_approve: Some(qbo_sandbox::oauth::AutoApprove { realm_id: Some(seed::US_REALM.into()), deny: false }),
            ..OAuthConfig::default()
        },
        ..SandboxConfig::default()
    }
}

fn keyring() -> Arc<dyn TokenStore> {
    Arc::new(KeyringStore::new("qbconnector-tests"))
}

fn unique(name: &str) -> String {
    format!("{name}-{}", uuid_like())
}

fn uuid_like() -> String {
    format!("{:x}", rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    hasher.finish()
}

async fn app_for(sandbox: &Sandbox, redirect_uri: &str) -> OAuthApp {
    let client_id = unique("app");
    sandbox.register_app(RegisteredApp {
        name: "Auth test".into(),
        client_id: client_id.clone(),
        client_secret: "s3cr3t-client".into(),
        redirect_uris: vec![redirect_uri.into()],
    });
    let discovery = format!("{}/.well-known/openid_sandbox_configuration", sandbox.base_url()).parse().unwrap();
    OAuthApp {
        client_id,
        client_secret: Secret::new("s3cr3t-client"),
        redirect_uri: redirect_uri.into(),
        endpoints: OAuthEndpoints::discover(&discovery).await.unwrap(),
        http: None,
    }
}

/// Opens the authorization URL as a browser would, following redirects to the listener.
async fn connect_by_loopback(sandbox: &Sandbox, instance: &str, lock_dir: &Path) -> (Session, OAuthApp) {
    let listener = LoopbackListener::bind("http://localhost:0/callback").await.unwrap();
    let app = app_for(sandbox, listener.redirect_uri()).await;
    let pending = PendingAuthorizations::new();
    let url = pending.authorization_url(&app, &[ACCOUNTING_SCOPE]);
    let waiting = tokio::spawn(listener.receive(Duration::from_secs(20)));
    let page = reqwest::get(url).await.unwrap();
    assert!(page.status().is_success());
    let callback_url = waiting.await.unwrap().unwrap();
    let (session, connection) =
        Session::connect(app.clone(), &pending, &callback_url, instance, keyring(), lock_dir).await.unwrap();
    assert_eq!(connection.realm_id, seed::US_REALM);
    assert!(
        connection.refresh_hard_expires_at.unwrap() > connection.refresh_expires_at,
        "the hard expiry was asked for and kept"
    );
    (session, app)
}

fn api_client(sandbox: &Sandbox, session: Session) -> Client {
    Client::new(ClientConfig::custom(sandbox.base_url().parse().unwrap(), seed::US_REALM), Arc::new(session))
}

#[tokio::test]
async fn connect_through_the_loopback_listener_and_use_the_api() {
    let sandbox = Sandbox::start(auto_approving()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (session, _) = connect_by_loopback(&sandbox, &unique("loopback"), dir.path()).await;
    let stored = keyring().load(session.key()).unwrap().expect("the grant is in the keyring");
    assert_eq!(stored.realm_id, seed::US_REALM);
    let client = api_client(&sandbox, session);
    let info: Value = client.read_json("CompanyInfo", seed::US_REALM).await.unwrap();
    assert!(info["CompanyName"].as_str().unwrap().contains("Larkspur"));
}

#[tokio::test]
async fn the_listener_takes_localhost_or_127_0_0_1_and_nothing_else() {
    for accepted in ["http://localhost:0/callback", "http://127.0.0.1:0/callback"] {
        let listener = LoopbackListener::bind(accepted).await.unwrap();
        let port = url::Url::parse(listener.redirect_uri()).unwrap().port().unwrap();
        assert_ne!(port, 0, "{accepted}: the real port is named");
        let callback = format!("http://127.0.0.1:{port}/callback?code=c&state=s&realmId=1");
        let waiting = tokio::spawn(listener.receive(Duration::from_secs(20)));
        assert!(reqwest::get(&callback).await.unwrap().status().is_success());
        assert!(waiting.await.unwrap().unwrap().ends_with("/callback?code=c&state=s&realmId=1"));
    }
    for refused in ["https://localhost:0/callback", "http://example.com:0/callback"] {
        assert!(LoopbackListener::bind(refused).await.is_err(), "{refused}");
    }
}

#[tokio::test]
async fn connect_through_a_deep_link_handed_over_by_the_relay_page() {
    let sandbox = Sandbox::start(auto_approving()).await.unwrap();
    let app = app_for(&sandbox, "https://relay.example/oauth-relay").await;
    let pending = PendingAuthorizations::new();
    let url = pending.authorization_url(&app, &[ACCOUNTING_SCOPE]);
    let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = no_follow.get(url).send().await.unwrap();
    let relay_url = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(relay_url.host_str(), Some("relay.example"));
    // What docs/oauth-relay.html does: the same query, on the app's deep link.
    let deep_link = format!("{}?{}", qbo::auth::DEEP_LINK_CALLBACK, relay_url.query().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let instance = unique("deeplink");
    let (session, connection) =
        Session::connect(app.clone(), &pending, &deep_link, &instance, keyring(), dir.path()).await.unwrap();
    assert_eq!(connection.realm_id, seed::US_REALM);
    assert!(matches!(
        Session::connect(app, &pending, &deep_link, &instance, keyring(), dir.path()).await,
        Err(qbo::auth::session::ConnectError::Callback(qbo::auth::CallbackError::ReusedState))
    ));
    session.disconnect().await.unwrap();
    assert!(keyring().load(session.key()).unwrap().is_none());
}

#[tokio::test]
async fn a_rotated_refresh_token_is_kept_and_a_lost_one_means_reconnect() {
    let sandbox = Sandbox::start(auto_approving()).await.unwrap();
    sandbox.set_oauth_config(OAuthConfig { refresh_rotation_secs: 0, ..auto_approving().oauth });
    let dir = tempfile::tempdir().unwrap();
    let (session, _) = connect_by_loopback(&sandbox, &unique("rotation"), dir.path()).await;
    let before = keyring().load(session.key()).unwrap().unwrap();
    let token = session.refresh_after_rejection(before.access_token.expose()).await.unwrap();
    let after = keyring().load(session.key()).unwrap().unwrap();
    assert_ne!(after.refresh_token, before.refresh_token, "rotated, and the new one was stored");
    assert_eq!(after.access_token.expose(), token);
    // Again across the next rotation: the stored token keeps working.
    session.refresh_after_rejection(&token).await.unwrap();

    // An operator restores an old backup of the keyring: the superseded token is refused.
    keyring().save(session.key(), &before).unwrap();
    let error = session.refresh_after_rejection(before.access_token.expose()).await.unwrap_err();
    assert!(matches!(error, AuthError::ReconnectRequired { .. }), "{error}");
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_call_goes_through() {
    let sandbox = Sandbox::start(auto_approving()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (session, _) = connect_by_loopback(&sandbox, &unique("expiry"), dir.path()).await;
    let key = session.key().clone();
    let client = api_client(&sandbox, session);
    let before = keyring().load(&key).unwrap().unwrap();
    sandbox.expire_access_tokens();
    let info: Value = client.read_json("CompanyInfo", seed::US_REALM).await.unwrap();
    assert!(info["CompanyName"].is_string());
    assert_ne!(keyring().load(&key).unwrap().unwrap().access_token, before.access_token);
}

/// Not a test on its own: the body of each child process of the two-process tests.
/// With `now` in its spec it asks for a token at that time (the parent's frozen
/// sandbox clock); without, it reports `rejected` as refused by QuickBooks.
#[tokio::test]
async fn child_refreshes_once() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let text = |k: &str| spec[k].as_str().unwrap().to_owned();
    let app = OAuthApp {
        client_id: text("client_id"),
        client_secret: Secret::new(text("client_secret")),
        redirect_uri: text("redirect_uri"),
        endpoints: OAuthEndpoints::discover(&text("discovery").parse().unwrap()).await.unwrap(),
        http: None,
    };
    let session = Session::new(GrantKey::new(text("instance"), seed::US_REALM), app, keyring(), text("lock_dir"));
    let token = match spec["now"].as_i64() {
        Some(now) => {
            let at = DateTime::from_timestamp(now, 0).unwrap();
            session.with_clock(move || at).access_token().await.unwrap()
        }
        None => session.refresh_after_rejection(&text("rejected")).await.unwrap(),
    };
    println!("CHILD-TOKEN-LENGTH {}", token.len());
}

#[tokio::test]
async fn two_processes_refreshing_at_once_end_with_the_newest_token() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let sandbox = Sandbox::start(auto_approving()).await.unwrap();
    sandbox.set_oauth_config(OAuthConfig { refresh_rotation_secs: 0, ..auto_approving().oauth });
    let dir = tempfile::tempdir().unwrap();
    let instance = unique("two-processes");
    let (session, app) = connect_by_loopback(&sandbox, &instance, dir.path()).await;
    let first = keyring().load(session.key()).unwrap().unwrap();
    let spec = serde_json::json!({
        "client_id": app.client_id, "client_secret": "s3cr3t-client", "redirect_uri": app.redirect_uri,
        "discovery": format!("{}/.well-known/openid_sandbox_configuration", sandbox.base_url()),
        "instance": instance, "lock_dir": dir.path(), "rejected": first.access_token.expose(),
    });
    run_two_children(&spec).await;
    // Exactly one of them refreshed; the other found the new token. What is stored works.
    assert_eq!(sandbox.token_counts().refresh_grants, 1);
    let last = keyring().load(session.key()).unwrap().unwrap();
    assert_ne!(last.refresh_token, first.refresh_token);
    let client = api_client(&sandbox, Session::new(session.key().clone(), app, keyring(), dir.path()));
    client.read_json("CompanyInfo", seed::US_REALM).await.unwrap();
}

/// Runs this test binary twice at once as `child_refreshes_once` with `spec`.
async fn run_two_children(spec: &Value) {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            tokio::process::Command::new(&exe)
                .args(["--exact", "child_refreshes_once", "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, spec.to_string())
                .output()
        })
        .collect();
    for child in futures::future::join_all(children).await {
        let output = child.unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("CHILD-TOKEN-LENGTH"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[tokio::test]
async fn two_processes_whose_token_ended_refresh_once_between_them() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let sandbox = Sandbox::start(auto_approving()).await.unwrap();
    sandbox.set_oauth_config(OAuthConfig {
        access_token_ttl_secs: 5,
        refresh_rotation_secs: 0,
        ..auto_approving().oauth
    });
    sandbox.clock().freeze();
    let dir = tempfile::tempdir().unwrap();
    let instance = unique("two-processes-clock");
    let app = app_for(&sandbox, "http://localhost:8765/callback").await;
    let key = GrantKey::new(&instance, seed::US_REALM);
    let issued_at = sandbox.clock().now_utc().timestamp();
    let tokens = sandbox.issue_tokens(&app.client_id, seed::US_REALM);
    let first = TokenGrant {
        realm_id: tokens.realm_id,
        access_token: Secret::new(tokens.access_token),
        refresh_token: Secret::new(tokens.refresh_token),
        access_issued_at: Some(issued_at),
        access_expires_at: issued_at + tokens.expires_in,
        refresh_expires_at: issued_at + tokens.x_refresh_token_expires_in,
        refresh_hard_expires_at: None,
    };
    keyring().save(&key, &first).unwrap();

    sandbox.advance_clock(5);
    let now = sandbox.clock().now_utc().timestamp();
    let spec = serde_json::json!({
        "client_id": app.client_id, "client_secret": "s3cr3t-client", "redirect_uri": app.redirect_uri,
        "discovery": format!("{}/.well-known/openid_sandbox_configuration", sandbox.base_url()),
        "instance": instance, "lock_dir": dir.path(), "now": now,
    });
    run_two_children(&spec).await;
    // Refresh tokens rotate on every refresh here: a second refresh from the old grant
    // would have failed a child, and a second from the new one would show in the count.
    assert_eq!(sandbox.token_counts().refresh_grants, 1);
    let last = keyring().load(&key).unwrap().unwrap();
    assert_ne!(last.refresh_token, first.refresh_token);
    let clock = sandbox.clock();
    let session = Session::new(key, app, keyring(), dir.path()).with_clock(move || clock.now_utc());
    api_client(&sandbox, session).read_json("CompanyInfo", seed::US_REALM).await.unwrap();
    assert_eq!(sandbox.token_counts().refresh_grants, 1, "the stored token is used, not refreshed again");
}

#[tokio::test]
async fn no_secret_reaches_a_file_or_a_log() {
    use std::io::Write;
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = Sandbox::start(auto_approving()).await.unwrap();
    sandbox.set_oauth_config(OAuthConfig { refresh_rotation_secs: 0, ..auto_approving().oauth });
    let dir = tempfile::tempdir().unwrap();
    let (session, _) = connect_by_loopback(&sandbox, &unique("secrets"), dir.path()).await;
    let key = session.key().clone();
    let first = keyring().load(&key).unwrap().unwrap();
    let client = api_client(&sandbox, session);
    sandbox.expire_access_tokens();
    client.read_json("CompanyInfo", seed::US_REALM).await.unwrap();
    let last = keyring().load(&key).unwrap().unwrap();

    let secrets = [
        first.access_token.expose(),
        first.refresh_token.expose(),
        last.access_token.expose(),
        last.refresh_token.expose(),
        "s3cr3t-client",
    ];
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("refreshed the QuickBooks access token"), "the refresh was logged: {logs}");
    for secret in secrets {
        assert!(!logs.contains(secret), "a secret reached the logs");
        for entry in walk(dir.path()) {
            let content = std::fs::read(&entry).unwrap();
            assert!(!String::from_utf8_lossy(&content).contains(secret), "a secret reached {}", entry.display());
        }
    }
    assert!(!walk(dir.path()).is_empty(), "the data directory was used (refresh lock)");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn the_relay_page_forwards_only_the_oauth_answer_to_the_deep_link() {
    let page = include_str!("../../../docs/oauth-relay.html");
    assert!(page.contains(r#""qbconnector://oauth/callback?" + forwarded.toString()"#));
    assert!(page.contains(r#"var allowed = ["code", "state", "realmId", "error", "error_description"];"#));
    assert!(page.contains("history.replaceState"), "the code is cleared from the address bar");
    assert!(
        !page.contains("<script src") && !page.contains("fetch(") && !page.contains("XMLHttpRequest"),
        "the page calls nothing"
    );
}
