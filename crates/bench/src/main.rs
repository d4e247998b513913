//! `qbc-bench`: the sync engine against qbo-sandbox on loopback, one table.
//!
//! The sandbox lives in this process with each case's limits and time scale; every step of
//! the engine (seeding the platform store, a push, a pull, a sync) runs in a child process
//! of this binary, so a peak of resident memory is that step's alone. Figures are in
//! QuickBooks minutes (real seconds × time scale / 60) and in ratios to what QuickBooks'
//! limits allow, which hold from machine to machine. Each figure is printed with its goal,
//! where issue #19 or docs/BENCHMARKS.md sets one, and a goal missed is marked.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

use connector::api::{Connector, InstanceChanges};
use connector::instance::{Environment, NewInstance};
use connector::platform::demo::{DemoSize, TaxCode};
use connector::platform::Module;
use connector::sync::{Direction, Outcome, RunSummary, SyncRequest, Trigger};
use qbo::{BatchItem, Query, RequestId};
use qbo_sandbox::{oauth::AutoApprove, seed, Limits, OAuthConfig, RegisteredApp, Sandbox, SandboxConfig};
use serde_json::{json, Value};

mod fifty;
mod figures;
mod platform;

use figures::{Figure, Goal, Unit};

const REDIRECT: &str = "https://bench.example/cb";
/// One QuickBooks minute lasts six real seconds: short enough for a bench, long enough that
/// the ceiling (about 277 records a real second) stays below what two cores can prepare, so
/// the figure measures pacing against QuickBooks' limits rather than this machine.
const TIME_SCALE: f64 = 10.0;
/// Unthrottled, the client's own pacing is lifted too: what is measured is our cost.
const UNPACED: f64 = 1.0e6;
/// 40 batch calls of 30 plus the other 460 requests of a minute, one record each.
const CEILING_PER_MINUTE: f64 = 40.0 * 30.0 + 460.0;
/// A pull reads pages of 1,000 rows, 500 requests a minute.
const PULL_CEILING_PER_MINUTE: f64 = 500.0 * 1000.0;

// The goals (issue #19). Each is checked on the figure as printed.
/// A push at the limit and a pull at 100,000 reach 95% of what QuickBooks' limits allow.
const SHARE_OF_CEILING: Goal = Goal::AtLeast(95.0);
/// Unthrottled, the engine and the in-process sandbox together handle 10,000 records a
/// second, push and pull.
const RECORDS_A_SECOND: Goal = Goal::AtLeast(10_000.0);
/// The client's pacing keeps inside the limits: QuickBooks never has to answer 429.
const NO_429: Goal = Goal::AtMost(0.0);
/// Peak memory flat from 10,000 to 100,000 records: ten times the data may cost at most a
/// quarter more memory. A run's peak is a fixed floor (the runtime, SQLite's cache, the
/// compiled mappings, about 45 MiB) plus one page in flight; 25% leaves room for the
/// allocator and the cache filling to its cap, while memory that followed the data would
/// show as several times more (it was ×6.6 from 2,000 to 20,000 before pushes were paged).
const FLAT_MEMORY: Goal = Goal::AtMost(1.25);

const USAGE: &str = "\
qbc-bench: the sync engine against qbo-sandbox on loopback, one table

usage: qbc-bench [--strict] [CASE]

CASE runs the cases whose name contains it (\"push at the limit\", peer, \"cost per record\",
\"memory, 10,000\", 100,000, \"fifty companies\", platform); without it, every case runs.
\"fifty companies\" (about a minute) syncs fifty instances in one Connector, each to its own
company, by the scheduler with 4, 16 and 50 at once.

Each figure is printed with its goal, where one is set, and a mark: met, or MISS. The last
line counts the goals missed. A miss is reported, not failed: the exit status is 0 unless a
case could not run (1), or --strict is given and a goal was missed (2).

  --strict   exit 2 when any figure misses its goal
  --help     this text
";

fn invoices(accounts: usize, products: usize, invoices: usize) -> DemoSize {
    DemoSize { accounts, contacts_per_account: 0, products, invoices, orders: 0, payments: 0 }
}

/// What the command line asks for.
#[derive(Debug, Default, PartialEq)]
struct Options {
    strict: bool,
    only: Option<String>,
    help: bool,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    for arg in args {
        match arg.as_str() {
            "--strict" => options.strict = true,
            "--help" | "-h" => options.help = true,
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            case if options.only.is_none() => options.only = Some(case.to_owned()),
            extra => return Err(format!("one case at a time: {extra:?}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    if args.get(1).map(String::as_str) == Some("engine") {
        return match runtime.block_on(engine_step(&args[2..])) {
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
    let options = match options(&args[1..]) {
        Ok(options) if options.help => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(options) => options,
        Err(error) => {
            eprint!("qbc-bench: {error}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let wanted = |name: &str| options.only.as_deref().is_none_or(|o| name.contains(o));
    let mut figures = Vec::new();
    let mut engine_rate = None;
    let mut failed = false;
    // What was measured before a failure still counts; the exit status says it failed.
    let run = |name: &str, figures: &mut Vec<Figure>, result: Result<Vec<Figure>, String>| match result {
        Ok(mut produced) => {
            figures.append(&mut produced);
            false
        }
        Err(error) => {
            eprintln!("{name}: {error}");
            true
        }
    };
    if wanted("push at the limit") {
        eprintln!("running: push at the limit …");
        let result = runtime.block_on(push_at_the_limit()).map(|(produced, rate)| {
            engine_rate = Some(rate);
            produced
        });
        failed = run("push at the limit", &mut figures, result);
    }
    if !failed && wanted("peer") {
        eprintln!("running: the peer (python-quickbooks) …");
        figures.push(runtime.block_on(peer(engine_rate)));
    }
    if !failed && wanted("cost per record") {
        eprintln!("running: cost per record …");
        failed = run("cost per record", &mut figures, runtime.block_on(cost_per_record()));
    }
    if !failed && wanted("memory, 10,000") {
        eprintln!("running: memory, 10,000 records …");
        failed = run("memory", &mut figures, runtime.block_on(memory_at_ten_thousand()));
    }
    if !failed && wanted("100,000") {
        eprintln!("running: 100,000 records: push, pull, incremental …");
        failed = run("100,000 records", &mut figures, runtime.block_on(hundred_thousand()));
    }
    if !failed && (wanted("memory, 10,000") || wanted("100,000")) {
        figures.extend(memory_flatness(&figures));
    }
    if !failed && wanted("fifty companies") {
        failed = run("fifty companies", &mut figures, runtime.block_on(fifty::cases()));
    }
    if !failed && wanted("platform") {
        failed = run("platform link", &mut figures, runtime.block_on(platform::cases()));
    }
    print!("{}", figures::render(&figures));
    if failed {
        ExitCode::FAILURE
    } else if options.strict && figures::misses(&figures) > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
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

/// Runs one engine step in a child process and returns its JSON report.
async fn step(sandbox: &Sandbox, dir: &Path, name: &str, extra: &[String]) -> Result<Value, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut args = vec!["engine".to_owned(), name.to_owned(), sandbox.base_url().to_owned(), dir.display().to_string()];
    args.extend_from_slice(extra);
    // QBC_BENCH_CHILD_WRAPPER=heaptrack (or valgrind, perf record …) runs each step under a profiler.
    let command = match std::env::var("QBC_BENCH_CHILD_WRAPPER").ok().filter(|w| !w.is_empty()) {
        Some(wrapper) => {
            let mut command = Command::new(wrapper);
            command.arg(exe).args(args);
            command
        }
        None => {
            let mut command = Command::new(exe);
            command.args(args);
            command
        }
    };
    let mut command = command;
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("{name}: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    // The report is the step's last line: a wrapper may have printed its own before it.
    let text = String::from_utf8_lossy(&output.stdout);
    let report = text.lines().rev().find(|line| line.trim_start().starts_with('{')).unwrap_or_default();
    serde_json::from_str(report).map_err(|e| format!("{name}: {e}"))
}

fn size_args(size: DemoSize) -> Vec<String> {
    [size.accounts, size.products, size.invoices].map(|n| n.to_string()).to_vec()
}

fn mib(report: &Value) -> f64 {
    report["peak_rss_kib"].as_f64().unwrap_or_default() / 1024.0
}

fn number(report: &Value, field: &str) -> f64 {
    report[field].as_f64().unwrap_or_default()
}

/// Case 1: a first push of 11,200 records under QuickBooks' limits, time-scaled.
async fn push_at_the_limit() -> Result<(Vec<Figure>, f64), String> {
    const CASE: &str = "push at the limit";
    let sandbox = bench_sandbox(TIME_SCALE, true).await?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    step(&sandbox, dir.path(), "seed", &size_args(invoices(1_000, 200, 10_000))).await?;
    let report = step(&sandbox, dir.path(), "push", &[TIME_SCALE.to_string()]).await?;
    let records = number(&report, "records");
    let per_minute = records / (number(&report, "seconds") * TIME_SCALE / 60.0);
    let throttled = sandbox.throttled_count(seed::US_REALM) as f64;
    let figures = vec![
        Figure::new(CASE, "share of QuickBooks' ceiling", 100.0 * per_minute / CEILING_PER_MINUTE, Unit::Percent)
            .goal(SHARE_OF_CEILING)
            .note(format!(
                "{} of {} (40 batch calls of 30 and 460 requests a minute); {records} records; engine peak {:.0} MiB",
                Unit::RecordsPerQuickBooksMinute.show(per_minute),
                CEILING_PER_MINUTE,
                mib(&report)
            )),
        Figure::new(CASE, "answered 429", throttled, Unit::Count("429s"))
            .goal(NO_429)
            .note("the client's own pacing keeps inside the limits"),
    ];
    Ok((figures, per_minute))
}

/// The same kind of push with python-quickbooks, one record per request, as its careful
/// users write it (waiting out each 429).
async fn peer(engine_rate: Option<f64>) -> Figure {
    const CASE: &str = "against a peer (python-quickbooks)";
    const METRIC: &str = "the peer's push";
    let unit = Unit::RecordsPerQuickBooksMinute;
    match run_peer().await {
        Ok(report) => {
            let records = number(&report, "records");
            let per_minute = records / (number(&report, "seconds") * TIME_SCALE / 60.0);
            let ours = engine_rate.map_or("ours not measured in this run".to_owned(), |ours| {
                format!("ours {}", Unit::Times.show(ours / per_minute))
            });
            Figure::new(CASE, METRIC, per_minute, unit).note(format!(
                "{ours}; at most 500 (one record a request); {records} records; {} 429s waited out",
                report["throttled"]
            ))
        }
        Err(error) => Figure::not_measured(CASE, METRIC, unit, format!("not run: {error}")),
    }
}

async fn run_peer() -> Result<Value, String> {
    let python = Path::new(".venv/bin/python");
    if !python.exists() {
        return Err("no .venv (run scripts/setup.sh)".into());
    }
    let sandbox = bench_sandbox(TIME_SCALE, true).await?;
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
    serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())
}

/// Case 5: the same push with no limits at all, then the company it filled pulled into an
/// empty store, and how each one's processor time splits between the engine (its child
/// process) and the sandbox (this process).
async fn cost_per_record() -> Result<Vec<Figure>, String> {
    let sandbox = bench_sandbox(1.0, false).await?;
    let pushed = tempfile::tempdir().map_err(|e| e.to_string())?;
    step(&sandbox, pushed.path(), "seed", &size_args(invoices(1_000, 200, 10_000))).await?;
    let mut figures = Vec::new();
    let sandbox_before = cpu_seconds();
    let push = step(&sandbox, pushed.path(), "push", &[UNPACED.to_string()]).await?;
    figures.extend(cost_figures("push", "plan, mapping, journal, record", &push, cpu_seconds() - sandbox_before));
    let pulled = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sandbox_before = cpu_seconds();
    let pull = step(&sandbox, pulled.path(), "pull", &[UNPACED.to_string()]).await?;
    figures.extend(cost_figures("pull", "read, mapping, apply, record", &pull, cpu_seconds() - sandbox_before));
    Ok(figures)
}

fn cost_figures(what: &str, work: &str, report: &Value, sandbox_cpu: f64) -> [Figure; 2] {
    const CASE: &str = "cost per record, unthrottled";
    let engine_cpu = number(report, "cpu_seconds");
    let records = number(report, "records");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    [
        Figure::new(
            CASE,
            format!("{what}, records a second"),
            records / number(report, "seconds"),
            Unit::RecordsPerSecond,
        )
        .goal(RECORDS_A_SECOND)
        .note(format!("{records} records; {work} and the in-process sandbox on {cores} cores")),
        Figure::new(
            CASE,
            format!("{what}, processor time outside the sandbox"),
            100.0 * engine_cpu / (engine_cpu + sandbox_cpu),
            Unit::Percent,
        )
        .note(format!(
            "engine {engine_cpu:.1} s, sandbox {sandbox_cpu:.1} s of processor time; {:.2} ms of engine time a record",
            1000.0 * engine_cpu / records
        )),
    ]
}

const MEMORY_10K: &str = "memory, 10,000 records";
const MEMORY_100K: &str = "memory, 100,000 records";
const PUSH_PEAK: &str = "peak RSS of a push";
const PULL_PEAK: &str = "peak RSS of a pull";

/// Case 6 at 10,000: peak memory of the push alone (the platform store is seeded by
/// another process), then of a pull of what it pushed into an empty store, both as the
/// 100,000 case measures them.
async fn memory_at_ten_thousand() -> Result<Vec<Figure>, String> {
    let sandbox = bench_sandbox(1.0, false).await?;
    let pushed = tempfile::tempdir().map_err(|e| e.to_string())?;
    step(&sandbox, pushed.path(), "seed", &size_args(invoices(1_000, 200, 8_800))).await?;
    sandbox.advance_clock(-600);
    let push = step(&sandbox, pushed.path(), "push", &[UNPACED.to_string()]).await?;
    sandbox.advance_clock(600);
    sandbox.set_limits(Limits::default(), 1.0);
    let pulled = tempfile::tempdir().map_err(|e| e.to_string())?;
    let pull = step(&sandbox, pulled.path(), "pull", &[]).await?;
    Ok(vec![
        push_memory_figure(MEMORY_10K, &push),
        Figure::new(MEMORY_10K, PULL_PEAK, mib(&pull), Unit::MiB).note(format!(
            "engine process only, real limits; {} records, {:.1} s",
            number(&pull, "records"),
            number(&pull, "seconds")
        )),
    ])
}

fn push_memory_figure(case: &str, report: &Value) -> Figure {
    let records = number(report, "records");
    let seconds = number(report, "seconds");
    Figure::new(case, PUSH_PEAK, mib(report), Unit::MiB).note(format!(
        "engine process only, unthrottled; {records} records, {seconds:.1} s, {:.0} records / s; grows with the page (1,000 records), not the data",
        records / seconds
    ))
}

/// Peak memory at 100,000 over peak memory at 10,000, push and pull, when both ran.
fn memory_flatness(figures: &[Figure]) -> Vec<Figure> {
    const CASE: &str = "memory flat from 10,000 to 100,000";
    let peak =
        |case: &str, metric: &str| figures.iter().find(|f| f.case == case && f.metric == metric).and_then(|f| f.value);
    [("push", PUSH_PEAK), ("pull", PULL_PEAK)]
        .into_iter()
        .map(|(what, metric)| {
            let name = format!("{what}, peak at 100,000 ÷ at 10,000");
            match (peak(MEMORY_10K, metric), peak(MEMORY_100K, metric)) {
                (Some(small), Some(large)) if small > 0.0 => Figure::new(CASE, name, large / small, Unit::Times)
                    .goal(FLAT_MEMORY)
                    .note(format!("{large:.0} MiB ÷ {small:.0} MiB")),
                _ => Figure::not_measured(
                    CASE,
                    name,
                    Unit::Times,
                    "needs \"memory, 10,000\" and \"100,000\" in one run (the whole bench runs both)",
                )
                .goal(FLAT_MEMORY),
            }
        })
        .collect()
}

/// Cases 3, 4 and 6 at 100,000: one company filled by a push, pulled whole into an empty
/// store, then 1% changed on each side and synced.
async fn hundred_thousand() -> Result<Vec<Figure>, String> {
    let mut figures = Vec::new();
    let sandbox = bench_sandbox(1.0, false).await?;
    let pushed = tempfile::tempdir().map_err(|e| e.to_string())?;
    step(&sandbox, pushed.path(), "seed", &size_args(invoices(1_000, 200, 98_800))).await?;
    // Stamped ten minutes back, so the pull's cursor (a minute before it starts) lies after
    // the push and the sync after it sees only what changed since.
    sandbox.advance_clock(-600);
    let push = step(&sandbox, pushed.path(), "push", &[UNPACED.to_string()]).await?;
    sandbox.advance_clock(600);
    figures.push(push_memory_figure(MEMORY_100K, &push));
    drop(pushed);

    // QuickBooks' real limits from here: a pull is paced by pages, not by batches.
    sandbox.set_limits(Limits::default(), 1.0);
    let pulled = tempfile::tempdir().map_err(|e| e.to_string())?;
    let before = sandbox.requests().last().map_or(0, |r| r.seq);
    let pull = step(&sandbox, pulled.path(), "pull", &[]).await?;
    let pull_requests = sandbox.requests().iter().filter(|r| r.seq > before).count();
    let records = number(&pull, "records");
    let seconds = number(&pull, "seconds");
    let per_minute = records / (seconds / 60.0);
    figures.push(
        Figure::new(
            "pull into an empty store",
            "share of the paged ceiling",
            100.0 * per_minute / PULL_CEILING_PER_MINUTE,
            Unit::Percent,
        )
        .goal(SHARE_OF_CEILING)
        .note(format!(
            "{} of {PULL_CEILING_PER_MINUTE:.0} (pages of 1,000, 500 requests a minute); real limits; {records} records, {seconds:.1} s, {pull_requests} requests",
            Unit::RecordsPerQuickBooksMinute.show(per_minute),
        )),
    );
    figures.push(
        Figure::new(MEMORY_100K, PULL_PEAK, mib(&pull), Unit::MiB)
            .note(format!("engine process only, real limits; {records} records, {seconds:.1} s")),
    );

    let changed: usize = 1_000;
    let change = step(&sandbox, pulled.path(), "change", &[changed.to_string()]).await?;
    let theirs: Vec<String> = serde_json::from_value(change["qbo_ids"].clone()).map_err(|e| e.to_string())?;
    change_quickbooks_side(&sandbox, &theirs).await?;
    let before = sandbox.requests().last().map_or(0, |r| r.seq);
    let sync = step(&sandbox, pulled.path(), "sync", &[]).await?;
    let used: Vec<String> = sandbox.requests().iter().filter(|r| r.seq > before).map(|r| r.operation.clone()).collect();
    let mut by_kind = std::collections::BTreeMap::<String, usize>::new();
    for operation in &used {
        *by_kind.entry(operation.clone()).or_default() += 1;
    }
    let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    // Least possible: the changed platform records in batches of 30, one CDC per module.
    let least = changed.div_ceil(30) + sync["modules"].as_u64().unwrap_or_default() as usize;
    figures.push(
        Figure::new(
            "incremental sync, 1% changed on each side",
            "requests over the least possible",
            used.len() as f64 / least as f64,
            Unit::Times,
        )
        .note(format!(
            "{} requests where {least} is the least, {:.1} s; {records} records; sent {}, received {}; {}",
            used.len(),
            number(&sync, "seconds"),
            sync["pushed"],
            sync["pulled"],
            kinds.join(", ")
        )),
    );
    Ok(figures)
}

// ------------------------------------------------------------------ the child

/// One step of the engine, in its own process: `engine STEP BASE_URL DIR [ARGS]`.
async fn engine_step(args: &[String]) -> Result<Value, String> {
    let [step, base_url, dir, rest @ ..] = args else { return Err("engine STEP BASE_URL DIR [ARGS]".into()) };
    let dir = Path::new(dir);
    // Tokens in memory: the keyring is not what is measured.
    let connector =
        Connector::open_with(dir, Arc::new(qbo::auth::MemoryTokenStore::default())).map_err(|e| e.to_string())?;
    if connector.instance("Bench").is_err() {
        let new = NewInstance {
            name: "Bench".into(),
            environment: Environment::Custom { base_url: base_url.clone() },
            company_id: None,
            client_id: Some("bench-app".into()),
            redirect_uri: Some(REDIRECT.into()),
        };
        connector.activate(new, None).map_err(|e| e.to_string())?;
    }
    let number = |index: usize| rest.get(index).and_then(|n| n.parse::<f64>().ok()).unwrap_or_default();
    match step.as_str() {
        "seed" => {
            let size = invoices(number(0) as usize, number(1) as usize, number(2) as usize);
            let created =
                connector.generate_demo_data(size, 7, &[TaxCode::new("NON", &[])], "USD").map_err(|e| e.to_string())?;
            Ok(json!({"records": created.values().sum::<usize>()}))
        }
        "push" => {
            connect(&connector, number(0)).await?;
            let records: usize = Module::ALL
                .iter()
                .map(|m| connector.records_page(*m, "", 0, 0).map(|p| p.total).unwrap_or_default())
                .sum();
            let (run, seconds) = timed_sync(&connector, Direction::Push).await?;
            let ok: usize = run.counts.values().map(|c| c.ok).sum();
            if ok != records {
                return Err(first_problem(&connector, &run, format!("{ok} of {records} records pushed")));
            }
            Ok(report(json!({"records": records, "seconds": seconds})))
        }
        "pull" => {
            connect(&connector, rest.first().map_or(1.0, |_| number(0))).await?;
            let (run, seconds) = timed_sync(&connector, Direction::Pull).await?;
            let failed: usize = run.counts.values().map(|c| c.failed + c.blocked).sum();
            if failed > 0 {
                return Err(first_problem(&connector, &run, format!("{failed} records not pulled")));
            }
            let records: usize = run.counts.values().map(|c| c.ok).sum();
            Ok(report(json!({"records": records, "seconds": seconds})))
        }
        "change" => Ok(json!({"qbo_ids": change_platform_side(&connector, number(0) as usize)?})),
        "sync" => {
            connect(&connector, 1.0).await?;
            let (run, seconds) = timed_sync(&connector, Direction::Sync).await?;
            let outcomes = connector.run_records("Bench", run.run_id, false).map_err(|e| e.to_string())?;
            let count = |f: &dyn Fn(&str) -> bool| {
                outcomes.iter().filter(|o| o.outcome == Outcome::Ok && f(o.operation.as_str())).count()
            };
            let pushed = count(&|op| !op.starts_with("pull"));
            let pulled = count(&|op| op.starts_with("pull"));
            let failed: usize = run.counts.values().map(|c| c.failed + c.blocked + c.held).sum();
            if failed > 0 {
                return Err(first_problem(&connector, &run, format!("{failed} records not synced")));
            }
            Ok(report(json!({
                "seconds": seconds,
                "pushed": pushed,
                "pulled": pulled,
                "modules": connector.spec("Bench").map(|s| s.modules.len()).unwrap_or_default(),
            })))
        }
        "fifty" => fifty::engine_step(&connector, base_url, rest).await,
        "mirror" | "write-back" => {
            platform::engine_step(&connector, step, dir, rest.first().map_or("", String::as_str)).await
        }
        other => Err(format!("no such step: {other}")),
    }
}

/// Connects the instance to the sandbox through its auto-approving consent page.
async fn connect(connector: &Connector, time_scale: f64) -> Result<(), String> {
    connector.set_qbo_time_scale(time_scale);
    let secret = InstanceChanges { client_secret: Some("bench-secret".into()), ..InstanceChanges::default() };
    connector.update_instance("Bench", secret).map_err(|e| e.to_string())?;
    connector.connect_without_browser("Bench").await.map_err(|e| e.to_string())?;
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
    Ok(())
}

async fn timed_sync(connector: &Connector, direction: Direction) -> Result<(RunSummary, f64), String> {
    // The peak from here on is the sync's, not the connecting's.
    reset_peak_rss();
    let started = Instant::now();
    let request =
        SyncRequest { direction, modules: None, trigger: Trigger::Cli, cancel: None, progress: None, only: None };
    let run = connector.sync("Bench", request).await.map_err(|e| e.to_string())?;
    Ok((run, started.elapsed().as_secs_f64()))
}

fn first_problem(connector: &Connector, run: &RunSummary, what: String) -> String {
    let problems = connector.run_records("Bench", run.run_id, true).unwrap_or_default();
    let first = problems.iter().find(|o| o.outcome == Outcome::Failed).or(problems.first());
    format!("{what} ({}); first problem: {first:?}", run.outcome)
}

/// The operator gives `count` invoices a new due date here; the answer names `count` other
/// invoices, by QuickBooks id, for the bookkeeper to change in QuickBooks.
fn change_platform_side(connector: &Connector, count: usize) -> Result<Vec<String>, String> {
    let links = connector.links("Bench", "Invoices").map_err(|e| e.to_string())?;
    if links.len() < 2 * count {
        return Err(format!("only {} invoices linked", links.len()));
    }
    for link in &links[..count] {
        let record = connector.record(Module::Invoices, &link.platform_id).map_err(|e| e.to_string())?;
        let mut data = record.data.clone();
        data["DueDate"] = json!("2027-01-15");
        connector.update_record(Module::Invoices, &record.id, data, record.version).map_err(|e| e.to_string())?;
    }
    Ok(links[links.len() - count..].iter().map(|l| l.qbo_id.clone()).collect())
}

/// A client of another app (a bookkeeper's), so its requests count against its own limits.
/// `paced` keeps the client inside QuickBooks' limits; unpaced it fills a company as fast as
/// the sandbox takes it.
fn bookkeeper(sandbox: &Sandbox, paced: bool) -> Result<qbo::Client, String> {
    sandbox.register_app(RegisteredApp {
        name: "Bookkeeper".into(),
        client_id: "bookkeeper-app".into(),
        client_secret: "bookkeeper-secret".into(),
        redirect_uris: vec![REDIRECT.into()],
    });
    let token = sandbox.issue_tokens("bookkeeper-app", seed::US_REALM).access_token;
    let mut config = qbo::ClientConfig::custom(sandbox.base_url().parse().map_err(|e| format!("{e}"))?, seed::US_REALM);
    if !paced {
        config.limits.time_scale = UNPACED;
    }
    Ok(qbo::Client::new(config, Arc::new(qbo::StaticToken(token))))
}

/// A bookkeeper's edits in QuickBooks: another app, so its requests count against its own
/// limits, as edits made in QuickBooks itself do not spend ours.
async fn change_quickbooks_side(sandbox: &Sandbox, qbo_ids: &[String]) -> Result<(), String> {
    let client = bookkeeper(sandbox, true)?;
    for chunk in qbo_ids.chunks(30) {
        let query = Query::select("Invoice").is_in("Id", chunk.iter().map(String::as_str)).max_results(30);
        let found = client.query_json(&query.text()).await.map_err(|e| e.to_string())?;
        let items: Vec<BatchItem> = found["Invoice"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|invoice| BatchItem::Update {
                entity: "Invoice".into(),
                body: json!({"Id": invoice["Id"], "SyncToken": invoice["SyncToken"], "DueDate": "2027-02-20"}),
                sparse: true,
            })
            .collect();
        for result in client.batch(&items, &RequestId::new()).await.map_err(|e| e.to_string())? {
            result.outcome.map_err(|fault| format!("{fault:?}"))?;
        }
    }
    Ok(())
}

fn report(mut value: Value) -> Value {
    value["peak_rss_kib"] = json!(peak_rss_kib());
    value["cpu_seconds"] = json!(cpu_seconds());
    value
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

/// Starts the high-water mark again from what is resident now (Linux 4.0 and later).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Processor time (user and system) this process has used, in seconds.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks: f64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<f64>().ok()).sum();
    ticks / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        options(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn the_command_line_takes_one_case_strict_and_help() {
        assert_eq!(parse(&[]).unwrap(), Options::default());
        assert_eq!(
            parse(&["--strict", "platform"]).unwrap(),
            Options { strict: true, only: Some("platform".into()), help: false }
        );
        assert_eq!(parse(&["100,000"]).unwrap().only.as_deref(), Some("100,000"));
        assert!(parse(&["--help"]).unwrap().help);
        assert!(parse(&["--fast"]).is_err(), "an unknown option is refused, not taken for a case");
        assert!(parse(&["peer", "platform"]).is_err());
    }

    #[test]
    fn memory_is_judged_flat_only_when_both_sizes_ran() {
        let ten =
            [Figure::new(MEMORY_10K, PUSH_PEAK, 50.0, Unit::MiB), Figure::new(MEMORY_10K, PULL_PEAK, 40.0, Unit::MiB)];
        let hundred = [
            Figure::new(MEMORY_100K, PUSH_PEAK, 55.0, Unit::MiB),
            Figure::new(MEMORY_100K, PULL_PEAK, 80.0, Unit::MiB),
        ];
        let both: Vec<Figure> = ten.iter().chain(&hundred).cloned().collect();
        let flat = memory_flatness(&both);
        assert_eq!(flat.iter().map(Figure::mark).collect::<Vec<_>>(), [figures::Mark::Met, figures::Mark::Miss]);
        assert_eq!(flat[1].value, Some(2.0));
        let alone = memory_flatness(&ten);
        assert!(alone.iter().all(|f| f.mark() == figures::Mark::NotMeasured), "{alone:?}");
    }
}
