//! Writing what a run pulled from QuickBooks to the linked platform.
//!
//! Creates are journaled (committed) before they are sent. One left without an answer, in
//! this run or by a run that died, is looked for on the platform by its key before it is
//! sent again; the platform's id then becomes the record's remote link. Updates send the
//! whole mapped record, so sending one again does no harm.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use serde_json::Value;

use super::super::engine::{stamp, storage, Engine};
use super::super::store::{self as db, RecordOutcome, Remote};
use super::super::vocabulary::{Outcome, Phase, RecordOp};
use super::{link_failed, record_hash, LinkedPlatform};
use crate::error::ApiError;
use crate::platform::rest::{key_of, RestError};
use crate::platform::schema::rewrite_references;
use crate::platform::{last_change, pulled_records, Module};

/// Tries of one create whose answer is lost, each after looking for it by key.
const CREATE_TRIES: usize = 3;

const WRITTEN: &str = "written";

/// Where a write-back stands: the change log up to here has been written.
pub(in crate::sync) struct WriteBackSpan {
    after: i64,
    until: i64,
}

impl Engine<'_> {
    /// Creates a run that died left unanswered: each is found on the platform by its key and
    /// linked, or handed to this run's write-back to send again. Done before the mirror, so
    /// the mirror never takes a record this connector created for a new one.
    pub(in crate::sync) async fn resume_platform_journal(&mut self, linked: &LinkedPlatform) -> Result<(), ApiError> {
        let platform = linked.key().to_owned();
        let unanswered = db::journal_unanswered(&self.store.connection(), &platform).map_err(storage)?;
        for (module_name, local_id, key) in unanswered {
            let Ok(module) = module_name.parse::<Module>() else { continue };
            match linked.client.find_by_key(module, &key).await {
                Ok(Some(row)) => self.finish_create(linked, module, &local_id, &row)?,
                Ok(None) => {
                    let connection = self.store.connection();
                    db::set_write_retry(&connection, &platform, module.name(), &local_id, true).map_err(storage)?;
                    db::journal_done(&connection, &platform, module.name(), &local_id).map_err(storage)?;
                }
                Err(error) => return Err(link_failed(error)),
            }
        }
        Ok(())
    }

    /// The span of the change log this run's write-back covers, fixed before the pull so the
    /// pull's own changes are in it.
    pub(in crate::sync) fn write_back_span(&self, linked: &LinkedPlatform) -> Result<WriteBackSpan, ApiError> {
        let connection = self.store.connection();
        let after = db::platform_cursor(&connection, linked.key(), WRITTEN)
            .map_err(storage)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(WriteBackSpan { after, until: i64::MAX })
    }

    pub(in crate::sync) async fn write_back(
        &mut self,
        linked: &LinkedPlatform,
        modules: &[Module],
        mut span: WriteBackSpan,
    ) -> Result<(), ApiError> {
        let platform = linked.key().to_owned();
        span.until = last_change(&self.store.connection()).map_err(storage)?;
        for &module in modules {
            if linked.client.module_api(module).is_none() {
                continue;
            }
            let (mut records, again) = {
                let connection = self.store.connection();
                (
                    pulled_records(&connection, module, span.after, span.until).map_err(storage)?,
                    db::write_retries(&connection, &platform, module.name()).map_err(storage)?,
                )
            };
            let listed: BTreeSet<String> = records.iter().cloned().collect();
            records.extend(again.into_iter().filter(|id| !listed.contains(id)));
            let total = records.len();
            for (done, local_id) in records.iter().enumerate() {
                if self.cancel.load(Ordering::Relaxed) {
                    return Ok(());
                }
                self.report(module.name(), Phase::WriteBack, done, total, Some(local_id));
                self.write_record(linked, module, local_id).await?;
            }
        }
        let connection = self.store.connection();
        db::set_platform_cursor(&connection, &platform, WRITTEN, &span.until.to_string()).map_err(storage)?;
        Ok(())
    }

    async fn write_record(&mut self, linked: &LinkedPlatform, module: Module, local_id: &str) -> Result<(), ApiError> {
        let platform = linked.key().to_owned();
        let Some(record) = crate::platform::get(&self.store.connection(), module, local_id).map_err(storage)? else {
            return self.forget_retry(&platform, module, local_id);
        };
        let remote =
            db::remote_by_local(&self.store.connection(), &platform, module.name(), local_id).map_err(storage)?;
        let api = linked.client.module_api(module).cloned();
        let Some(api) = api else { return Ok(()) };
        if record.deleted {
            return self.write_delete(linked, module, local_id, remote).await;
        }
        // The store's ids of other records are the platform's ids of them; one not there yet waits.
        let mut body = record.data.clone();
        let mut waiting: Vec<String> = Vec::new();
        {
            let connection = self.store.connection();
            rewrite_references(module, &mut body, &mut |referred, id| match db::remote_by_local(
                &connection,
                &platform,
                referred.name(),
                id,
            )
            .ok()
            .flatten()
            {
                Some(remote) => Some(remote.remote_id),
                None => {
                    waiting.push(format!("{referred} {id}"));
                    None
                }
            });
        }
        let op = if remote.is_some() { RecordOp::WriteUpdate } else { RecordOp::WriteCreate };
        if !waiting.is_empty() {
            let message = format!("waits for {} to reach {}", waiting.join(", "), linked.client.name());
            return self.write_problem(&platform, module, local_id, op, Outcome::Blocked, message);
        }
        let fields = match linked.outbound(module, &body) {
            Ok(fields) => fields,
            Err(reason) => return self.write_problem(&platform, module, local_id, op, Outcome::Failed, reason),
        };
        match remote {
            Some(remote) => {
                if api.update.is_none() {
                    let message = format!("{}'s profile does not update {module}", linked.client.name());
                    return self.write_skipped(&platform, module, local_id, op, message);
                }
                match linked.client.update(module, &remote.remote_id, &fields).await {
                    Ok(answer) => {
                        let answered = if answer.body.is_object() { answer.body } else { Value::Null };
                        self.finish_write(linked, module, local_id, &remote.remote_id, &answered, op)
                    }
                    Err(error) => self.write_failed(&platform, module, local_id, op, error),
                }
            }
            None => {
                if api.create.is_none() {
                    let message = format!("{}'s profile does not create {module}", linked.client.name());
                    return self.write_skipped(&platform, module, local_id, op, message);
                }
                let Some(key) = key_of(&fields, &api.key) else {
                    let message = format!(
                        "its {:?} (the key {} is found by after a lost answer) is empty, so it is not sent",
                        api.key,
                        linked.client.name()
                    );
                    return self.write_problem(&platform, module, local_id, op, Outcome::Failed, message);
                };
                self.send_create(linked, module, local_id, &key, &fields).await
            }
        }
    }

    async fn send_create(
        &mut self,
        linked: &LinkedPlatform,
        module: Module,
        local_id: &str,
        key: &str,
        fields: &Value,
    ) -> Result<(), ApiError> {
        let platform = linked.key().to_owned();
        let mut last_error = None;
        for _ in 0..CREATE_TRIES {
            db::journal_create(&self.store.connection(), &platform, module.name(), local_id, key, &stamp(self.now()))
                .map_err(storage)?;
            match linked.client.create(module, fields).await {
                Ok(answer) if answer.body.is_object() => {
                    return self.finish_create(linked, module, local_id, &answer.body)
                }
                Ok(_) => {}
                Err(error) if error.may_have_written() => last_error = Some(error),
                Err(error) => {
                    db::journal_done(&self.store.connection(), &platform, module.name(), local_id).map_err(storage)?;
                    return self.write_failed(&platform, module, local_id, RecordOp::WriteCreate, error);
                }
            }
            // No answer, or one without the record: whether it was done is asked by its key.
            match linked.client.find_by_key(module, key).await {
                Ok(Some(row)) => return self.finish_create(linked, module, local_id, &row),
                Ok(None) => {}
                Err(error) if error.stops_the_run() => return Err(link_failed(error)),
                // The look-up failed too: the journal keeps the create for the next run to find.
                Err(error) => return self.write_failed(&platform, module, local_id, RecordOp::WriteCreate, error),
            }
        }
        db::journal_done(&self.store.connection(), &platform, module.name(), local_id).map_err(storage)?;
        let error = last_error.unwrap_or_else(|| RestError::Shape {
            platform: linked.client.name().to_owned(),
            message: format!("its {module} create answered without the record"),
        });
        self.write_failed(&platform, module, local_id, RecordOp::WriteCreate, error)
    }

    /// A create the platform did: its id becomes the record's remote link, with the journal
    /// entry closed in the same transaction.
    fn finish_create(
        &mut self,
        linked: &LinkedPlatform,
        module: Module,
        local_id: &str,
        row: &Value,
    ) -> Result<(), ApiError> {
        let id_field = linked.client.module_api(module).map(|api| api.id.clone()).unwrap_or_default();
        let Some(remote_id) = key_of(row, &id_field) else {
            let message = format!("{} answered the create without its {id_field:?}", linked.client.name());
            let platform = linked.key().to_owned();
            db::journal_done(&self.store.connection(), &platform, module.name(), local_id).map_err(storage)?;
            return self.write_problem(&platform, module, local_id, RecordOp::WriteCreate, Outcome::Failed, message);
        };
        self.finish_write(linked, module, local_id, &remote_id, row, RecordOp::WriteCreate)
    }

    fn finish_write(
        &mut self,
        linked: &LinkedPlatform,
        module: Module,
        local_id: &str,
        remote_id: &str,
        answered: &Value,
        op: RecordOp,
    ) -> Result<(), ApiError> {
        let platform = linked.key().to_owned();
        let store = self.store;
        let now = stamp(self.now());
        // What the platform now holds, as the mirror will read it: the hash that keeps it from
        // coming back as a change. An answer without the record leaves a hash no read matches,
        // so the next read takes the platform's version once, and that is all.
        let hash = match linked.inbound(module, answered) {
            Ok(mut record) if answered.is_object() => {
                rewrite_references(module, &mut record, &mut |referred, id| {
                    db::remote_by_remote(&store.connection(), &platform, referred.name(), id)
                        .ok()
                        .flatten()
                        .map(|r| r.local_id)
                });
                record_hash(&record)
            }
            _ => String::new(),
        };
        let mut outcome = RecordOutcome::new(module.name(), local_id, op, Outcome::Ok);
        outcome.message = Some(format!("{} {remote_id} on {}", module.name(), linked.client.name()));
        store.transaction(|tx| -> Result<(), ApiError> {
            let remote = Remote { local_id: local_id.to_owned(), remote_id: remote_id.to_owned(), hash };
            db::set_remote(tx, &platform, module.name(), &remote, &now).map_err(storage)?;
            db::journal_done(tx, &platform, module.name(), local_id).map_err(storage)?;
            db::set_write_retry(tx, &platform, module.name(), local_id, false).map_err(storage)?;
            self.record_in(tx, outcome)
        })
    }

    async fn write_delete(
        &mut self,
        linked: &LinkedPlatform,
        module: Module,
        local_id: &str,
        remote: Option<Remote>,
    ) -> Result<(), ApiError> {
        let platform = linked.key().to_owned();
        let Some(remote) = remote else { return self.forget_retry(&platform, module, local_id) };
        let can_delete = linked.client.module_api(module).is_some_and(|api| api.delete.is_some());
        if !can_delete {
            let message = format!(
                "deleted in QuickBooks; {}'s profile does not delete {module}, so it stays there",
                linked.client.name()
            );
            return self.write_skipped(&platform, module, local_id, RecordOp::WriteDelete, message);
        }
        match linked.client.delete(module, &remote.remote_id).await {
            Ok(()) => {
                let mut outcome = RecordOutcome::new(module.name(), local_id, RecordOp::WriteDelete, Outcome::Ok);
                outcome.message = Some(format!("{} {} on {}", module.name(), remote.remote_id, linked.client.name()));
                let store = self.store;
                store.transaction(|tx| -> Result<(), ApiError> {
                    db::forget_remote(tx, &platform, module.name(), local_id).map_err(storage)?;
                    db::set_write_retry(tx, &platform, module.name(), local_id, false).map_err(storage)?;
                    self.record_in(tx, outcome)
                })
            }
            Err(error) => self.write_failed(&platform, module, local_id, RecordOp::WriteDelete, error),
        }
    }

    /// A platform failure of one record, kept to be tried again; one of the whole link ends the run.
    fn write_failed(
        &mut self,
        platform: &str,
        module: Module,
        local_id: &str,
        op: RecordOp,
        error: RestError,
    ) -> Result<(), ApiError> {
        if error.stops_the_run() {
            return Err(link_failed(error));
        }
        self.write_problem(platform, module, local_id, op, Outcome::Failed, error.to_string())
    }

    fn write_problem(
        &mut self,
        platform: &str,
        module: Module,
        local_id: &str,
        op: RecordOp,
        outcome: Outcome,
        message: String,
    ) -> Result<(), ApiError> {
        db::set_write_retry(&self.store.connection(), platform, module.name(), local_id, true).map_err(storage)?;
        let mut recorded = RecordOutcome::new(module.name(), local_id, op, outcome);
        recorded.message = Some(message);
        self.record(recorded)
    }

    fn write_skipped(
        &mut self,
        platform: &str,
        module: Module,
        local_id: &str,
        op: RecordOp,
        message: String,
    ) -> Result<(), ApiError> {
        self.forget_retry(platform, module, local_id)?;
        let mut recorded = RecordOutcome::new(module.name(), local_id, op, Outcome::Skipped);
        recorded.message = Some(message);
        self.record(recorded)
    }

    fn forget_retry(&mut self, platform: &str, module: Module, local_id: &str) -> Result<(), ApiError> {
        db::set_write_retry(&self.store.connection(), platform, module.name(), local_id, false).map_err(storage)
    }
}
