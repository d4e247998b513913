//! Reading the linked platform into the store, module by module in dependency order.
//!
//! Each module reads what changed since its cursor (the newest update time seen), by the
//! platform's own filter or, where it has none, down a list sorted newest first until an
//! older row. A first read, and one a day after, reads everything and marks deleted here
//! what is gone there. A row read twice is harmless: one that hashes as before is left.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::super::engine::{stamp, storage, Engine};
use super::super::store::{self as db, RecordOutcome, Remote};
use super::super::vocabulary::{Outcome, Phase, RecordOp};
use super::{link_failed, record_hash, LinkedPlatform};
use crate::error::ApiError;
use crate::platform::profile::Changes;
use crate::platform::rest::key_of;
use crate::platform::schema::rewrite_references;
use crate::platform::{apply_mirrored, apply_mirrored_delete, Module};

/// How often a run reads a module whole to learn of deletes, where the platform cannot say.
const READ_ALL_EVERY: Duration = Duration::hours(24);
/// How far before its cursor a module's changes are read again.
const OVERLAP: Duration = Duration::seconds(60);

impl Engine<'_> {
    pub(in crate::sync) async fn mirror_module(
        &mut self,
        linked: &LinkedPlatform,
        module: Module,
    ) -> Result<(), ApiError> {
        let Some(api) = linked.client.module_api(module) else { return Ok(()) };
        let platform = linked.key().to_owned();
        let read_name = format!("read:{module}");
        let whole_name = format!("read_all:{module}");
        let (since, read_whole_at) = {
            let connection = self.store.connection();
            (
                db::platform_cursor(&connection, &platform, &read_name).map_err(storage)?,
                db::platform_cursor(&connection, &platform, &whole_name).map_err(storage)?,
            )
        };
        let due =
            read_whole_at.and_then(|at| qbo::rfc3339::parse(&at)).is_none_or(|at| self.now() - at >= READ_ALL_EVERY);
        let whole = since.is_none() || due || linked.read_all;
        let since_time = since.as_deref().and_then(qbo::rfc3339::parse);
        // Read from a little before the cursor: a record changed in the same instant as the
        // newest one seen, after it was read, would fall outside a strict "after" (and the
        // platform's clock may stand on one value for several writes). Rows read twice hash
        // as before and are left.
        let read_from = since_time.map(|s| s - OVERLAP);
        let read_from_text = read_from.map(stamp);
        let sorted_newest_first = matches!(api.changes, Changes::ClientFilter { .. });
        let id_field = api.id.clone();

        // A whole read notes each record it sees in the store (not in memory, which would
        // grow with the platform); what it did not see afterwards is gone there.
        let mut seen_any = false;
        let mut newest: Option<DateTime<Utc>> = None;
        let mut read = 0;
        let mut at = Some(linked.client.first_page(module).map_err(link_failed)?);
        let mut finished = true;
        while let Some(page_at) = at {
            if self.cancel.load(Ordering::Relaxed) {
                finished = false;
                break;
            }
            let filter = if whole { None } else { read_from_text.as_deref() };
            // A whole read goes in the platform's own order: sorting every page of a large list
            // costs the platform far more than the rows.
            let newest_first = sorted_newest_first && !whole;
            let page = linked.client.list_page(module, &page_at, newest_first, filter).await.map_err(link_failed)?;
            // A page is written in one transaction: one commit a page, not a record.
            let mut batch: Vec<(String, Result<Value, String>)> = Vec::new();
            let mut reached_the_cursor = false;
            for row in &page.rows {
                read += 1;
                let remote_id = key_of(row, &id_field);
                let record = linked.inbound(module, row);
                let updated = record
                    .as_ref()
                    .ok()
                    .and_then(|r| r.get("UpdatedAt"))
                    .and_then(Value::as_str)
                    .and_then(qbo::rfc3339::parse);
                if let (false, true, Some(updated), Some(from)) = (whole, sorted_newest_first, updated, read_from) {
                    if updated < from {
                        reached_the_cursor = true;
                        break;
                    }
                }
                newest = newest.max(updated);
                let Some(remote_id) = remote_id else {
                    let outcome = RecordOutcome::new(module.name(), "(no id)", RecordOp::MirrorCreate, Outcome::Failed);
                    self.record_mirror(outcome, format!("a row of the platform's list has no {id_field:?}"))?;
                    continue;
                };
                seen_any = true;
                // A row the profile cannot read is still there: it is kept in the page, so a
                // whole read does not take it for gone.
                batch.push((remote_id, record));
            }
            let last = batch.last().map(|(id, _)| id.clone());
            self.mirror_page(&platform, module, batch, whole)?;
            self.report(module.name(), Phase::Mirror, read, 0, last.as_deref());
            if reached_the_cursor {
                break;
            }
            at = page.next;
        }
        let connection = self.store.connection();
        if let Some(newest) = newest.filter(|n| since_time.is_none_or(|s| *n > s)) {
            db::set_platform_cursor(&connection, &platform, &read_name, &stamp(newest)).map_err(storage)?;
        }
        drop(connection);
        // Deletes are learnt only from a whole read that went to its end, and never from one
        // that saw nothing at all: an empty answer is likelier a wrong profile than an empty platform.
        if whole && finished && seen_any {
            self.mirror_deletes(&platform, module)?;
            let connection = self.store.connection();
            db::set_platform_cursor(&connection, &platform, &whole_name, &stamp(self.now())).map_err(storage)?;
        }
        Ok(())
    }

    /// A page of platform records into the store, in one transaction.
    fn mirror_page(
        &mut self,
        platform: &str,
        module: Module,
        batch: Vec<(String, Result<Value, String>)>,
        whole: bool,
    ) -> Result<(), ApiError> {
        if batch.is_empty() {
            return Ok(());
        }
        let store = self.store;
        let now = self.now();
        let run = self.run_id;
        store.transaction(|tx| -> Result<(), ApiError> {
            for (remote_id, record) in batch {
                let outcome = match record {
                    Ok(record) => mirror_one(tx, platform, module, &remote_id, record, now)?,
                    Err(reason) => {
                        let mut failed =
                            RecordOutcome::new(module.name(), &remote_id, RecordOp::MirrorUpdate, Outcome::Failed);
                        failed.message = Some(reason);
                        Some(failed)
                    }
                };
                if let Some(outcome) = outcome {
                    self.record_in(tx, outcome)?;
                }
                if whole {
                    db::mark_read(tx, platform, module.name(), &remote_id, run).map_err(storage)?;
                }
            }
            Ok(())
        })
    }

    /// Records linked to platform records a whole read did not see are gone there.
    fn mirror_deletes(&mut self, platform: &str, module: Module) -> Result<(), ApiError> {
        let now = self.now();
        loop {
            // Each one handled is forgotten, so the next page starts where this one ended.
            let gone = db::unread_remotes(&self.store.connection(), platform, module.name(), self.run_id, 500)
                .map_err(storage)?;
            if gone.is_empty() {
                return Ok(());
            }
            for remote in gone {
                self.mirror_delete(platform, module, remote, now)?;
            }
        }
    }

    fn mirror_delete(
        &mut self,
        platform: &str,
        module: Module,
        remote: Remote,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let mut outcome = RecordOutcome::new(module.name(), &remote.local_id, RecordOp::MirrorDelete, Outcome::Ok);
        outcome.message = Some(format!("gone from the platform ({} {})", module.name(), remote.remote_id));
        let store = self.store;
        store.transaction(|tx| -> Result<(), ApiError> {
            if crate::platform::get(tx, module, &remote.local_id).map_err(storage)?.is_some() {
                apply_mirrored_delete(tx, module, &remote.local_id, now).map_err(storage)?;
            }
            db::forget_remote(tx, platform, module.name(), &remote.local_id).map_err(storage)?;
            self.record_in(tx, outcome)
        })
    }

    fn record_mirror(&mut self, mut outcome: RecordOutcome, message: String) -> Result<(), ApiError> {
        outcome.message = Some(message);
        self.record(outcome)
    }
}

/// One platform record into the store: new, changed, or (hashing as before) left alone.
fn mirror_one(
    tx: &rusqlite::Transaction<'_>,
    platform: &str,
    module: Module,
    remote_id: &str,
    mut record: Value,
    now: DateTime<Utc>,
) -> Result<Option<RecordOutcome>, ApiError> {
    // The platform's ids of other records are the store's ids of them.
    rewrite_references(module, &mut record, &mut |referred, id| {
        db::remote_by_remote(tx, platform, referred.name(), id).ok().flatten().map(|r| r.local_id)
    });
    let hash = record_hash(&record);
    let known = db::remote_by_remote(tx, platform, module.name(), remote_id).map_err(storage)?;
    if known.as_ref().is_some_and(|k| k.hash == hash) {
        return Ok(None);
    }
    let local_id = match &known {
        Some(known) => known.local_id.clone(),
        // A new record keeps the platform's id, unless that id is taken here.
        None if crate::platform::get(tx, module, remote_id).map_err(storage)?.is_none() => remote_id.to_owned(),
        None => String::new(),
    };
    record["Id"] = if local_id.is_empty() { Value::Null } else { json!(local_id) };
    let op = if known.is_some() { RecordOp::MirrorUpdate } else { RecordOp::MirrorCreate };
    match apply_mirrored(tx, module, known.as_ref().map(|k| k.local_id.as_str()), record, now) {
        Ok(stored) => {
            let remote = Remote { local_id: stored.id.clone(), remote_id: remote_id.to_owned(), hash };
            db::set_remote(tx, platform, module.name(), &remote, &stamp(now)).map_err(storage)?;
            let mut outcome = RecordOutcome::new(module.name(), &stored.id, op, Outcome::Ok);
            outcome.message = Some(format!("{} {remote_id}", module.name()));
            Ok(Some(outcome))
        }
        Err(crate::platform::PlatformError::Invalid(errors)) => {
            let mut outcome = RecordOutcome::new(module.name(), remote_id, op, Outcome::Failed);
            let reasons: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect();
            outcome.message =
                Some(format!("the platform's {module} {remote_id} cannot be kept: {}", reasons.join("; ")));
            Ok(Some(outcome))
        }
        Err(error) => Err(storage(error)),
    }
}
