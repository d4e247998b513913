//! `qbconnector platform` and syncs of a linked platform, as an operator runs them: set,
//! show, test and read a BSS (bss-sandbox), a broken profile refused at its line, a wrong
//! password with its own exit code, and syncs SIGKILLed at seeded moments of the mirror and
//! of the write-back that leave no record twice on either side. Needs a Secret Service.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use bss_sandbox::{BssConfig, BssSandbox, Kind};
use connector::api::Connector;
use qbo_sandbox::{seed, EntityKind, Limits, RegisteredApp, Sandbox, SandboxConfig};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

mod support;

use support::{killed_when, to_the_end, BIN};

fn cli(dir: &Path, args: &[&str]) -> Output {
    let command = || {
        Command::new(BIN)
            .args(args)
            .env("QBCONNECTOR_DATA_DIR", dir)
            .env("BSS_PASSWORD", bss_sandbox::DEMO_PASSWORD)
            .env("BSS_CLIENT_SECRET", bss_sandbox::DEMO_CLIENT_SECRET)
            .env("WRONG_PASSWORD", "not-the-password")
            .output()
    };
    tokio::task::block_in_place(command).unwrap()
}

fn text(output: &Output) -> (Option<i32>, String, String) {
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn quickbooks() -> Sandbox {
    let config = SandboxConfig {
        limits: Limits { enabled: false, ..Limits::default() },
        ..SandboxConfig::auto_approving(seed::US_REALM)
    };
    Sandbox::start(config).await.unwrap()
}

async fn books(sandbox: &Sandbox, dir: &Path) {
    let connector = Connector::open(dir).unwrap();
    connector
        .connect_to_sandbox("Books", sandbox, RegisteredApp::named("Platform", "https://relay.example/cb"))
        .await
        .unwrap();
}

fn link(dir: &Path, bss: &BssSandbox, password_env: &str) -> Output {
    let server = format!("server={}", bss.base_url());
    cli(
        dir,
        &[
            "platform",
            "set",
            "Books",
            "--profile",
            "interworks-bss.json",
            "--var",
            &server,
            "--user",
            bss_sandbox::DEMO_USERNAME,
            "--client-id",
            bss_sandbox::DEMO_CLIENT_ID,
            "--password-env",
            password_env,
            "--client-secret-env",
            "BSS_CLIENT_SECRET",
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_links_tests_and_reads_a_bss_and_a_wrong_password_has_its_own_exit_code() {
    let sandbox = quickbooks().await;
    let bss = BssSandbox::start(BssConfig { time_scale: 0.0, ..BssConfig::default() }).await.unwrap();
    bss.seed_records(3);
    let dir = tempfile::tempdir().unwrap();
    books(&sandbox, dir.path()).await;

    let (code, out, err) = text(&link(dir.path(), &bss, "BSS_PASSWORD"));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with(&format!("rest: interworks.cloud BSS (interworks-bss.json) at {}/api", bss.base_url())),
        "{out}"
    );
    assert!(out.contains("secrets in the keyring: password, client secret"), "{out}");
    let stored: String = rusqlite::Connection::open(dir.path().join("qbconnector.sqlite"))
        .unwrap()
        .query_row("SELECT link FROM platform_link", [], |row| row.get(0))
        .unwrap();
    assert!(
        !stored.contains(bss_sandbox::DEMO_PASSWORD) && !stored.contains(bss_sandbox::DEMO_CLIENT_SECRET),
        "{stored}"
    );

    let (code, out, err) = text(&cli(dir.path(), &["platform", "test", "Books"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("ON THE FIRST PAGE"), "the table's header: {out}");
    assert!(out.lines().any(|l| l.split_whitespace().eq(["Accounts", "3"])), "Accounts' row counts 3: {out}");

    let (code, out, err) = text(&cli(dir.path(), &["--json", "platform", "mirror", "Books"]));
    assert_eq!(code, Some(0), "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["counts"]["Accounts"]["ok"], 3, "{out}");
    assert_eq!(sandbox.count(seed::US_REALM, EntityKind::Invoice), 0, "a mirror sends nothing to QuickBooks");

    let (code, _, err) = text(&link(dir.path(), &bss, "WRONG_PASSWORD"));
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = text(&cli(dir.path(), &["sync", "Books"]));
    assert_eq!(code, Some(10), "{err}");
    assert_eq!(err.trim(), "error: interworks.cloud BSS refused the sign-in: the user name or password is wrong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_profile_is_refused_with_its_line_and_field_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = quickbooks().await;
    books(&sandbox, dir.path()).await;
    let shipped = text(&cli(dir.path(), &["platform", "profiles", "interworks-bss.json"])).1;
    let broken = shipped.replacen("\"path\": \"/accounts/{id}\"", "\"path\": \"/accounts\"", 1).replacen(
        "\"Orders\"",
        "\"Quotes\"",
        1,
    );
    let path = dir.path().join("my-bss.json");
    std::fs::write(&path, &broken).unwrap();
    let line_of = |needle: &str| 1 + broken[..broken.find(needle).unwrap()].matches('\n').count();

    let (code, out, _) = text(&cli(dir.path(), &["platform", "check", path.to_str().unwrap()]));
    assert_eq!(code, Some(3));
    let read_line = line_of("\"read\": { \"path\": \"/accounts\" }");
    let expected = format!("line {read_line}, modules.Accounts.read: \"/accounts\" must name the record as {{id}}");
    assert!(out.contains(&expected), "{out}");
    assert!(
        out.contains(&format!("line {}, modules.Quotes: \"Quotes\" is not a module", line_of("\"Quotes\""))),
        "{out}"
    );

    let (code, _, err) =
        text(&cli(dir.path(), &["platform", "set", "Books", "--profile-file", path.to_str().unwrap()]));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("modules.Quotes"), "{err}");
    let (_, out, _) = text(&cli(dir.path(), &["platform", "show", "Books"]));
    assert_eq!(out.trim(), "local: the records are the ones kept here", "nothing was written");
}

/// Each BSS account's name, with how many accounts carry it.
fn bss_names(bss: &BssSandbox) -> BTreeMap<String, usize> {
    let mut names = BTreeMap::new();
    for account in bss.list(Kind::Accounts) {
        *names.entry(account["name"].as_str().unwrap_or_default().to_owned()).or_insert(0) += 1;
    }
    names
}

/// 150 accounts made in the BSS and 150 customers made in QuickBooks; syncs SIGKILLed at five
/// seeded moments of the mirror and five of the write-back, then one run to the end: every
/// record on both sides once, every link to its own record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_killed_in_the_mirror_and_in_the_write_back_leave_every_record_once_on_each_side() {
    const EACH: usize = 150;
    let sandbox = quickbooks().await;
    let bss = BssSandbox::start(BssConfig { time_scale: 0.0, ..BssConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    books(&sandbox, dir.path()).await;
    for n in 0..EACH {
        bss.create(Kind::Accounts, &json!({"name": format!("Platform Made {n:03}")})).unwrap();
    }
    {
        let connector = Connector::open(dir.path()).unwrap();
        let client = connector.qbo_client("Books").await.unwrap();
        for n in 0..EACH {
            let body = json!({"DisplayName": format!("Books Made {n:03}")});
            client.create_json("Customer", &body, &qbo::RequestId::new()).await.unwrap();
        }
    }
    assert_eq!(text(&link(dir.path(), &bss, "BSS_PASSWORD")).0, Some(0));

    // The mirror's moments: rows stored here. The write-back's: accounts created in the BSS.
    let mirrored = || -> usize {
        let db = rusqlite::Connection::open(dir.path().join("qbconnector.sqlite")).unwrap();
        db.query_row("SELECT COUNT(*) FROM platform_remote", [], |row| row.get::<_, i64>(0)).unwrap_or(0) as usize
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2027);
    for _ in 0..5 {
        let kill_at = (mirrored() + rng.random_range(1..=25)).min(EACH - 1);
        killed_when(dir.path(), &["platform", "mirror", "Books"], || mirrored() >= kill_at).await;
    }
    for _ in 0..5 {
        let kill_at = bss.count(Kind::Accounts) + rng.random_range(1..=20);
        killed_when(dir.path(), &["sync", "Books"], || bss.count(Kind::Accounts) >= kill_at).await;
    }
    let finish = to_the_end(dir.path(), &["sync", "Books"]);
    assert!(finish.status.success(), "{}", String::from_utf8_lossy(&finish.stderr));

    let names = bss_names(&bss);
    let twins: Vec<_> = names.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twins.is_empty(), "created twice in the BSS: {twins:?}");
    for n in 0..EACH {
        assert_eq!(names.get(&format!("Books Made {n:03}")), Some(&1), "Books Made {n:03} reached the BSS");
    }
    let customers = sandbox.entities(seed::US_REALM, EntityKind::Customer);
    for n in 0..EACH {
        let name = format!("Platform Made {n:03}");
        assert_eq!(
            customers.iter().filter(|c| c["DisplayName"] == name.as_str()).count(),
            1,
            "{name} once in QuickBooks"
        );
    }
    let connector = Connector::open(dir.path()).unwrap();
    let links: Vec<(String, String)> = {
        let connection = connector.store().connection();
        let mut statement =
            connection.prepare("SELECT local_id, remote_id FROM platform_remote WHERE module = 'Accounts'").unwrap();
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert_eq!(links.len(), bss.count(Kind::Accounts), "every BSS account linked once");
    for (local_id, remote_id) in links {
        let here = connector.record(connector::platform::Module::Accounts, &local_id).unwrap();
        assert_eq!(here.data["Name"], bss.get(Kind::Accounts, &remote_id).unwrap()["name"], "{local_id} ↔ {remote_id}");
    }
}
