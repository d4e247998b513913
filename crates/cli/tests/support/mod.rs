//! What the binary's crash tests share: starting `qbconnector`, killing it at a moment a
//! test chooses, and running it again to the end.
#![allow(dead_code)] // each test file uses the part of it it needs

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_qbconnector");

/// Starts `qbconnector ARGS` and SIGKILLs it as soon as `reached()` says so.
pub async fn killed_when(dir: &Path, args: &[&str], reached: impl Fn() -> bool) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("QBCONNECTOR_DATA_DIR", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("`{}` ended ({status}) before it was killed; kill it sooner", args.join(" "));
        }
        if reached() {
            break;
        }
        // Polling what the run has done, not timing: the kill follows a count.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().unwrap(); // SIGKILL: no cleanup, no flush, mid-transaction or mid-request
    child.wait().unwrap();
}

/// `qbconnector --json ARGS`, waited for.
pub fn to_the_end(dir: &Path, args: &[&str]) -> Output {
    // block_in_place: the sandboxes' tasks must not wait behind this blocked worker.
    tokio::task::block_in_place(|| Command::new(BIN).arg("--json").args(args).env("QBCONNECTOR_DATA_DIR", dir).output())
        .unwrap()
}
