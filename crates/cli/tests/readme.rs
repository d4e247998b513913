//! The README's CLI walk-through, run as written: its code block is read from README.md
//! and run by bash against the sandbox, with a "browser" that opens the address `connect`
//! prints. A walk-through that no longer works fails here, not in an operator's hands.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use qbo_sandbox::{seed, Sandbox, SandboxConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_qbconnector");
/// Where the README tells the operator the sandbox listens.
const README_SANDBOX: &str = "http://127.0.0.1:8700";

/// The shell block of the README's CLI section.
fn walk_through() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = &readme[readme.find("## qbconnector (the CLI)").expect("the README has a CLI section")..];
    let block = &section[section.find("```sh\n").expect("with a shell block") + "```sh\n".len()..];
    block[..block.find("```").unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walk_through_runs_as_written_and_syncs_without_a_failure() {
    let sandbox = Sandbox::start(SandboxConfig::auto_approving(seed::US_REALM)).await.unwrap();
    let block = walk_through();
    assert!(block.contains(README_SANDBOX), "the walk-through names the sandbox's address");
    // The block as an operator pastes it, with three differences: `qbconnector` is the
    // binary under test rather than `cargo run`, the sandbox is this test's, on its own port,
    // and the data directory is a scratch one.
    let script = block
        .replace(README_SANDBOX, sandbox.base_url().trim_end_matches('/'))
        .replace("cargo run -q -p qbconnector --", "\"$QBC_BIN\"")
        .replace("QBCONNECTOR_DATA_DIR=/tmp/qbc", "QBCONNECTOR_DATA_DIR=\"$QBC_DATA\"");
    let script = format!("set -euo pipefail\n{script}");
    let data = tempfile::tempdir().unwrap();
    assert!(!script.contains("cargo run"), "every line runs the binary under test:\n{script}");
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("QBC_BIN", BIN)
        .env("QBC_DATA", data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let is_address = line.starts_with("http") && line.contains("client_id=");
        printed.push(line.clone());
        if is_address {
            // The "browser": the sandbox approves at once and redirects to the CLI's listener.
            let page = reqwest::get(&line).await.unwrap();
            assert!(page.status().is_success(), "{}", page.text().await.unwrap());
            break;
        }
    }
    printed.extend(lines.map(|l| l.unwrap()));
    let status = tokio::task::block_in_place(|| child.wait()).unwrap();
    let mut errors = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut errors).unwrap();
    assert!(status.success(), "the walk-through stopped ({status}):\n{}\n{errors}", printed.join("\n"));

    let runs =
        Command::new(BIN).args(["--json", "runs", "Demo"]).env("QBCONNECTOR_DATA_DIR", data.path()).output().unwrap();
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let sync = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["direction"] == "sync" && r["trigger"] == "cli")
        .expect("the walk-through synced");
    assert_eq!(sync["outcome"], "succeeded", "{sync:#}");
    let sent: u64 = sync["counts"].as_object().unwrap().values().map(|c| c["ok"].as_u64().unwrap()).sum();
    assert!(sent >= 80, "the demo data reached QuickBooks: {sync:#}");
}
