//! `qbc-bench`: the sync engine against qbo-sandbox on loopback, one table.
//!
//! Each case runs its engine in a child process of this binary (so peak memory is the
//! engine's, not the sandbox's), while the sandbox lives in this process with the case's
//! limits and time scale. Figures are in QuickBooks minutes — real seconds × time scale /
//! 60 — and ratios to the ceiling QuickBooks' limits allow, which hold from machine to machine.

use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

use connector::api::{Connector, InstanceChanges};
use connector::instance::{Environment, NewInstance};
use connector::platform::demo::{DemoSize, TaxCode};
use connector::sync::{Direction, SyncRequest, Trigger};
use qbo_sandbox::{oauth::AutoApprove, seed, Limits, OAuthConfig, RegisteredApp, Sandbox, SandboxConfig};
use serde_json::{json, Value};

const REDIRECT: &str = "https://bench.example/cb";
/// One QuickBooks minute lasts six real seconds: short enough for a bench, long enough that
/// the ceiling (about 277 records a real second) stays below what two cores can prepare, so
/// the figure measures pacing against QuickBooks' limits rather than this machine.
const TIME_SCALE: f64 = 10.0;
/// 40 batch calls of 30 plus the other 460 requests of a minute, one record each.
const CEILING_PER_MINUTE: f64 = 40.0 * 30.0 + 460.0;

struct Case {
    name: &'static str,
    size: DemoSize,
    throttled: bool,
}

fn cases() -> Vec<Case> {
    let invoices = |accounts, products, invoices| DemoSize {
        accounts,
        contacts_per_account: 0,
        products,
        invoices,
        orders: 0,
        payments: 0,
    };
    vec![
        Case { name: "push at the limit", size: invoices(1_000, 200, 10_000), throttled: true },
        Case { name: "cost per record, unthrottled", size: invoices(1_000, 200, 10_000), throttled: false },
        Case { name: "memory, 2,000 records", size: invoices(200, 40, 1_760), throttled: false },
        Case { name: "memory, 20,000 records", size: invoices(2_000, 400, 17_600), throttled: false },
    ]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    if args.get(1).map(String::as_str) == Some("engine") {
        // The child: connect, seed, push, report one JSON line.
        return match runtime.block_on(engine(&args[2], args[3].parse().unwrap_or(0), args[4] == "throttled")) {
            Ok(report) => {
                println!("{report}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("engine: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let only = args.get(1).cloned();
    let mut rows = Vec::new();
    let mut engine_rate = None;
    for (index, case) in cases().into_iter().enumerate() {
        if only.as_deref().is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        eprintln!("running: {} …", case.name);
        match runtime.block_on(run_case(index, &case)) {
            Ok((row, rate)) => {
                rows.push(row);
                engine_rate = engine_rate.or(rate);
            }
            Err(error) => {
                eprintln!("{}: {error}", case.name);
                return ExitCode::FAILURE;
            }
        }
    }
    if only.as_deref().is_none_or(|o| "peer".contains(o)) {
        eprintln!("running: the peer (python-quickbooks) …");
        match runtime.block_on(peer(engine_rate)) {
            Ok(row) => rows.push(row),
            Err(error) => rows.push(format!("| against a peer | — | not run: {error} | — | — | — |")),
        }
    }
    println!("| case | records | measured | goal or ceiling | ratio | notes |");
    println!("|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    ExitCode::SUCCESS
}

async fn bench_sandbox(time_scale: f64, throttled: bool) -> Result<Sandbox, String> {
    let config = SandboxConfig {
        time_scale,
        limits: Limits { enabled: throttled, ..Limits::default() },
        oauth: OAuthConfig {
            auto_approve: Some(AutoApprove { realm_id: Some(seed::US_REALM.into()), deny: false }),
            ..OAuthConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.map_err(|e| e.to_string())?;
    sandbox.register_app(RegisteredApp {
        name: "Bench".into(),
        client_id: "bench-app".into(),
        client_secret: "bench-secret".into(),
        redirect_uris: vec![REDIRECT.into()],
    });
    Ok(sandbox)
}

/// The same kind of push with python-quickbooks, one record per request. A slower time
/// scale than ours, so Python's own cost per request stays below the limit's pace and the
/// figure is QuickBooks' ceiling for such a client, not Python's.
async fn peer(engine_rate: Option<f64>) -> Result<String, String> {
    const PEER_TIME_SCALE: f64 = TIME_SCALE;
    let python = std::path::Path::new(".venv/bin/python");
    if !python.exists() {
        return Err("no .venv (run scripts/setup.sh)".into());
    }
    let sandbox = bench_sandbox(PEER_TIME_SCALE, true).await?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peer/push.py");
    let args =
        [script, sandbox.base_url(), "bench-app", "bench-secret", REDIRECT, "100", "20", "1000"].map(str::to_owned);
    let output = tokio::task::spawn_blocking(move || Command::new(".venv/bin/python").args(args).output())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or_default().to_owned());
    }
    let report: Value = serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
    let records = report["records"].as_f64().unwrap_or_default();
    let qbo_minutes = report["seconds"].as_f64().unwrap_or_default() * PEER_TIME_SCALE / 60.0;
    let per_minute = records / qbo_minutes;
    let ratio = engine_rate.map_or("—".to_owned(), |ours| format!("ours ×{:.1}", ours / per_minute));
    Ok(format!(
        "| against a peer (python-quickbooks) | {records} | {per_minute:.0} records / QuickBooks minute | at most 500 (one record a request) | {ratio} | {} 429s waited out |",
        report["throttled"]
    ))
}

async fn run_case(index: usize, case: &Case) -> Result<(String, Option<f64>), String> {
    let sandbox = bench_sandbox(TIME_SCALE, case.throttled).await?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let base_url = sandbox.base_url().to_owned();
    let mode = if case.throttled { "throttled" } else { "free" };
    let output = tokio::task::spawn_blocking(move || {
        Command::new(exe).args(["engine", &base_url, &index.to_string(), mode]).output()
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let report: Value = serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
    let records = report["records"].as_f64().unwrap_or_default();
    let seconds = report["push_seconds"].as_f64().unwrap_or_default();
    let peak_mib = report["peak_rss_kib"].as_f64().unwrap_or_default() / 1024.0;
    let throttled = sandbox.throttled_count(seed::US_REALM);
    Ok(if case.throttled {
        let qbo_minutes = seconds * TIME_SCALE / 60.0;
        let per_minute = records / qbo_minutes;
        let row = format!(
            "| {} | {records} | {per_minute:.0} records / QuickBooks minute | {CEILING_PER_MINUTE:.0} (goal ≥ 90%) | {:.0}% | {throttled} answered 429; engine peak {peak_mib:.0} MiB |",
            case.name,
            100.0 * per_minute / CEILING_PER_MINUTE
        );
        (row, Some(per_minute))
    } else if case.name.starts_with("cost") {
        let row = format!(
            "| {} | {records} | {:.0} records / s | — | — | plan, mapping, journal, record and the in-process sandbox on {} cores |",
            case.name,
            records / seconds,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        (row, None)
    } else {
        let row = format!(
            "| {} | {records} | peak RSS {peak_mib:.0} MiB | grows with the batch, not the data | — | engine process only; {:.1} s |",
            case.name, seconds
        );
        (row, None)
    })
}

/// The child: everything an operator's push does, timed from the button to the last answer.
async fn engine(base_url: &str, index: usize, throttled: bool) -> Result<Value, String> {
    let case = cases().into_iter().nth(index).ok_or("no such case")?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    // Tokens in memory: the keyring is not what is measured.
    let connector = Connector::open_with(dir.path(), Arc::new(qbo::auth::MemoryTokenStore::default()))
        .map_err(|e| e.to_string())?;
    // Unthrottled, the client's own pacing is lifted too: what is measured is our cost.
    connector.set_qbo_time_scale(if throttled { TIME_SCALE } else { 1.0e6 });
    let new = NewInstance {
        name: "Bench".into(),
        environment: Environment::Custom { base_url: base_url.into() },
        company_id: None,
        client_id: Some("bench-app".into()),
        redirect_uri: Some(REDIRECT.into()),
    };
    connector.activate(new, Some("bench-secret".into())).map_err(|e| e.to_string())?;
    let url = connector.begin_connect("Bench").await.map_err(|e| e.to_string())?;
    let no_follow =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| e.to_string())?;
    let answer = no_follow.get(url).send().await.map_err(|e| e.to_string())?;
    let location = answer.headers().get("location").and_then(|v| v.to_str().ok()).ok_or("no redirect")?.to_owned();
    connector.complete_connect("Bench", &location).await.map_err(|e| e.to_string())?;
    let client = connector.qbo_client("Bench").await.map_err(|e| e.to_string())?;
    let income = client
        .query_json("SELECT * FROM Account WHERE AccountType = 'Income' MAXRESULTS 1")
        .await
        .map_err(|e| e.to_string())?["Account"][0]["Id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let variables = [("Income Account".to_owned(), income)].into_iter().collect();
    connector
        .update_instance("Bench", InstanceChanges { variables, ..InstanceChanges::default() })
        .map_err(|e| e.to_string())?;
    let taxes = [TaxCode::new("NON", &[])];
    let created = connector.generate_demo_data(case.size, 7, &taxes, "USD").map_err(|e| e.to_string())?;
    let records: usize = created.values().sum();

    let started = Instant::now();
    let request = SyncRequest {
        direction: Direction::Push,
        modules: None,
        trigger: Trigger::Cli,
        cancel: None,
        progress: None,
        only: None,
    };
    let run = connector.sync("Bench", request).await.map_err(|e| e.to_string())?;
    let push_seconds = started.elapsed().as_secs_f64();
    let ok: usize = run.counts.values().map(|c| c.ok).sum();
    if ok != records {
        let problems = connector.run_records("Bench", run.run_id, true).map_err(|e| e.to_string())?;
        let first = problems.iter().find(|o| o.outcome == "failed").or(problems.first());
        return Err(format!("{ok} of {records} records pushed ({}); first problem: {first:?}", run.outcome));
    }
    Ok(json!({"records": records, "push_seconds": push_seconds, "peak_rss_kib": peak_rss_kib()}))
}

/// The process's high-water mark of resident memory (Linux).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
