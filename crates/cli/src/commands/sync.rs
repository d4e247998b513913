//! `qbconnector sync`, `push`, `pull`, `runs`, `run` (and its CSV report), `retry`, `resync`, `link` and `unlink`:
//! runs and what they did to each record.

use std::path::Path;

use connector::api::{Connector, RunKind};
use connector::error::{ApiError, ErrorCode};
use connector::sync::plan::Operation;
use connector::sync::store::{OutcomeFilter, RecordOutcome};
use connector::sync::{Direction, Outcome, PlanView, ProblemFix, ProblemGroup, RunOutcome, Trigger};
use serde_json::json;

use crate::args::SyncArgs;
use crate::output::{col, lines, num, run_summary, show, table, Finished};
use crate::progress;

pub async fn run(
    connector: &Connector,
    json: bool,
    args: SyncArgs,
    direction: Direction,
) -> Result<Finished, ApiError> {
    let modules = (!args.modules.is_empty()).then(|| args.modules.clone());
    if args.dry_run {
        let plan = connector.plan(&args.name, modules).await?;
        show(json, &plan, || describe_plan(&plan));
        return Ok(Finished::Done);
    }
    let kind = RunKind::Sync { direction, modules, trigger: Trigger::Cli };
    let summary = progress::run(connector, json, &args.name, kind).await?;
    let finished = run_summary(json, &summary);
    if finished == Finished::RecordsNeedAttention && !json {
        eprintln!("Some records need attention: qbconnector run {} {} --problems", args.name, summary.run_id);
    }
    Ok(finished)
}

pub fn runs(connector: &Connector, json: bool, name: &str, limit: usize) -> Result<(), ApiError> {
    let runs = connector.runs(name, limit)?;
    show(json, &runs, || {
        let columns = [
            col("RUN"),
            col("STARTED"),
            col("TRIGGER"),
            col("DIRECTION"),
            col("OUTCOME"),
            num("DONE"),
            num("NEED ATTENTION"),
        ];
        table(&columns, &runs, "", |r| {
            let ok: usize = r.counts.values().map(|c| c.ok).sum();
            let failed: usize = r.counts.values().map(|c| c.failed + c.blocked + c.held).sum();
            vec![
                format!("#{}", r.id),
                r.started_at.clone(),
                r.trigger.to_string(),
                r.direction.to_string(),
                r.outcome.map_or("running", RunOutcome::in_words).to_owned(),
                ok.to_string(),
                failed.to_string(),
            ]
        })
    });
    Ok(())
}

/// A run's records; with `problems`, first a line per cause with its count, then the records.
pub fn run_records(connector: &Connector, json: bool, name: &str, id: i64, problems: bool) -> Result<(), ApiError> {
    let records = connector.run_records(name, id, problems)?;
    let groups = if problems { connector.run_problems(name, id)? } else { Vec::new() };
    show(json, &records, || {
        let columns =
            [col("OUTCOME"), col("MODULE"), col("RECORD"), col("OPERATION"), col("QUICKBOOKS"), col("MESSAGE")];
        let listed = table(&columns, &records, "No records.", describe_outcome);
        if groups.is_empty() {
            return listed;
        }
        let causes = lines(&groups, "", |group| describe_problem(name, group));
        format!(
            "{causes}

{listed}"
        )
    });
    Ok(())
}

/// A run's report as CSV, with `problems` only its failed, waiting and held records: to `file`,
/// or to standard output when it is `-`.
pub fn run_report(connector: &Connector, name: &str, id: i64, problems: bool, file: &Path) -> Result<(), ApiError> {
    let outcomes =
        if problems { Outcome::ALL.iter().copied().filter(|o| o.is_problem()).collect() } else { Vec::new() };
    let filter = OutcomeFilter { outcomes, ..OutcomeFilter::default() };
    if file == Path::new("-") {
        connector.write_run_report(name, id, &filter, std::io::stdout().lock())?;
        return Ok(());
    }
    let cannot = |e: std::io::Error| ApiError::new(ErrorCode::Storage, format!("cannot write {}: {e}", file.display()));
    let out = std::fs::File::create(file).map_err(cannot)?;
    connector.write_run_report(name, id, &filter, std::io::BufWriter::new(out))?;
    Ok(())
}

fn describe_problem(name: &str, group: &ProblemGroup) -> String {
    let count = group.records.len();
    let what = match group.outcome {
        Outcome::Held => "held",
        Outcome::Blocked => "waiting",
        _ => "failed",
    };
    let code = match (&group.code, &group.element) {
        (Some(code), Some(field)) => format!(" (QuickBooks {code}, field {field})"),
        (Some(code), None) => format!(" (QuickBooks {code})"),
        _ => String::new(),
    };
    let fix = match &group.fix {
        Some(ProblemFix::Choose { variable }) => {
            format!(
                " Fix: qbconnector setup {name:?} --choose \"{variable}=NAME\" (or Settings → QuickBooks defaults)."
            )
        }
        Some(ProblemFix::Mapping { module, field }) => format!(" Fix: the {module} mapping of {field} (spec edit)."),
        Some(ProblemFix::Conflicts) => format!(" Fix: qbconnector conflicts {name:?}, then resolve."),
        None => String::new(),
    };
    format!("{count} {} {what}{code}: {}{fix}", group.module, group.cause)
}

pub async fn retry(connector: &Connector, json: bool, name: &str, run: i64) -> Result<Finished, ApiError> {
    Ok(run_summary(json, &progress::run(connector, json, name, RunKind::Retry { run_id: run }).await?))
}

pub async fn resync(
    connector: &Connector,
    json: bool,
    name: &str,
    module: &str,
    id: &str,
) -> Result<Finished, ApiError> {
    let kind = RunKind::Resync { module: module.to_owned(), platform_id: id.to_owned() };
    Ok(run_summary(json, &progress::run(connector, json, name, kind).await?))
}

pub async fn link(
    connector: &Connector,
    json: bool,
    name: &str,
    module: &str,
    id: &str,
    qbo_id: &str,
) -> Result<(), ApiError> {
    connector.link(name, module, id, qbo_id).await?;
    show(json, &json!({"linked": true}), || format!("{module} {id} is linked to QuickBooks {qbo_id}."));
    Ok(())
}

pub fn unlink(connector: &Connector, json: bool, name: &str, module: &str, id: &str) -> Result<(), ApiError> {
    connector.unlink(name, module, id)?;
    show(json, &json!({"unlinked": true}), || format!("{module} {id} is no longer linked."));
    Ok(())
}

/// The dry run's plan, module by module; an update lists the fields it changes under it.
fn describe_plan(plan: &[PlanView]) -> String {
    let mut text = String::new();
    for view in plan {
        text.push_str(&format!("{} → {}\n", view.module, view.entity));
        let operations = table(&[col("OPERATION"), col("RECORD"), col("DETAIL")], &view.operations, "", |planned| {
            let (op, detail) = match &planned.operation {
                Operation::Create { body, .. } => ("create", body.to_string()),
                Operation::Update { qbo_id, body, .. } => ("update", format!("QuickBooks {qbo_id}: {body}")),
                Operation::Delete { qbo_id, action, .. } => ("delete", format!("QuickBooks {qbo_id} ({action:?})")),
                Operation::Link { qbo_id, .. } => ("link", format!("already in QuickBooks as {qbo_id}")),
                Operation::Skip { reason, .. } => ("skip", reason.clone()),
                Operation::Fail { reason } => ("fail", reason.clone()),
            };
            let detail = match (&planned.operation, view.differences.get(&planned.platform_id)) {
                (Operation::Update { qbo_id, .. }, Some(changes)) if changes.is_empty() => {
                    format!("QuickBooks {qbo_id}\n(QuickBooks already has every field)")
                }
                (Operation::Update { qbo_id, .. }, Some(changes)) => std::iter::once(format!("QuickBooks {qbo_id}"))
                    .chain(changes.iter().map(|c| format!("{}: {} → {}", c.field, c.quickbooks, c.sent)))
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => detail,
            };
            vec![op.to_owned(), planned.platform_id.clone(), detail]
        });
        if !operations.is_empty() {
            text.push_str(&operations);
            text.push('\n');
        }
    }
    text.trim_end().to_owned()
}

/// A record's row: its message, and what QuickBooks said of it, under one another.
fn describe_outcome(o: &RecordOutcome) -> Vec<String> {
    let details: Vec<String> = [("code", &o.code), ("field", &o.element), ("intuit_tid", &o.intuit_tid)]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
        .collect();
    let message = o
        .message
        .iter()
        .cloned()
        .chain((!details.is_empty()).then(|| format!("({})", details.join(", "))))
        .collect::<Vec<_>>()
        .join("\n");
    vec![
        o.outcome.to_string(),
        o.module.clone(),
        o.record_id.clone(),
        o.operation.to_string(),
        o.qbo_id.clone().unwrap_or_default(),
        message,
    ]
}
