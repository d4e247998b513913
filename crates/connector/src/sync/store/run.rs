//! `run` and `run_record`: each run, its counts and every record's outcome.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::sync::vocabulary::{Direction, Outcome, RecordOp, RunOutcome, Trigger};

/// One record's outcome in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RecordOutcome {
    pub module: String,
    pub record_id: String,
    pub operation: RecordOp,
    pub outcome: Outcome,
    pub qbo_id: Option<String>,
    pub message: Option<String>,
    pub code: Option<String>,
    pub element: Option<String>,
    pub intuit_tid: Option<String>,
    pub fault: Option<String>,
}

impl RecordOutcome {
    /// An outcome with nothing from QuickBooks attached yet.
    pub fn new(module: impl Into<String>, record_id: impl Into<String>, operation: RecordOp, outcome: Outcome) -> Self {
        RecordOutcome {
            module: module.into(),
            record_id: record_id.into(),
            operation,
            outcome,
            qbo_id: None,
            message: None,
            code: None,
            element: None,
            intuit_tid: None,
            fault: None,
        }
    }
}

pub fn add_outcome(db: &Connection, run: i64, outcome: &RecordOutcome) -> rusqlite::Result<()> {
    db.prepare_cached(
        "INSERT INTO run_record (run_id, module, record_id, operation, outcome, qbo_id, message, code, element, intuit_tid, fault)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        run,
        outcome.module,
        outcome.record_id,
        outcome.operation,
        outcome.outcome,
        outcome.qbo_id,
        outcome.message,
        outcome.code,
        outcome.element,
        outcome.intuit_tid,
        outcome.fault
    ])?;
    Ok(())
}

pub fn outcomes(db: &Connection, run: i64, only_problems: bool) -> rusqlite::Result<Vec<RecordOutcome>> {
    outcomes_page(db, run, only_problems, 0, i64::MAX as usize)
}

/// A record's final outcome in a run: a record can be written more than once in one run (an
/// interrupted run's write marked unfinished, then sent again), and only its last word counts.
/// Pushes, pulls, and reads from and writes to the linked platform of one record are apart.
const FINAL: &str = "AND id IN (SELECT MAX(id) FROM run_record WHERE run_id = ?1 GROUP BY module, record_id,
    CASE WHEN operation LIKE 'pull%' THEN 1 WHEN operation LIKE 'mirror%' THEN 2 WHEN operation LIKE 'write%' THEN 3 ELSE 0 END)";

fn filter(only_problems: bool) -> String {
    if only_problems {
        let problems: Vec<String> = Outcome::ALL.iter().filter(|o| o.is_problem()).map(|o| format!("'{o}'")).collect();
        format!("{FINAL} AND outcome IN ({})", problems.join(", "))
    } else {
        FINAL.to_owned()
    }
}

/// How many records a run has (or had problems with).
pub fn count_outcomes(db: &Connection, run: i64, only_problems: bool) -> rusqlite::Result<usize> {
    let filter = filter(only_problems);
    db.query_row(&format!("SELECT COUNT(*) FROM run_record WHERE run_id = ?1 {filter}"), [run], |row| {
        row.get::<_, i64>(0).map(|n| n as usize)
    })
}

/// A run's final outcomes counted by operation and outcome, for summaries that tell what was
/// sent from what was received.
pub fn tally(db: &Connection, run: i64) -> rusqlite::Result<Vec<(RecordOp, Outcome, usize)>> {
    let mut statement = db.prepare_cached(&format!(
        "SELECT operation, outcome, COUNT(*) FROM run_record WHERE run_id = ?1 {FINAL} GROUP BY operation, outcome"
    ))?;
    let rows = statement.query_map([run], |row| {
        Ok((row.get::<_, RecordOp>(0)?, row.get::<_, Outcome>(1)?, row.get::<_, i64>(2)? as usize))
    })?;
    rows.collect()
}

/// Closes the instance's runs that never ended as `interrupted`, with the counts of what each
/// recorded before it died. The caller holds the instance's run lock, so none is still going.
pub fn close_interrupted_runs(db: &Connection, instance: i64, finished_at: &str) -> rusqlite::Result<Vec<i64>> {
    let open: Vec<i64> = {
        let mut statement = db.prepare("SELECT id FROM run WHERE instance_id = ?1 AND finished_at IS NULL")?;
        let rows = statement.query_map([instance], |row| row.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for &run in &open {
        let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
        let mut statement = db.prepare(&format!(
            "SELECT module, outcome, COUNT(*) FROM run_record WHERE run_id = ?1 {FINAL} GROUP BY module, outcome"
        ))?;
        let rows = statement
            .query_map([run], |row| Ok((row.get::<_, String>(0)?, row.get::<_, Outcome>(1)?, row.get::<_, i64>(2)?)))?;
        for row in rows {
            let (module, outcome, n) = row?;
            let module_counts = counts.entry(module).or_default();
            for _ in 0..n {
                module_counts.add(outcome);
            }
        }
        finish_run(db, run, finished_at, RunOutcome::Interrupted, &counts)?;
    }
    Ok(open)
}

/// Instances that have a run with no end.
pub fn instances_with_open_runs(db: &Connection) -> rusqlite::Result<Vec<i64>> {
    let mut statement = db.prepare("SELECT DISTINCT instance_id FROM run WHERE finished_at IS NULL")?;
    let rows = statement.query_map([], |row| row.get(0))?;
    rows.collect()
}

/// A run's records in the order they were recorded, `limit` from `offset`.
pub fn outcomes_page(
    db: &Connection,
    run: i64,
    only_problems: bool,
    offset: usize,
    limit: usize,
) -> rusqlite::Result<Vec<RecordOutcome>> {
    let filter = filter(only_problems);
    let mut statement = db.prepare_cached(&format!(
        "SELECT module, record_id, operation, outcome, qbo_id, message, code, element, intuit_tid, fault FROM run_record
         WHERE run_id = ?1 {filter} ORDER BY id LIMIT ?2 OFFSET ?3"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![run, limit, offset as i64], |row| {
        Ok(RecordOutcome {
            module: row.get(0)?,
            record_id: row.get(1)?,
            operation: row.get(2)?,
            outcome: row.get(3)?,
            qbo_id: row.get(4)?,
            message: row.get(5)?,
            code: row.get(6)?,
            element: row.get(7)?,
            intuit_tid: row.get(8)?,
            fault: row.get(9)?,
        })
    })?;
    rows.collect()
}

/// Platform records of `module` whose push failed or waited on a dependency in the instance's last run that pushed them.
pub fn unfinished_records(db: &Connection, instance: i64, module: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = db.prepare_cached(
        "SELECT r.record_id FROM run_record r JOIN run ON run.id = r.run_id
         WHERE run.instance_id = ?1 AND r.module = ?2 AND r.operation NOT LIKE 'pull%'
           AND r.operation NOT LIKE 'mirror%' AND r.operation NOT LIKE 'write%'
           AND r.id = (SELECT MAX(r2.id) FROM run_record r2 JOIN run run2 ON run2.id = r2.run_id
                       WHERE run2.instance_id = ?1 AND r2.module = ?2 AND r2.record_id = r.record_id AND r2.operation NOT LIKE 'pull%'
                         AND r2.operation NOT LIKE 'mirror%' AND r2.operation NOT LIKE 'write%')
           AND r.outcome IN ('failed', 'blocked')",
    )?;
    let rows = statement.query_map(params![instance, module], |row| row.get(0))?;
    rows.collect()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Counts {
    pub ok: usize,
    pub failed: usize,
    pub skipped: usize,
    pub blocked: usize,
    pub held: usize,
}

impl Counts {
    pub fn add(&mut self, outcome: Outcome) {
        let count = match outcome {
            Outcome::Ok => &mut self.ok,
            Outcome::Failed => &mut self.failed,
            Outcome::Skipped => &mut self.skipped,
            Outcome::Blocked => &mut self.blocked,
            Outcome::Held => &mut self.held,
        };
        *count += 1;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RunRow {
    pub id: i64,
    pub trigger: Trigger,
    pub direction: Direction,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: Option<RunOutcome>,
    pub counts: BTreeMap<String, Counts>,
}

pub fn runs(db: &Connection, instance: i64, limit: usize) -> rusqlite::Result<Vec<RunRow>> {
    let mut statement =
        db.prepare("SELECT id, trigger, direction, started_at, finished_at, outcome, counts FROM run WHERE instance_id = ?1 ORDER BY id DESC LIMIT ?2")?;
    let rows = statement.query_map(params![instance, limit as i64], |row| {
        let counts: String = row.get(6)?;
        Ok(RunRow {
            id: row.get(0)?,
            trigger: row.get(1)?,
            direction: row.get(2)?,
            started_at: row.get(3)?,
            finished_at: row.get(4)?,
            outcome: row.get(5)?,
            counts: serde_json::from_str(&counts).unwrap_or_default(),
        })
    })?;
    rows.collect()
}

/// Starts a run of the instance; answers its id.
pub fn start_run(
    db: &Connection,
    instance: i64,
    trigger: Trigger,
    direction: Direction,
    started_at: &str,
) -> rusqlite::Result<i64> {
    db.execute(
        "INSERT INTO run (instance_id, trigger, direction, started_at) VALUES (?1, ?2, ?3, ?4)",
        params![instance, trigger, direction, started_at],
    )?;
    Ok(db.last_insert_rowid())
}

/// Ends a run with its outcome and its counts per module.
pub fn finish_run(
    db: &Connection,
    run: i64,
    finished_at: &str,
    outcome: RunOutcome,
    counts: &BTreeMap<String, Counts>,
) -> rusqlite::Result<()> {
    db.execute(
        "UPDATE run SET finished_at = ?2, outcome = ?3, counts = ?4 WHERE id = ?1",
        params![run, finished_at, outcome, serde_json::to_string(counts).unwrap_or_default()],
    )?;
    Ok(())
}
