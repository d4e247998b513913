//! The platform link's cases: the BSS sandbox read into an empty store (10,000 and 100,000
//! accounts, to show memory does not follow the data), and 10,000 customers pulled from
//! QuickBooks and written to the BSS. The BSS sandbox runs in this process; each engine
//! step in a child, as the other cases do.

use std::path::Path;

use bss_sandbox::{BssConfig, BssSandbox, Kind};
use connector::api::{Connector, RunKind, RunWatch};
use connector::sync::{Outcome, RecordOp, Trigger};
use qbo::{BatchItem, RequestId};
use serde_json::{json, Value};

use super::{bench_sandbox, bookkeeper, connect, mib, report, reset_peak_rss, step};

async fn bss_with_accounts(count: usize) -> Result<BssSandbox, String> {
    let bss =
        BssSandbox::start(BssConfig { time_scale: 0.0, ..BssConfig::default() }).await.map_err(|e| e.to_string())?;
    for n in 0..count {
        bss.create(
            Kind::Accounts,
            &json!({"name": format!("Platform Account {n:06}"), "corpEmail": format!("a{n}@bss.example")}),
        )
        .map_err(|e| e.message)?;
    }
    Ok(bss)
}

/// Reads `count` BSS accounts into an empty store.
async fn mirror(count: usize) -> Result<String, String> {
    let sandbox = bench_sandbox(1.0, false).await?;
    let bss = bss_with_accounts(count).await?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let before = bss.state().requests_served;
    let read = step(&sandbox, dir.path(), "mirror", &[bss.base_url().to_owned()]).await?;
    let requests = bss.state().requests_served - before;
    let records = read["records"].as_u64().unwrap_or_default();
    if records != count as u64 {
        return Err(format!("{records} of {count} accounts read"));
    }
    let seconds = read["seconds"].as_f64().unwrap_or_default();
    Ok(format!(
        "| platform read into an empty store | {count} | {:.0} records / s, {requests} BSS requests | pages of 500 (the profile's largest) | — | {seconds:.1} s; peak RSS {:.0} MiB; {:.1} s CPU |",
        count as f64 / seconds,
        mib(&read),
        read["cpu_seconds"].as_f64().unwrap_or_default()
    ))
}

/// 10,000 customers made in QuickBooks, pulled and written to an empty BSS in one sync.
async fn write_back(count: usize) -> Result<String, String> {
    let sandbox = bench_sandbox(1.0, false).await?;
    // Filling the company is not what is measured: unpaced.
    let client = bookkeeper(&sandbox, false)?;
    let items: Vec<BatchItem> = (0..count)
        .map(|n| BatchItem::Create {
            entity: "Customer".into(),
            body: json!({"DisplayName": format!("Books Customer {n:06}"), "PrimaryEmailAddr": {"Address": format!("c{n}@books.example")}}),
        })
        .collect();
    for chunk in items.chunks(30) {
        for result in client.batch(chunk, &RequestId::new()).await.map_err(|e| e.to_string())? {
            result.outcome.map_err(|fault| format!("{fault:?}"))?;
        }
    }
    let bss = bss_with_accounts(0).await?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let before = bss.state().requests_served;
    let sync = step(&sandbox, dir.path(), "write-back", &[bss.base_url().to_owned()]).await?;
    let requests = bss.state().requests_served - before;
    let written = sync["written"].as_u64().unwrap_or_default();
    if written < count as u64 || bss.count(Kind::Accounts) < count {
        return Err(format!("{written} of {count} customers written to the BSS"));
    }
    let seconds = sync["seconds"].as_f64().unwrap_or_default();
    Ok(format!(
        "| pulled and written back to the platform | {count} | {:.0} records / s, {requests} BSS requests | one request a create | ×{:.2} | one sync: pull, then a create each (journaled); {seconds:.1} s; peak RSS {:.0} MiB |",
        written as f64 / seconds,
        requests as f64 / written as f64,
        mib(&sync)
    ))
}

pub async fn cases() -> Result<Vec<String>, String> {
    let mut rows = Vec::new();
    for count in [10_000, 100_000] {
        eprintln!("running: platform read, {count} …");
        rows.push(mirror(count).await?);
    }
    eprintln!("running: write-back, 10,000 …");
    rows.push(write_back(10_000).await?);
    Ok(rows)
}

// ------------------------------------------------------------------ the child

fn link(connector: &Connector, bss_url: &str) -> Result<(), String> {
    use connector::platform::link::{PlatformLink, PlatformSecret, RestLink};
    let link = PlatformLink::Rest(RestLink {
        profile: "interworks-bss.json".into(),
        custom_profile: None,
        variables: [("server".to_owned(), bss_url.to_owned())].into(),
        username: Some(bss_sandbox::DEMO_USERNAME.into()),
        client_id: Some(bss_sandbox::DEMO_CLIENT_ID.into()),
    });
    let secrets = [
        (PlatformSecret::Password, bss_sandbox::DEMO_PASSWORD.to_owned()),
        (PlatformSecret::ClientSecret, bss_sandbox::DEMO_CLIENT_SECRET.to_owned()),
    ]
    .into();
    connector.set_platform_link("Bench", &link, &secrets).map(|_| ()).map_err(|e| e.to_string())
}

/// `mirror BSS_URL` and `write-back BSS_URL`, in the child.
pub async fn engine_step(connector: &Connector, step: &str, dir: &Path, bss_url: &str) -> Result<Value, String> {
    let _ = dir;
    connect(connector, 1.0).await?;
    link(connector, bss_url)?;
    reset_peak_rss();
    let started = std::time::Instant::now();
    let kind = match step {
        "mirror" => RunKind::ReadPlatform { whole: true, trigger: Trigger::Cli },
        _ => RunKind::Sync { direction: connector::sync::Direction::Pull, modules: None, trigger: Trigger::Cli },
    };
    let run = connector.run("Bench", kind, RunWatch::default()).await.map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    // Counted in SQL: reading the run's 100,000 outcomes back would be this step's peak, not the run's.
    let count = |op: RecordOp| -> i64 {
        let sql = "SELECT COUNT(*) FROM run_record WHERE run_id = ?1 AND operation = ?2 AND outcome = ?3";
        let connection = connector.store().connection();
        connection.query_row(sql, rusqlite::params![run.run_id, op, Outcome::Ok], |row| row.get(0)).unwrap_or(0)
    };
    Ok(report(json!({
        "seconds": seconds,
        "records": count(RecordOp::MirrorCreate),
        "written": count(RecordOp::WriteCreate),
    })))
}
