//! The journal: every write noted before it is sent, and what a run that died left
//! unfinished, finished first by the next one.

use std::collections::BTreeMap;

use qbo::{BatchItem, RequestId};
use serde_json::{json, Value};

use super::engine::*;
use super::plan::{Candidate, Operation, Planned};
use super::store::{self as db, Link, RecordOutcome};
use crate::error::ApiError;
use crate::store::Store;
use crate::sync::vocabulary::{Outcome, RecordOp};

/// How a chunk of writes went out: as one batch call, or as one request per record.
pub(super) enum Sent {
    Batch(Result<Vec<qbo::BatchResult>, qbo::Error>),
    Singly(Vec<(usize, Result<Value, qbo::Error>)>),
}

/// Planned writes, each with its own requestid.
pub(super) type Writes = Vec<(Planned, RequestId)>;

/// Each write of a batch with its own journaled requestid, to be sent as a request of its own.
pub(super) fn singles(items: Vec<BatchItem>, batch: &[(Planned, RequestId)]) -> Vec<(BatchItem, RequestId)> {
    items.into_iter().zip(batch.iter().map(|(_, request_id)| request_id.clone())).collect()
}

/// Journals writes as pending, in one transaction, before they are sent: the requestid of the
/// call each goes out in (`call` when they go as one batch call, else each write's own), and
/// what sending it again as it was needs.
pub(super) fn journal_batch(
    store: &Store,
    instance_id: i64,
    run_id: i64,
    module: &str,
    batch: &[(Planned, RequestId)],
    call: Option<&RequestId>,
    journaled_at: &str,
) -> Result<(), ApiError> {
    store.transaction(|tx| -> Result<(), ApiError> {
        for (planned, record_request_id) in batch {
            let (body, hash, qbo_id, sync_token) = match &planned.operation {
                Operation::Create { body, hash } => (body.clone(), hash.clone(), None, None),
                Operation::Update { body, hash, qbo_id, sync_token } => {
                    (body.clone(), hash.clone(), Some(qbo_id), Some(sync_token))
                }
                Operation::Delete { qbo_id, sync_token, action } => {
                    (json!({"action": action}), String::new(), Some(qbo_id), Some(sync_token))
                }
                _ => (Value::Null, String::new(), None, None),
            };
            let write = db::NewWrite {
                module,
                platform_id: &planned.platform_id,
                operation: planned.operation.name(),
                call_request_id: call.unwrap_or(record_request_id).as_str(),
                record_request_id: record_request_id.as_str(),
                body: &body,
                platform_hash: &hash,
                qbo_id: qbo_id.map(String::as_str),
                sync_token: sync_token.map(String::as_str),
            };
            db::journal_write(tx, instance_id, run_id, &write, journaled_at).map_err(storage)?;
        }
        Ok(())
    })
}

impl<'a> Engine<'a> {
    /// Writes left pending by a run that died. A create is looked for in QuickBooks by its
    /// marker before anything is sent again, so nothing is created twice. An update or delete
    /// is sent again as it was: a whole batch of them as the same call with the same requestid,
    /// otherwise each alone with its own, so QuickBooks answers a write it already did with
    /// that write's answer. One whose SyncToken has moved all the same (QuickBooks no longer
    /// remembered the requestid) goes through the stale-write check, not into the inbox.
    pub(super) async fn resume_journal(&mut self) -> Result<(), ApiError> {
        let pending = db::pending_writes(&self.store.connection(), self.instance.id).map_err(storage)?;
        let mut by_module: BTreeMap<String, Vec<db::PendingWrite>> = BTreeMap::new();
        for write in pending {
            by_module.entry(write.module.clone()).or_default().push(write);
        }
        for (module_name, entries) in by_module {
            let Some(module) = self.spec.module(&module_name).cloned() else { continue };
            // All of a module's unfinished creates are looked for at once: a run killed after
            // journaling thousands must not cost thousands of single look-ups.
            let mut candidates: Vec<Candidate> = entries
                .iter()
                .filter(|write| write.operation == RecordOp::Create)
                .map(|write| Candidate {
                    platform_id: write.platform_id.clone(),
                    deleted: false,
                    link: None,
                    mapped: Some(Ok((Value::Null, String::new()))),
                    matched: None,
                })
                .collect();
            candidates.dedup_by(|a, b| a.platform_id == b.platform_id);
            self.find_matches(&module, &mut candidates).await?;
            // A twin found for one record may be linked to another already. Linking it would
            // break the run on the link's uniqueness; the record is planned again instead, and
            // its push meets the same twin and puts the choice in the inbox (once).
            let mut found: Vec<(String, super::plan::LinkState)> = Vec::new();
            for (platform_id, matched) in candidates.into_iter().filter_map(|c| c.matched.map(|m| (c.platform_id, m))) {
                let holder = db::link_by_qbo(&self.store.connection(), self.instance.id, &module.name, &matched.qbo_id)
                    .map_err(storage)?;
                if holder.is_none_or(|holder| holder.platform_id == platform_id) {
                    found.push((platform_id, matched));
                }
            }
            // The newest unfinished update or delete of each record is sent again; an older one
            // of the same record is superseded by it.
            let mut resend: BTreeMap<&str, (Planned, RequestId, &db::PendingWrite)> = BTreeMap::new();
            for write in &entries {
                if let Some((planned, request_id)) = write.resendable() {
                    resend.insert(write.platform_id.as_str(), (planned, request_id, write));
                }
            }
            let run_id = self.run_id;
            let instance_id = self.instance.id;
            self.store.transaction(|tx| -> Result<(), ApiError> {
                for (platform_id, matched) in &found {
                    let link = Link {
                        module: module.name.clone(),
                        platform_id: platform_id.clone(),
                        qbo_id: matched.qbo_id.clone(),
                        sync_token: matched.sync_token.clone(),
                        platform_hash: None,
                        qbo_hash: None,
                        synced_at: stamp(self.now()),
                    };
                    db::save_link(tx, instance_id, &link).map_err(storage)?;
                    let outcome = RecordOutcome {
                        qbo_id: Some(matched.qbo_id.clone()),
                        message: Some("finished a write an interrupted run had sent".into()),
                        ..RecordOutcome::new(module.name.clone(), platform_id.clone(), RecordOp::Link, Outcome::Ok)
                    };
                    db::add_outcome(tx, run_id, &outcome).map_err(storage)?;
                }
                for write in &entries {
                    let resent = resend
                        .get(write.platform_id.as_str())
                        .is_some_and(|(_, _, w)| w.journal_id == write.journal_id);
                    if resent {
                        continue; // stays pending until its answer is recorded
                    }
                    db::mark_resumed(tx, write.journal_id).map_err(storage)?;
                    // Journaled by an older version, without what resending needs: the record is a
                    // candidate again (its change is after the cursor, or it is unfinished).
                    if write.operation != RecordOp::Create && write.record_request_id.is_none() {
                        let unfinished = RecordOutcome {
                            message: Some("an interrupted run left this write unfinished; it is sent again".into()),
                            ..RecordOutcome::new(
                                module.name.clone(),
                                write.platform_id.clone(),
                                write.operation,
                                Outcome::Blocked,
                            )
                        };
                        db::add_outcome(tx, run_id, &unfinished).map_err(storage)?;
                    }
                }
                Ok(())
            })?;
            let counts = self.counts.entry(module.name.clone()).or_default();
            for _ in &found {
                counts.add(Outcome::Ok);
            }
            // By the call they went out in (its first journal row, so calls go again in the order
            // they went, and its requestid): how many writes it carried, and the ones to send.
            let mut calls: BTreeMap<(i64, &str), (usize, Writes)> = BTreeMap::new();
            let mut resend: Vec<_> = resend.into_values().collect();
            resend.sort_by_key(|(_, _, write)| write.journal_id);
            for (planned, request_id, write) in resend {
                let first = calls.keys().find(|(_, id)| *id == write.batch_request_id).copied();
                let key = first.unwrap_or((write.journal_id, write.batch_request_id.as_str()));
                calls.entry(key).or_insert_with(|| (write.batch_size, Vec::new())).1.push((planned, request_id));
            }
            for ((_, call_request_id), (size, writes)) in calls {
                let items: Vec<BatchItem> = writes.iter().filter_map(|(p, _)| Engine::batch_item(&module, p)).collect();
                let same_call = RequestId::parse(call_request_id).ok().filter(|_| writes.len() == size && size > 1);
                let answer = match same_call {
                    Some(call) if self.client.has_batch_room() => Sent::Batch(self.client.batch(&items, &call).await),
                    _ => Sent::Singly(self.client.send_singly(&singles(items, &writes)).await),
                };
                self.record_sent(&module, &writes, answer).await?;
            }
        }
        Ok(())
    }
}
