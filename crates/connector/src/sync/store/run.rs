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
macro_rules! final_ids {
    () => {
        "(SELECT MAX(id) FROM run_record WHERE run_id = ?1 GROUP BY module, record_id,
    CASE WHEN operation LIKE 'pull%' THEN 1 WHEN operation LIKE 'mirror%' THEN 2 WHEN operation LIKE 'write%' THEN 3 ELSE 0 END)"
    };
}
const FINAL: &str = concat!("AND id IN ", final_ids!());

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
    let rows = statement.query_map(params![run, limit, offset as i64], outcome_of)?;

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
    let rows = statement.query_map(params![instance, limit as i64], run_row)?;
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

/// Which of a run's records History lists; an empty list or `None` lets everything through.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct OutcomeFilter {
    /// The final outcomes wanted.
    #[serde(default)]
    pub outcomes: Vec<Outcome>,
    /// The spec module.
    #[serde(default)]
    pub module: Option<String>,
    /// Part of the record's name, its id or its QuickBooks id, in any case.
    #[serde(default)]
    pub search: Option<String>,
}

/// Which runs History lists; an empty list or `None` lets everything through.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RunFilter {
    /// RFC 3339, or a date (that day's start, UTC): runs started then or later.
    #[serde(default)]
    pub from: Option<String>,
    /// RFC 3339 (runs started before it), or a date (runs started that day, UTC, or before).
    #[serde(default)]
    pub to: Option<String>,
    /// How the run ended; a run still going has no outcome and is left out by any.
    #[serde(default)]
    pub run_outcomes: Vec<RunOutcome>,
    /// Runs that ended with at least one record of one of these outcomes (in `module`, if given).
    #[serde(default)]
    pub outcomes: Vec<Outcome>,
    /// Runs that recorded records of this spec module.
    #[serde(default)]
    pub module: Option<String>,
}

/// One run's part in a record's trail: its final outcome for the record, per direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailRow {
    pub run_id: i64,
    pub started_at: String,
    pub trigger: Trigger,
    pub outcome: RecordOutcome,
}

/// The words of `outcomes` as an SQL list; they come from the enum, never from a caller's text.
fn outcome_list(outcomes: &[Outcome]) -> String {
    outcomes.iter().map(|o| format!("'{o}'")).collect::<Vec<_>>().join(", ")
}

/// The FROM and WHERE of History's record list: `?1` the run, `?2` the spec's modules as a
/// JSON object of module → platform module (for names), `?3` the module, `?4` the search pattern.
fn filtered_records(filter: &OutcomeFilter) -> String {
    let outcomes = if filter.outcomes.is_empty() {
        String::new()
    } else {
        format!("AND r.outcome IN ({})", outcome_list(&filter.outcomes))
    };
    format!(
        "FROM run_record r
         LEFT JOIN json_each(?2) m ON m.key = r.module
         LEFT JOIN platform_record p ON p.module = COALESCE(m.value, r.module) AND p.id = r.record_id
         WHERE r.run_id = ?1 AND r.id IN {final_ids} {outcomes}
           AND (?3 IS NULL OR r.module = ?3)
           AND (?4 IS NULL OR p.title LIKE ?4 ESCAPE '\\' OR r.record_id LIKE ?4 ESCAPE '\\' OR r.qbo_id LIKE ?4 ESCAPE '\\')",
        final_ids = final_ids!()
    )
}

fn search_pattern(search: Option<&str>) -> Option<String> {
    search.map(str::trim).filter(|s| !s.is_empty()).map(crate::platform::like_pattern)
}

/// How many of a run's records `filter` lets through. `modules` maps each spec module to the
/// platform module its records are in (a JSON object), which a search by name needs.
pub fn count_filtered_outcomes(
    db: &Connection,
    run: i64,
    modules: &str,
    filter: &OutcomeFilter,
) -> rusqlite::Result<usize> {
    let sql = format!("SELECT COUNT(*) {}", filtered_records(filter));
    let pattern = search_pattern(filter.search.as_deref());
    db.query_row(&sql, params![run, modules, filter.module, pattern], |row| row.get::<_, i64>(0).map(|n| n as usize))
}

/// A page of a run's records `filter` lets through, in the order they were recorded, each
/// with its platform record's name when the record is in the store.
pub fn filtered_outcomes(
    db: &Connection,
    run: i64,
    modules: &str,
    filter: &OutcomeFilter,
    offset: usize,
    limit: usize,
) -> rusqlite::Result<Vec<(RecordOutcome, Option<String>)>> {
    let sql = format!(
        "SELECT r.module, r.record_id, r.operation, r.outcome, r.qbo_id, r.message, r.code, r.element, r.intuit_tid,
                r.fault, {name} {from} ORDER BY r.id LIMIT ?5 OFFSET ?6",
        name = crate::platform::name_sql("p"),
        from = filtered_records(filter)
    );
    let pattern = search_pattern(filter.search.as_deref());
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut statement = db.prepare_cached(&sql)?;
    let rows = statement.query_map(params![run, modules, filter.module, pattern, limit, offset as i64], |row| {
        Ok((outcome_of(row)?, named(row.get(10)?)))
    })?;
    rows.collect()
}

/// A name that says nothing is no name.
fn named(name: Option<String>) -> Option<String> {
    name.filter(|n| !n.trim().is_empty())
}

/// A record outcome from the first ten columns of a row, in `run_record`'s order.
fn outcome_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordOutcome> {
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
}

/// The name of one platform record of `platform_module`, if the store has it.
pub fn record_name(db: &Connection, platform_module: &str, id: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    let sql =
        format!("SELECT {} FROM platform_record p WHERE p.module = ?1 AND p.id = ?2", crate::platform::name_sql("p"));
    Ok(db.query_row(&sql, params![platform_module, id], |row| row.get(0)).optional()?.and_then(named))
}

/// Every run of the instance that recorded `module`'s record `record_id`, newest first: the
/// record's final outcome in each (a run that pushed and pulled it has a row for each).
pub fn trail(db: &Connection, instance: i64, module: &str, record_id: &str) -> rusqlite::Result<Vec<TrailRow>> {
    let mut statement = db.prepare_cached(
        "SELECT r.module, r.record_id, r.operation, r.outcome, r.qbo_id, r.message, r.code, r.element, r.intuit_tid,
                r.fault, r.run_id, run.started_at, run.trigger
         FROM run_record r JOIN run ON run.id = r.run_id
         WHERE run.instance_id = ?1 AND r.module = ?2 AND r.record_id = ?3
           AND r.id IN (SELECT MAX(r2.id) FROM run_record r2 WHERE r2.run_id = r.run_id AND r2.module = ?2 AND r2.record_id = ?3
                        GROUP BY CASE WHEN r2.operation LIKE 'pull%' THEN 1 WHEN r2.operation LIKE 'mirror%' THEN 2
                                      WHEN r2.operation LIKE 'write%' THEN 3 ELSE 0 END)
         ORDER BY r.run_id DESC, r.id DESC",
    )?;
    let rows = statement.query_map(params![instance, module, record_id], |row| {
        Ok(TrailRow {
            outcome: outcome_of(row)?,
            run_id: row.get(10)?,
            started_at: row.get(11)?,
            trigger: row.get(12)?,
        })
    })?;
    rows.collect()
}

/// The WHERE of History's run list: `?1` the instance, `?2` from, `?3` to (both RFC 3339, UTC),
/// `?4` the module.
fn filtered_runs(filter: &RunFilter) -> String {
    let mut sql = String::from(
        "WHERE instance_id = ?1
           AND (?2 IS NULL OR julianday(started_at) >= julianday(?2))
           AND (?3 IS NULL OR julianday(started_at) < julianday(?3))",
    );
    if !filter.run_outcomes.is_empty() {
        let words: Vec<String> = filter.run_outcomes.iter().map(|o| format!("'{o}'")).collect();
        sql.push_str(&format!(" AND outcome IN ({})", words.join(", ")));
    }
    if filter.module.is_some() || !filter.outcomes.is_empty() {
        // The run's counts are its records' final outcomes per module.
        let any = if filter.outcomes.is_empty() {
            "1".to_owned()
        } else {
            let counted: Vec<String> =
                filter.outcomes.iter().map(|o| format!("json_extract(c.value, '$.{o}') > 0")).collect();
            counted.join(" OR ")
        };
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM json_each(run.counts) c WHERE (?4 IS NULL OR c.key = ?4) AND ({any}))"
        ));
    } else {
        // No module is named: the parameter is there, and null.
        sql.push_str(" AND ?4 IS NULL");
    }
    sql
}

/// How many of the instance's runs `filter` lets through; `from` and `to` as RFC 3339.
pub fn count_filtered_runs(db: &Connection, instance: i64, filter: &RunFilter) -> rusqlite::Result<usize> {
    let sql = format!("SELECT COUNT(*) FROM run {}", filtered_runs(filter));
    db.query_row(&sql, params![instance, filter.from, filter.to, filter.module], |row| {
        row.get::<_, i64>(0).map(|n| n as usize)
    })
}

/// A page of the instance's runs `filter` lets through, newest first.
pub fn filtered_runs_page(
    db: &Connection,
    instance: i64,
    filter: &RunFilter,
    offset: usize,
    limit: usize,
) -> rusqlite::Result<Vec<RunRow>> {
    let sql = format!(
        "SELECT id, trigger, direction, started_at, finished_at, outcome, counts FROM run {}
         ORDER BY id DESC LIMIT ?5 OFFSET ?6",
        filtered_runs(filter)
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut statement = db.prepare_cached(&sql)?;
    let rows =
        statement.query_map(params![instance, filter.from, filter.to, filter.module, limit, offset as i64], run_row)?;
    rows.collect()
}

/// One run, by its id.
pub fn find_run(db: &Connection, run: i64) -> rusqlite::Result<Option<RunRow>> {
    use rusqlite::OptionalExtension;
    db.query_row(
        "SELECT id, trigger, direction, started_at, finished_at, outcome, counts FROM run WHERE id = ?1",
        [run],
        run_row,
    )
    .optional()
}

fn run_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
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
}
