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

use super::figures::{Figure, Unit};
use super::{bench_sandbox, bookkeeper, connect, mib, report, reset_peak_rss, step, FLAT_MEMORY};

const READ: &str = "platform read into an empty store";

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

/// Reads `count` BSS accounts into an empty store: its rate and its peak memory.
async fn mirror(count: usize) -> Result<[Figure; 2], String> {
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
    Ok([
        Figure::new(READ, format!("{count} records, records a second"), count as f64 / seconds, Unit::RecordsPerSecond)
            .note(format!(
                "{requests} BSS requests in pages of 500 (the profile's largest); {seconds:.1} s; {:.1} s CPU",
                read["cpu_seconds"].as_f64().unwrap_or_default()
            )),
        Figure::new(READ, format!("{count} records, peak RSS"), mib(&read), Unit::MiB).note("engine process only"),
    ])
}

/// 10,000 customers made in QuickBooks, pulled and written to an empty BSS in one sync.
async fn write_back(count: usize) -> Result<Figure, String> {
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
    Ok(Figure::new(
        "pulled and written back to the platform",
        "BSS requests a record written",
        requests as f64 / written as f64,
        Unit::Times,
    )
    .note(format!(
        "one request a create is the floor; {written} of {count} records, {requests} requests; one sync: pull, then a create each (journaled); {seconds:.1} s, {:.0} records / s; peak RSS {:.0} MiB",
        written as f64 / seconds,
        mib(&sync)
    )))
}

pub async fn cases() -> Result<Vec<Figure>, String> {
    let mut figures = Vec::new();
    let mut peaks = Vec::new();
    for count in [10_000, 100_000] {
        eprintln!("running: platform read, {count} …");
        let [rate, peak] = mirror(count).await?;
        peaks.push(peak.value.unwrap_or_default());
        figures.extend([rate, peak]);
    }
    // The read, like the push and the pull, keeps a page in memory, not the data.
    if let [small, large] = peaks[..] {
        figures.push(
            Figure::new(READ, "peak at 100,000 ÷ at 10,000", large / small, Unit::Times)
                .goal(FLAT_MEMORY)
                .note(format!("{large:.0} MiB ÷ {small:.0} MiB")),
        );
    }
    eprintln!("running: write-back, 10,000 …");
    figures.push(write_back(10_000).await?);
    Ok(figures)
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
