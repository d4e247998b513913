//! Connecting in two processes, as production keys need: the redirect is an https relay
//! page nobody here listens on, so one `Connector` starts the authorization and exits, and
//! a later one on the same data directory finishes it with the callback the browser got.
//! Each `Connector::open` stands for a process: nothing is shared but the disk and the
//! keyring. Needs a Secret Service (run under scripts/with-keyring.sh).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use connector::api::{ConnectionView, Connector};
use connector::instance::{Environment, NewInstance};
use qbo::auth::PENDING_AUTHORIZATION_SECS;
use qbo_sandbox::{seed, RegisteredApp, Sandbox, SandboxConfig};

const RELAY: &str = "https://relay.example/cb";

async fn sandbox_with_relay_app() -> Sandbox {
    let sandbox = Sandbox::start(SandboxConfig::auto_approving(seed::US_REALM)).await.unwrap();
    sandbox.register_app(RegisteredApp::named("Relay", RELAY));
    sandbox
}

fn add_instance(data: &Path, sandbox: &Sandbox) {
    let connector = Connector::open(data).unwrap();
    let new = NewInstance {
        name: "Books".into(),
        environment: Environment::Custom { base_url: sandbox.base_url().to_owned() },
        company_id: None,
        client_id: Some("relay-app".into()),
        redirect_uri: Some(RELAY.into()),
    };
    connector.activate(new, Some("relay-secret".into())).unwrap();
}

/// The browser: the sandbox approves at once and redirects to the relay page; the address
/// it sends the browser to is the callback the operator copies.
async fn approve(url: &url::Url) -> String {
    let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = no_follow.get(url.clone()).send().await.unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(RELAY), "{location}");
    location
}

fn fixed(at: DateTime<Utc>) -> Arc<dyn connector::Clock> {
    Arc::new(move || at)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_finishes_in_a_later_process_once_only() {
    let sandbox = sandbox_with_relay_app().await;
    let data = tempfile::tempdir().unwrap();
    add_instance(data.path(), &sandbox);

    // Process A prints the address and exits.
    let later = Connector::open(data.path()).unwrap().begin_connect_later("Books").await.unwrap();
    let now = Utc::now().timestamp();
    assert!((later.expires_at - now - PENDING_AUTHORIZATION_SECS).abs() <= 5, "{later:?}");
    let callback = approve(&later.url).await;
    let state = url::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();

    // A forged state is refused, and does not use up the kept authorization.
    let forged = callback.replace(&state, "0123456789abcdef0123456789abcdef");
    let error = Connector::open(data.path()).unwrap().finish_connect("Books", &forged).await.unwrap_err();
    assert!(error.message.contains("does not belong to a Connect started here"), "{error:?}");

    // Process B finishes with the callback.
    let connector = Connector::open(data.path()).unwrap();
    let view = connector.finish_connect("Books", &callback).await.unwrap();
    assert!(matches!(&view, ConnectionView::Connected { realm_id, .. } if realm_id == seed::US_REALM), "{view:?}");
    drop(connector);

    // Process C hands the same callback over again: used already.
    let error = Connector::open(data.path()).unwrap().finish_connect("Books", &callback).await.unwrap_err();
    assert!(error.message.contains("already used"), "{error:?}");
    // Nothing of the state is left on disk.
    for file in std::fs::read_dir(data.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(&state), "the state is never on disk");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_authorization_ends_and_a_newer_one_replaces_it() {
    let sandbox = sandbox_with_relay_app().await;
    let data = tempfile::tempdir().unwrap();
    add_instance(data.path(), &sandbox);
    let started = Utc::now();

    let first = Connector::open(data.path()).unwrap().begin_connect_later("Books").await.unwrap();
    let first_callback = approve(&first.url).await;
    let second = Connector::open(data.path()).unwrap().begin_connect_later("Books").await.unwrap();
    let second_callback = approve(&second.url).await;

    let error = Connector::open(data.path()).unwrap().finish_connect("Books", &first_callback).await.unwrap_err();
    assert!(error.message.contains("does not belong"), "the newer one replaced it: {error:?}");

    // The operator comes back after the authorization's end.
    let too_late = started + Duration::seconds(PENDING_AUTHORIZATION_SECS + 60);
    let connector = Connector::open(data.path()).unwrap().with_clock(fixed(too_late));
    let error = connector.finish_connect("Books", &second_callback).await.unwrap_err();
    assert!(error.message.contains("too late"), "{error:?}");
    assert!(matches!(connector.connection("Books").await.unwrap(), ConnectionView::NotConnected));
    // Refused once means refused for good, even with the clock turned back.
    let error = Connector::open(data.path()).unwrap().finish_connect("Books", &second_callback).await.unwrap_err();
    assert!(error.message.contains("too late"), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_process_way_still_refuses_what_it_did_not_issue() {
    let sandbox = sandbox_with_relay_app().await;
    let data = tempfile::tempdir().unwrap();
    add_instance(data.path(), &sandbox);

    // The app's way: started and finished in one process, nothing kept in the keyring.
    let connector = Connector::open(data.path()).unwrap();
    let url = connector.begin_connect("Books").await.unwrap();
    let callback = approve(&url).await;
    let error = Connector::open(data.path()).unwrap().finish_connect("Books", &callback).await.unwrap_err();
    assert!(error.message.contains("does not belong"), "another process cannot take it: {error:?}");
    connector.finish_connect("Books", &callback).await.unwrap();
    let error = connector.finish_connect("Books", &callback).await.unwrap_err();
    assert!(error.message.contains("already used"), "{error:?}");
}
