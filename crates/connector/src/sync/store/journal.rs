//! `journal`: every write noted before it is sent, and what a dead run left unfinished.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::spec::DeleteAction;
use crate::sync::plan::{Operation, Planned};
use crate::sync::vocabulary::RecordOp;

/// A write journaled but not known to be answered: its run died, or its answer was lost.
#[derive(Debug, Clone)]
pub struct PendingWrite {
    pub journal_id: i64,
    pub module: String,
    pub platform_id: String,
    /// Create, update or delete.
    pub operation: RecordOp,
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
        let operation = match self.operation {
            RecordOp::Update => {
                Operation::Update { qbo_id, sync_token, body: self.body.clone(), hash: self.platform_hash.clone() }
            }
            RecordOp::Delete => {
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

/// A write about to be sent, as the journal keeps it.
pub struct NewWrite<'a> {
    pub module: &'a str,
    pub platform_id: &'a str,
    /// Create, update or delete.
    pub operation: RecordOp,
    /// The requestid of the call it goes out in: a batch's, or its own.
    pub call_request_id: &'a str,
    pub record_request_id: &'a str,
    pub body: &'a Value,
    pub platform_hash: &'a str,
    pub qbo_id: Option<&'a str>,
    pub sync_token: Option<&'a str>,
}

/// Notes a write as pending before it is sent.
pub fn journal_write(
    db: &Connection,
    instance: i64,
    run: i64,
    write: &NewWrite<'_>,
    created_at: &str,
) -> rusqlite::Result<()> {
    db.prepare_cached(
        "INSERT INTO journal (instance_id, run_id, module, platform_id, operation, request_id, body, platform_hash, state, created_at, record_request_id, qbo_id, sync_token)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        instance,
        run,
        write.module,
        write.platform_id,
        write.operation,
        write.call_request_id,
        write.body.to_string(),
        write.platform_hash,
        created_at,
        write.record_request_id,
        write.qbo_id,
        write.sync_token
    ])?;
    Ok(())
}

/// Marks a pending write as taken over by the run that resumed it.
pub fn mark_resumed(db: &Connection, journal_id: i64) -> rusqlite::Result<()> {
    db.execute("UPDATE journal SET state = 'resumed' WHERE id = ?1", [journal_id])?;
    Ok(())
}
