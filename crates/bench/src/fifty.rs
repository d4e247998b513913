//! Fifty companies (issue #19, item 3): fifty instances in one Connector, each connected to
//! a company of its own in one sandbox, all due at once and synced by the scheduler with a
//! bound on how many run at once. The sandbox and its limits (time-scaled as for the push at
//! the limit) live in the bench process; the Connector with its fifty instances runs in a
//! child, so its peak of resident memory and its processor time are its own.

use std::time::Instant;

use connector::api::{Connector, InstanceChanges};
use connector::instance::{Environment, NewInstance};
use connector::sync::{Cadence, Outcome, Schedule, ScheduledOutcome};
use qbo_sandbox::seed;
use serde_json::{json, Value};

use crate::figures::{Figure, Goal, Unit};
use crate::{
    bench_sandbox, cpu_seconds, invoices, mib, number, report, reset_peak_rss, size_args, step, CEILING_PER_MINUTE,
    NO_429, REDIRECT, TIME_SCALE,
};

pub const COMPANIES: usize = 50;
/// How many run at once, one child each: one at a time is the bench's other cases; these are
/// a few, about the cores' worth several times over, and all of them.
pub const PARALLEL: [usize; 3] = [4, 16, 50];
/// What each instance pushes: 20 accounts, 4 products and 200 invoices (the 11,200 of the
/// push at the limit, spread over fifty companies).
const EACH: (usize, usize, usize) = (20, 4, 200);
/// QuickBooks lets one company have 10 requests in flight; the client keeps inside that, and
/// the one pool opens a connection only for a request with none idle. So the runs going at
/// once can hold at most ten connections each: a pool per session would instead keep every
/// finished session's idle connections open as well, beyond this.
const CONNECTIONS_PER_RUN: f64 = 10.0;

/// The realm id of the `index`th company (from 1): beside the demo ones, never one of them.
fn realm(index: usize) -> String {
    format!("93414530510{index:05}")
}

pub async fn cases() -> Result<Vec<Figure>, String> {
    let mut figures = Vec::new();
    for parallel in PARALLEL {
        eprintln!("running: fifty companies, {parallel} at once …");
        figures.extend(case(parallel).await?);
    }
    Ok(figures)
}

async fn case(parallel: usize) -> Result<Vec<Figure>, String> {
    let case = format!("fifty companies, {parallel} at once");
    let sandbox = bench_sandbox(TIME_SCALE, true).await?;
    let now = sandbox.clock().now_utc();
    for index in 1..=COMPANIES {
        let company = seed::us_company(&realm(index), &format!("Client {index:02}"), now);
        sandbox.add_company(company).map_err(|e| e.to_string())?;
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (accounts, products, each) = EACH;
    step(&sandbox, dir.path(), "seed", &size_args(invoices(accounts, products, each))).await?;
    let sandbox_before = cpu_seconds();
    let args = [COMPANIES, parallel].map(|n| n.to_string());
    let ran = step(&sandbox, dir.path(), "fifty", &[args[0].clone(), args[1].clone(), TIME_SCALE.to_string()]).await?;
    // The sandbox's time includes answering the fifty connections, made one at a time
    // before the run; the engine's is the run's alone.
    let sandbox_cpu = cpu_seconds() - sandbox_before;
    let engine_cpu = number(&ran, "run_cpu_seconds");

    let pushed = number(&ran, "pushed");
    let seconds = number(&ran, "seconds");
    let per_minute = pushed / (seconds * TIME_SCALE / 60.0);
    let ceiling = COMPANIES as f64 * CEILING_PER_MINUTE;
    let throttled: u64 = (1..=COMPANIES).map(|i| sandbox.throttled_count(&realm(i))).sum();
    let connections = sandbox.connections();
    let connection_bound = CONNECTIONS_PER_RUN * parallel as f64;
    let not_ok = number(&ran, "not_ok");
    let failed_runs = number(&ran, "failed_runs");
    if failed_runs > 0.0 {
        return Err(format!("{case}: {failed_runs} runs failed: {}", ran["first_failure"]));
    }
    Ok(vec![
        Figure::new(&case, "aggregate, share of 50 × 1,660 a QuickBooks minute", 100.0 * per_minute / ceiling, Unit::Percent)
            .note(format!(
                "{} of {ceiling:.0}; {pushed} records pushed ({} received, {not_ok} not ok) in {seconds:.1} s; no goal: the ceiling is fifty companies' limits, about {:.0} records a real second at this time scale, while two cores and one store writer are this machine's",
                Unit::RecordsPerQuickBooksMinute.show(per_minute),
                number(&ran, "pulled"),
                ceiling * TIME_SCALE / 60.0,
            )),
        Figure::new(&case, "answered 429", throttled as f64, Unit::Count("429s"))
            .goal(NO_429)
            .note("summed over the fifty companies; each company's limits are its own"),
        Figure::new(&case, "peak open connections", connections.peak_open as f64, Unit::Count("connections"))
            .goal(Goal::AtMost(connection_bound))
            .note(format!(
                "{} accepted in all; the bound is 10 a run going at once (QuickBooks' in-flight limit), as one shared pool opens no more; the fifty connections made before the run, one at a time, are included",
                connections.accepted
            )),
        Figure::new(&case, "peak RSS", mib(&ran), Unit::MiB)
            .note("the Connector with fifty instances, from the start of the run (its own process)"),
        Figure::new(&case, "engine processor time ÷ wall time", engine_cpu / seconds, Unit::Times).note(format!(
            "cores the engine kept busy; engine {engine_cpu:.1} s, sandbox {sandbox_cpu:.1} s of processor time in {seconds:.1} s; {:.2} ms of engine time a record",
            1000.0 * engine_cpu / pushed.max(1.0)
        )),
    ])
}

/// The child's part: `fifty COMPANIES PARALLEL TIME_SCALE`. Connects one instance to each
/// company (the sandbox's consent approving each in turn), schedules each every 15 minutes,
/// so all are due now, and runs what is due once with `PARALLEL` at once.
pub async fn engine_step(connector: &Connector, base_url: &str, args: &[String]) -> Result<Value, String> {
    let number = |index: usize| args.get(index).and_then(|n| n.parse::<f64>().ok()).unwrap_or_default();
    let (companies, parallel, time_scale) = (number(0) as usize, number(1) as usize, number(2));
    connector.set_qbo_time_scale(time_scale);
    let admin = reqwest::Client::new();
    let oauth_url = format!("{base_url}/admin/oauth");
    let text = |e: reqwest::Error| e.to_string();
    for index in 1..=companies {
        // The sandbox's consent screen says yes to this company next, as its operator would.
        let mut oauth: Value = admin.get(&oauth_url).send().await.map_err(text)?.json().await.map_err(text)?;
        oauth["auto_approve"] = json!({"realm_id": realm(index), "deny": false});
        admin.post(&oauth_url).json(&oauth).send().await.map_err(text)?.error_for_status().map_err(text)?;
        let name = format!("Company {index:02}");
        let new = NewInstance {
            name: name.clone(),
            environment: Environment::Custom { base_url: base_url.to_owned() },
            company_id: None,
            client_id: Some("bench-app".into()),
            redirect_uri: Some(REDIRECT.into()),
        };
        connector.activate(new, None).map_err(|e| e.to_string())?;
        let secret = InstanceChanges { client_secret: Some("bench-secret".into()), ..InstanceChanges::default() };
        connector.update_instance(&name, secret).map_err(|e| e.to_string())?;
        connector.connect_without_browser(&name).await.map_err(|e| e.to_string())?;
        connector.fill_variables_from_company(&name).await.map_err(|e| e.to_string())?;
        let schedule = Schedule { cadence: Cadence::Every { minutes: 15 }, ..Schedule::default() };
        connector.set_schedule(&name, schedule).map_err(|e| e.to_string())?;
    }
    connector.set_parallel_runs(parallel);
    reset_peak_rss();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let ran = connector.run_due(&connector.now(), None).await.map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let run_cpu = cpu_seconds() - cpu_before;
    let peak = report(json!({}));

    let (mut pushed, mut pulled, mut not_ok, mut failed_runs) = (0, 0, 0, 0);
    let mut first_failure = Value::Null;
    for run in &ran {
        match &run.outcome {
            ScheduledOutcome::Ran { summary } => {
                for outcome in connector.run_records(&run.instance, summary.run_id, false).map_err(|e| e.to_string())? {
                    match (outcome.outcome, outcome.operation.as_str().starts_with("pull")) {
                        (Outcome::Ok, false) => pushed += 1,
                        (Outcome::Ok, true) => pulled += 1,
                        _ => not_ok += 1,
                    }
                }
            }
            other => {
                failed_runs += 1;
                if first_failure.is_null() {
                    first_failure = json!(format!("{}: {other:?}", run.instance));
                }
            }
        }
    }
    if ran.len() != companies {
        return Err(format!("{} of {companies} instances ran", ran.len()));
    }
    Ok(json!({
        "pushed": pushed,
        "pulled": pulled,
        "not_ok": not_ok,
        "failed_runs": failed_runs,
        "first_failure": first_failure,
        "seconds": seconds,
        "run_cpu_seconds": run_cpu,
        "peak_rss_kib": peak["peak_rss_kib"],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_companies_realms_are_apart_from_the_demo_ones_and_from_each_other() {
        let realms: std::collections::BTreeSet<String> = (1..=COMPANIES).map(realm).collect();
        assert_eq!(realms.len(), COMPANIES);
        for demo in [seed::US_REALM, seed::UK_REALM, seed::CA_REALM, seed::AU_REALM, seed::FR_REALM] {
            assert!(!realms.contains(demo));
        }
        assert!(realms.iter().all(|r| r.len() == seed::US_REALM.len()), "{realms:?}");
    }
}
