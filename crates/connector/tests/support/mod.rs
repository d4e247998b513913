//! What the sync tests share: a sandbox, a connector in a scratch directory, an
//! instance connected through the real OAuth flow, and runs.

use connector::api::{Connector, InstanceChanges};
use connector::instance::{Environment, NewInstance};
use connector::sync::{Direction, Engine, RunSummary, SyncRequest, Trigger};
use qbo::{Op, Query};
use qbo_sandbox::{oauth::AutoApprove, Limits, OAuthConfig, RegisteredApp, Sandbox, SandboxConfig};

const REDIRECT: &str = "https://relay.example/cb";

pub struct Setup {
    pub sandbox: Sandbox,
    pub connector: Connector,
    _dir: tempfile::TempDir,
}

pub async fn setup(realm: &str) -> Setup {
    let config = SandboxConfig {
        limits: Limits { enabled: false, ..Limits::default() },
        oauth: OAuthConfig {
            auto_approve: Some(AutoApprove { realm_id: Some(realm.into()), deny: false }),
            ..OAuthConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    sandbox.register_app(RegisteredApp {
        name: "Sync".into(),
        client_id: "sync-app".into(),
        client_secret: "sync-secret".into(),
        redirect_uris: vec![REDIRECT.into()],
    });
    let dir = tempfile::tempdir().unwrap();
    let connector = Connector::open(dir.path()).unwrap();
    let new = NewInstance {
        name: "Books".into(),
        environment: Environment::Custom { base_url: sandbox.base_url().into() },
        company_id: None,
        client_id: Some("sync-app".into()),
        redirect_uri: Some(REDIRECT.into()),
    };
    connector.activate(new, Some("sync-secret".into())).unwrap();
    let url = connector.begin_connect("Books").await.unwrap();
    let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = no_follow.get(url).send().await.unwrap();
    connector.complete_connect("Books", answer.headers()["location"].to_str().unwrap()).await.unwrap();
    let client = connector.qbo_client("Books").await.unwrap();
    let first = |query: Query| {
        let client = client.clone();
        async move {
            use futures::StreamExt;
            let row = Box::pin(client.query_values(query.max_results(1))).next().await.unwrap().unwrap();
            row["Id"].as_str().unwrap().to_owned()
        }
    };
    let income = first(Query::select("Account").filter("AccountType", Op::Eq, "Income")).await;
    let vendor = first(Query::select("Vendor")).await;
    let variables = [("Income Account".to_owned(), income), ("Vendor ID".to_owned(), vendor)].into_iter().collect();
    connector.update_instance("Books", InstanceChanges { variables, ..InstanceChanges::default() }).unwrap();
    Setup { sandbox, connector, _dir: dir }
}

pub async fn sync(setup: &Setup, direction: Direction) -> RunSummary {
    let request =
        SyncRequest { direction, modules: None, trigger: Trigger::Cli, cancel: None, progress: None, only: None };
    Engine::run(&setup.connector, "Books", request).await.unwrap()
}

pub fn problems(setup: &Setup, run: &RunSummary) -> Vec<String> {
    let connection = setup.connector.store().connection();
    connector::sync::store::outcomes(&connection, run.run_id, true)
        .unwrap()
        .into_iter()
        .map(|o| format!("{} {} {}: {}", o.module, o.record_id, o.operation, o.message.unwrap_or_default()))
        .collect()
}
