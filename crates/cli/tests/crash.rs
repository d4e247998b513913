//! A push killed with SIGKILL at ten moments and restarted each time leaves exactly one
//! QuickBooks record per platform record, every link right. Needs a Secret Service.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use connector::api::{Connector, InstanceChanges};
use connector::instance::{Environment, NewInstance};
use connector::platform::Module;
use qbo_sandbox::{oauth::AutoApprove, seed, EntityKind, Limits, OAuthConfig, RegisteredApp, Sandbox, SandboxConfig};
use rand::{Rng, SeedableRng};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_qbconnector");
const RECORDS: usize = 3000;
const REDIRECT: &str = "https://relay.example/cb";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_killed_ten_times_creates_each_record_exactly_once() {
    let config = SandboxConfig {
        limits: Limits { enabled: false, ..Limits::default() },
        oauth: OAuthConfig {
            auto_approve: Some(AutoApprove { realm_id: Some(seed::US_REALM.into()), deny: false }),
            ..OAuthConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    sandbox.register_app(RegisteredApp {
        name: "Crash".into(),
        client_id: "crash-app".into(),
        client_secret: "crash-secret".into(),
        redirect_uris: vec![REDIRECT.into()],
    });
    let dir = tempfile::tempdir().unwrap();
    {
        let connector = Connector::open(dir.path()).unwrap();
        let new = NewInstance {
            name: "Books".into(),
            environment: Environment::Custom { base_url: sandbox.base_url().into() },
            company_id: None,
            client_id: Some("crash-app".into()),
            redirect_uri: Some(REDIRECT.into()),
        };
        connector.activate(new, Some("crash-secret".into())).unwrap();
        let url = connector.begin_connect("Books").await.unwrap();
        let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let answer = no_follow.get(url).send().await.unwrap();
        connector.complete_connect("Books", answer.headers()["location"].to_str().unwrap()).await.unwrap();
        connector.update_instance("Books", InstanceChanges::default()).unwrap();
        let accounts: Vec<serde_json::Value> =
            (0..RECORDS).map(|n| json!({"Id": format!("CR-{n:05}"), "Name": format!("Crash Test {n:05}")})).collect();
        connector.import_json(&json!({"format": 1, "Accounts": accounts})).unwrap();
    }
    let before = sandbox.count(seed::US_REALM, EntityKind::Customer);
    let batches = |sandbox: &Sandbox| sandbox.requests().iter().filter(|r| r.operation == "batch").count();

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    for attempt in 0..10 {
        let seen = batches(&sandbox);
        // Kill after a seeded number of further batch calls (creates and match look-ups alike).
        let kill_after = seen + rng.random_range(1..=12);
        let mut child = Command::new(BIN)
            .args(["push", "Books"])
            .env("QBCONNECTOR_DATA_DIR", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("push {attempt} ended ({status}) before it was killed; make kill_after smaller");
            }
            if batches(&sandbox) >= kill_after {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        child.kill().unwrap(); // SIGKILL: no cleanup, no flush, mid-transaction or mid-request
        child.wait().unwrap();
    }
    // block_in_place: the sandbox's tasks must not wait behind this blocked worker.
    let finish = tokio::task::block_in_place(|| {
        Command::new(BIN).args(["--json", "push", "Books"]).env("QBCONNECTOR_DATA_DIR", dir.path()).output()
    })
    .unwrap();
    assert!(finish.status.success(), "{}", String::from_utf8_lossy(&finish.stderr));

    let customers = sandbox.entities(seed::US_REALM, EntityKind::Customer);
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for customer in &customers {
        if let Some(name) = customer["DisplayName"].as_str().filter(|n| n.starts_with("Crash Test")) {
            by_name.entry(name.to_owned()).or_default().push(customer["Id"].as_str().unwrap().to_owned());
        }
    }
    let twins: Vec<&String> = by_name.iter().filter(|(_, ids)| ids.len() > 1).map(|(name, _)| name).collect();
    assert!(twins.is_empty(), "created twice: {twins:?}");
    assert_eq!(by_name.len(), RECORDS, "every record is in QuickBooks");
    assert_eq!(customers.len(), before + RECORDS);

    let connector = Connector::open(dir.path()).unwrap();
    let links = connector.links("Books", "Accounts").unwrap();
    assert_eq!(links.len(), RECORDS);
    for link in links {
        let name =
            connector.record(Module::Accounts, &link.platform_id).unwrap().data["Name"].as_str().unwrap().to_owned();
        assert_eq!(
            by_name[&name],
            vec![link.qbo_id.clone()],
            "{} is linked to its own QuickBooks record",
            link.platform_id
        );
    }
}
