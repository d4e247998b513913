//! The sync engine's tables: links, journal, runs and their records, cursors, conflicts.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use serde_json::Value;

use super::plan::{LinkState, Operation, Planned};
use crate::spec::DeleteAction;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Link {
    pub module: String,
    pub platform_id: String,
    pub qbo_id: String,
    pub sync_token: Option<String>,
    pub platform_hash: Option<String>,
    pub qbo_hash: Option<String>,
    pub synced_at: String,
}

impl Link {
    pub fn state(&self) -> LinkState {
        LinkState {
            qbo_id: self.qbo_id.clone(),
            sync_token: self.sync_token.clone(),
            platform_hash: self.platform_hash.clone(),
        }
    }
}

fn to_link(row: &rusqlite::Row<'_>) -> rusqlite::Result<Link> {
    Ok(Link {
        module: row.get(0)?,
        platform_id: row.get(1)?,
        qbo_id: row.get(2)?,
        sync_token: row.get(3)?,
        platform_hash: row.get(4)?,
        qbo_hash: row.get(5)?,
        synced_at: row.get(6)?,
    })
}

const LINK_COLUMNS: &str = "module, platform_id, qbo_id, sync_token, platform_hash, qbo_hash, synced_at";

pub fn link_by_platform(
    db: &Connection,
    instance: i64,
    module: &str,
    platform_id: &str,
) -> rusqlite::Result<Option<Link>> {
    db.prepare_cached(&format!(
        "SELECT {LINK_COLUMNS} FROM link WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3"
    ))?
    .query_row(params![instance, module, platform_id], to_link)
    .optional()
}

/// A write journaled but not known to be answered: its run died, or its answer was lost.
#[derive(Debug, Clone)]
pub struct PendingWrite {
    pub journal_id: i64,
    pub module: String,
    pub platform_id: String,
    /// create | update | delete
    pub operation: String,
    pub body: Value,
    pub platform_hash: String,
    /// The requestid of the call it went out in, and how many writes that call carried.
    pub batch_request_id: String,
    pub batch_size: usize,
    /// Its own requestid, QuickBooks id and SyncToken: `None` in rows an older version wrote.
    pub record_request_id: Option<String>,
    pub qbo_id: Option<String>,
    pub sync_token: Option<String>,
}

impl PendingWrite {
    /// The update or delete as it was planned, with its requestid, when it can be sent again as it was.
    pub fn resendable(&self) -> Option<(Planned, qbo::RequestId)> {
        let request_id = qbo::RequestId::parse(self.record_request_id.as_deref()?).ok()?;
        let (qbo_id, sync_token) = (self.qbo_id.clone()?, self.sync_token.clone()?);
        let operation = match self.operation.as_str() {
            "update" => {
                Operation::Update { qbo_id, sync_token, body: self.body.clone(), hash: self.platform_hash.clone() }
            }
            "delete" => {
                let action: DeleteAction = serde_json::from_value(self.body.get("action")?.clone()).ok()?;
                Operation::Delete { qbo_id, sync_token, action }
            }
            _ => return None,
        };
        Some((Planned { platform_id: self.platform_id.clone(), operation }, request_id))
    }
}

/// The instance's pending writes, oldest first.
pub fn pending_writes(db: &Connection, instance: i64) -> rusqlite::Result<Vec<PendingWrite>> {
    let mut statement = db.prepare(
        "SELECT id, module, platform_id, operation, body, platform_hash, record_request_id, qbo_id, sync_token, request_id,
                (SELECT COUNT(*) FROM journal call WHERE call.instance_id = journal.instance_id AND call.request_id = journal.request_id)
         FROM journal WHERE instance_id = ?1 AND state = 'pending' ORDER BY id",
    )?;
    let rows = statement.query_map([instance], |row| {
        let body: String = row.get(4)?;
        Ok(PendingWrite {
            journal_id: row.get(0)?,
            module: row.get(1)?,
            platform_id: row.get(2)?,
            operation: row.get(3)?,
            body: serde_json::from_str(&body).unwrap_or(Value::Null),
            platform_hash: row.get(5)?,
            record_request_id: row.get(6)?,
            qbo_id: row.get(7)?,
            sync_token: row.get(8)?,
            batch_request_id: row.get(9)?,
            batch_size: row.get::<_, i64>(10)? as usize,
        })
    })?;
    rows.collect()
}

/// Ends the pending journal entry of a record's write as `state` (done, failed).
pub fn finish_journal(
    db: &Connection,
    instance: i64,
    module: &str,
    platform_id: &str,
    state: &str,
) -> rusqlite::Result<()> {
    db.prepare_cached(
        "UPDATE journal SET state = ?4 WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3 AND state = 'pending'",
    )?
    .execute(params![instance, module, platform_id, state])?;
    Ok(())
}

pub fn link_by_qbo(db: &Connection, instance: i64, module: &str, qbo_id: &str) -> rusqlite::Result<Option<Link>> {
    db.prepare_cached(&format!(
        "SELECT {LINK_COLUMNS} FROM link WHERE instance_id = ?1 AND module = ?2 AND qbo_id = ?3"
    ))?
    .query_row(params![instance, module, qbo_id], to_link)
    .optional()
}

/// Links of any module whose platform id is `platform_id` (module → qbo id).
pub fn links_of_platform_id(
    db: &Connection,
    instance: i64,
    platform_id: &str,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement =
        db.prepare_cached("SELECT module, qbo_id FROM link WHERE instance_id = ?1 AND platform_id = ?2")?;
    let rows = statement.query_map(params![instance, platform_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// Links of any module whose QuickBooks id is `qbo_id` (module → platform id).
pub fn links_of_qbo_id(db: &Connection, instance: i64, qbo_id: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement =
        db.prepare_cached("SELECT module, platform_id FROM link WHERE instance_id = ?1 AND qbo_id = ?2")?;
    let rows = statement.query_map(params![instance, qbo_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

pub fn save_link(db: &Connection, instance: i64, link: &Link) -> rusqlite::Result<()> {
    db.prepare_cached(
        "INSERT INTO link (instance_id, module, platform_id, qbo_id, sync_token, platform_hash, qbo_hash, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (instance_id, module, platform_id) DO UPDATE SET qbo_id = excluded.qbo_id, sync_token = excluded.sync_token,
             platform_hash = excluded.platform_hash, qbo_hash = excluded.qbo_hash, synced_at = excluded.synced_at",
    )?
    .execute(params![instance, link.module, link.platform_id, link.qbo_id, link.sync_token, link.platform_hash, link.qbo_hash, link.synced_at])?;
    Ok(())
}

pub fn delete_link(db: &Connection, instance: i64, module: &str, platform_id: &str) -> rusqlite::Result<usize> {
    db.execute(
        "DELETE FROM link WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3",
        params![instance, module, platform_id],
    )
}

pub fn links(db: &Connection, instance: i64, module: &str) -> rusqlite::Result<Vec<Link>> {
    let mut statement = db.prepare(&format!(
        "SELECT {LINK_COLUMNS} FROM link WHERE instance_id = ?1 AND module = ?2 ORDER BY platform_id"
    ))?;
    let rows = statement.query_map(params![instance, module], to_link)?;
    rows.collect()
}

pub fn cursor(db: &Connection, instance: i64, name: &str) -> rusqlite::Result<Option<String>> {
    db.query_row("SELECT value FROM sync_cursor WHERE instance_id = ?1 AND name = ?2", params![instance, name], |row| {
        row.get(0)
    })
    .optional()
}

pub fn set_cursor(db: &Connection, instance: i64, name: &str, value: &str) -> rusqlite::Result<()> {
    db.execute(
        "INSERT INTO sync_cursor (instance_id, name, value) VALUES (?1, ?2, ?3) ON CONFLICT (instance_id, name) DO UPDATE SET value = excluded.value",
        params![instance, name, value],
    )?;
    Ok(())
}

/// The QuickBooks ids of `module` whose last pull could not be stored.
pub fn pull_retries(db: &Connection, instance: i64, module: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement =
        db.prepare("SELECT qbo_id FROM pull_retry WHERE instance_id = ?1 AND module = ?2 ORDER BY qbo_id")?;
    let rows = statement.query_map(params![instance, module], |row| row.get(0))?;
    rows.collect()
}

pub fn set_pull_retry(db: &Connection, instance: i64, module: &str, qbo_id: &str, again: bool) -> rusqlite::Result<()> {
    let sql = if again {
        "INSERT OR IGNORE INTO pull_retry (instance_id, module, qbo_id) VALUES (?1, ?2, ?3)"
    } else {
        "DELETE FROM pull_retry WHERE instance_id = ?1 AND module = ?2 AND qbo_id = ?3"
    };
    db.execute(sql, params![instance, module, qbo_id])?;
    Ok(())
}

/// What an entry of the conflict inbox asks the operator to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// The record changed here and in QuickBooks since the last sync: resolved field by field.
    ChangedOnBothSides,
    /// QuickBooks sees the record as the entity another record here is already linked to
    /// (the same name or number): link this one instead, rename it, or leave it.
    SameEntity,
}

impl ConflictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::ChangedOnBothSides => "changed_on_both_sides",
            ConflictKind::SameEntity => "same_entity",
        }
    }

    pub fn parse(text: &str) -> Option<ConflictKind> {
        [ConflictKind::ChangedOnBothSides, ConflictKind::SameEntity].into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A record QuickBooks sees as the entity another record of its module is linked to.
pub struct SameEntity<'a> {
    pub module: &'a str,
    pub platform_id: &'a str,
    pub qbo_id: &'a str,
    /// The record the entity is linked to already.
    pub other_platform_id: &'a str,
    pub platform_version: &'a Value,
    /// The entity as read when the collision was met; `null` when it could not be read.
    pub qbo_version: &'a Value,
    /// The value QuickBooks compared (a name or a number), when the match rule gives one.
    pub matched_value: Option<&'a str>,
    pub created_at: &'a str,
}

/// Opens (or refreshes) the record's one open entry as a same-entity decision.
pub fn hold_same_entity(db: &Connection, instance: i64, entry: &SameEntity<'_>) -> rusqlite::Result<()> {
    db.prepare_cached(
        "INSERT INTO conflict (instance_id, module, platform_id, qbo_id, platform_version, qbo_version, created_at, kind, other_platform_id, matched_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'same_entity', ?8, ?9)
         ON CONFLICT (instance_id, module, platform_id) WHERE resolved_at IS NULL DO UPDATE SET
             qbo_id = excluded.qbo_id, platform_version = excluded.platform_version, qbo_version = excluded.qbo_version,
             last_synced = NULL, created_at = excluded.created_at, kind = excluded.kind,
             other_platform_id = excluded.other_platform_id, matched_value = excluded.matched_value",
    )?
    .execute(params![
        instance,
        entry.module,
        entry.platform_id,
        entry.qbo_id,
        entry.platform_version.to_string(),
        entry.qbo_version.to_string(),
        entry.created_at,
        entry.other_platform_id,
        entry.matched_value,
    ])?;
    Ok(())
}

/// Whether the operator chose to leave this very collision (this record, this entity, that
/// other record) as it is: it is not put before them again.
pub fn same_entity_left(
    db: &Connection,
    instance: i64,
    module: &str,
    platform_id: &str,
    qbo_id: &str,
    other_platform_id: &str,
) -> rusqlite::Result<bool> {
    db.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM conflict WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3
             AND qbo_id = ?4 AND other_platform_id = ?5 AND kind = 'same_entity' AND resolution = 'dismissed')",
    )?
    .query_row(params![instance, module, platform_id, qbo_id, other_platform_id], |row| row.get(0))
}

/// Closes the module's open same-entity entries that no longer wait for anyone: the record is
/// linked now (renamed or unlinked elsewhere, then sent) or deleted here.
pub fn settle_same_entity(
    db: &Connection,
    instance: i64,
    module: &str,
    platform_module: &str,
    at: &str,
) -> rusqlite::Result<usize> {
    db.prepare_cached(
        "UPDATE conflict SET resolved_at = ?4, resolution = 'settled'
         WHERE instance_id = ?1 AND module = ?2 AND kind = 'same_entity' AND resolved_at IS NULL
           AND (EXISTS (SELECT 1 FROM link WHERE link.instance_id = ?1 AND link.module = ?2 AND link.platform_id = conflict.platform_id)
                OR EXISTS (SELECT 1 FROM platform_record record WHERE record.module = ?3 AND record.id = conflict.platform_id
                           AND record.deleted_at IS NOT NULL))",
    )?
    .execute(params![instance, module, platform_module, at])
}

/// Closes an open entry of the inbox, saying how (`fields`, `link_instead`, `renamed`, `dismissed`).
pub fn close_conflict(db: &Connection, conflict_id: i64, resolution: &str, at: &str) -> rusqlite::Result<usize> {
    db.execute(
        "UPDATE conflict SET resolved_at = ?3, resolution = ?2 WHERE id = ?1 AND resolved_at IS NULL",
        params![conflict_id, resolution, at],
    )
}

/// One record's outcome in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RecordOutcome {
    pub module: String,
    pub record_id: String,
    pub operation: String,
    /// ok | failed | skipped | blocked | held
    pub outcome: String,
    pub qbo_id: Option<String>,
    pub message: Option<String>,
    pub code: Option<String>,
    pub element: Option<String>,
    pub intuit_tid: Option<String>,
    pub fault: Option<String>,
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
/// Pushes and pulls of one record are apart.
const FINAL: &str =
    "AND id IN (SELECT MAX(id) FROM run_record WHERE run_id = ?1 GROUP BY module, record_id, operation LIKE 'pull%')";

fn filter(only_problems: bool) -> String {
    if only_problems {
        format!("{FINAL} AND outcome IN ('failed', 'blocked', 'held')")
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
            .query_map([run], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?)))?;
        for row in rows {
            let (module, outcome, n) = row?;
            let module_counts = counts.entry(module).or_default();
            for _ in 0..n {
                module_counts.add(&outcome);
            }
        }
        db.execute(
            "UPDATE run SET finished_at = ?2, outcome = 'interrupted', counts = ?3 WHERE id = ?1",
            params![run, finished_at, serde_json::to_string(&counts).unwrap_or_default()],
        )?;
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

/// The body of the last write for a record that QuickBooks accepted, as JSON text.
pub fn last_sent_body(
    db: &Connection,
    instance: i64,
    module: &str,
    platform_id: &str,
) -> rusqlite::Result<Option<String>> {
    db.prepare_cached(
        "SELECT body FROM journal WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3
           AND state = 'done' AND operation IN ('create', 'update') ORDER BY id DESC LIMIT 1",
    )?
    .query_row(params![instance, module, platform_id], |row| row.get(0))
    .optional()
}

/// Platform records of `module` that failed or waited on a dependency in the instance's last run that processed them.
pub fn unfinished_records(db: &Connection, instance: i64, module: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = db.prepare_cached(
        "SELECT r.record_id FROM run_record r JOIN run ON run.id = r.run_id
         WHERE run.instance_id = ?1 AND r.module = ?2 AND r.operation NOT LIKE 'pull%'
           AND r.id = (SELECT MAX(r2.id) FROM run_record r2 JOIN run run2 ON run2.id = r2.run_id
                       WHERE run2.instance_id = ?1 AND r2.module = ?2 AND r2.record_id = r.record_id AND r2.operation NOT LIKE 'pull%')
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
    pub fn add(&mut self, outcome: &str) {
        match outcome {
            "ok" => self.ok += 1,
            "failed" => self.failed += 1,
            "blocked" => self.blocked += 1,
            "held" => self.held += 1,
            _ => self.skipped += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RunRow {
    pub id: i64,
    pub trigger: String,
    pub direction: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
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
