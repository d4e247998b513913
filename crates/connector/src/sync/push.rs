//! Push, per module, a page at a time: candidates, plan, send in batches, record each answer.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::Ordering;

use futures::StreamExt;
use qbo::{BatchItem, RequestId};
use serde_json::{json, Value};

use super::engine::*;
use super::plan::{plan_push, Candidate, MappingProblem, Operation, Planned, SkipWhy};
use super::store::{self as db, Link, RecordOutcome};
use super::{journal::*, outcome::*};
use crate::error::{ApiError, ErrorCode};
use crate::platform::{Module, PlatformStore};
use crate::spec::{Context, DeleteAction, MappingFailure, MethodName, ModuleSpec};
use crate::sync::vocabulary::{Outcome, Phase, RecordOp};

/// How many records one page of a push maps, plans and sends. Memory follows the page, not
/// the data set; a thousand keeps dozens of batch calls going between page boundaries.
pub(super) const PUSH_PAGE: usize = 1_000;

/// The records a push of one module looks at, a page at a time: those an earlier run left
/// failed or blocked (or the ones asked for) first, then the module's change log after its
/// cursor, each record once.
pub(super) struct PushPages {
    module: Module,
    retry: Vec<String>,
    retried: HashSet<String>,
    after_seq: i64,
    read_log: bool,
}

/// A page's ids and the change-log position it reaches (none for retries).
pub(super) type PushPage = (Vec<String>, Option<i64>);

impl PushPages {
    pub(super) fn total(&self, platform: &PlatformStore<'_>) -> Result<usize, ApiError> {
        let logged = if self.read_log { platform.count_changed_records(self.module, self.after_seq)? } else { 0 };
        Ok(self.retry.len() + logged)
    }

    pub(super) fn next(&mut self, platform: &PlatformStore<'_>) -> Result<Option<PushPage>, ApiError> {
        if !self.retry.is_empty() {
            let rest = self.retry.split_off(PUSH_PAGE.min(self.retry.len()));
            return Ok(Some((std::mem::replace(&mut self.retry, rest), None)));
        }
        if !self.read_log {
            return Ok(None);
        }
        let page = platform.changed_records(self.module, self.after_seq, PUSH_PAGE)?;
        let Some(&(_, latest)) = page.last() else { return Ok(None) };
        self.after_seq = latest;
        let ids = page.into_iter().map(|(id, _)| id).filter(|id| !self.retried.contains(id)).collect();
        Ok(Some((ids, Some(latest))))
    }
}

impl<'a> Engine<'a> {
    /// The context for mapping one platform record: links and related records of the ids it refers to.
    pub(super) fn push_context(&self, record: &Value) -> Result<Context, ApiError> {
        let mut context = self.context.clone();
        let store = self.store;
        let platform = PlatformStore::new(store);
        for id in crate::spec::mapping::referenced_ids(record) {
            for (module, qbo_id) in
                db::links_of_platform_id(&store.connection(), self.instance.id, &id).map_err(storage)?
            {
                context.links.entry(module).or_default().insert(id.clone(), qbo_id);
            }
            for (module, stand_ins) in &self.planned_links {
                if let Some(qbo_id) = stand_ins.get(&id) {
                    context
                        .links
                        .entry(module.clone())
                        .or_default()
                        .entry(id.clone())
                        .or_insert_with(|| qbo_id.clone());
                }
            }
            for candidate in Module::ALL {
                if let Ok(found) = platform.get(candidate, &id) {
                    context.related.entry(candidate.name().to_owned()).or_default().insert(id.clone(), found.data);
                }
            }
        }
        Ok(context)
    }

    /// The records a push of `module` looks at, a page at a time.
    pub(super) fn push_pages(
        &self,
        module: &ModuleSpec,
        only: Option<&BTreeSet<(String, String)>>,
    ) -> Result<PushPages, ApiError> {
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let connection = self.store.connection();
        Ok(match only {
            Some(only) => PushPages {
                module: platform_module,
                retry: only
                    .iter()
                    .filter(|(m, _)| m.eq_ignore_ascii_case(&module.name))
                    .map(|(_, id)| id.clone())
                    .collect(),
                retried: HashSet::new(),
                after_seq: 0,
                read_log: false,
            },
            None => {
                let retry = db::unfinished_records(&connection, self.instance.id, &module.name).map_err(storage)?;
                let after_seq = db::cursor(&connection, self.instance.id, &format!("platform_seq:{}", module.name))
                    .map_err(storage)?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                PushPages {
                    module: platform_module,
                    retried: retry.iter().cloned().collect(),
                    retry,
                    after_seq,
                    read_log: true,
                }
            }
        })
    }

    /// Each record's link, mapped body and (first sync) twin in QuickBooks: what planning needs.
    pub(super) async fn push_candidates(
        &self,
        module: &ModuleSpec,
        ids: Vec<String>,
    ) -> Result<Vec<Candidate>, ApiError> {
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let store = self.store;
        let platform = PlatformStore::new(store);
        let create = self.compiled(&module.name, MethodName::PushCreate);
        let update = self.compiled(&module.name, MethodName::PushUpdate);
        let matcher = Engine::matcher(module);
        let mut candidates = Vec::with_capacity(ids.len());
        let mut wanted = Vec::new();
        for id in ids {
            let Ok(record) = platform.get(platform_module, &id) else { continue };
            let link =
                db::link_by_platform(&store.connection(), self.instance.id, &module.name, &id).map_err(storage)?;
            let compiled = if link.is_some() { &update } else { &create };
            let mapped = if record.deleted {
                None
            } else {
                // One context serves both the mapping and the match rule: building it reads
                // the links and records the record refers to.
                let context = self.push_context(&record.data)?;
                let mapped = match compiled {
                    Err(errors) => Err(MappingProblem {
                        message: format!("the {} rules do not compile: {}", module.name, errors[0].reason),
                        dependency: false,
                    }),
                    Ok(method) => method
                        .map(&record.data, &context)
                        .map(|m| {
                            let hash = content_hash(&m.body);
                            (m.body, hash)
                        })
                        .map_err(|e| MappingProblem {
                            dependency: e.kind == MappingFailure::NotInQuickbooksYet,
                            message: e.to_string(),
                        }),
                };
                if link.is_none() && mapped.is_ok() {
                    if let Some(value) =
                        matcher.as_ref().and_then(|(m, _)| Engine::match_value(m, &record.data, &context))
                    {
                        wanted.push((candidates.len(), value));
                    }
                }
                Some(mapped)
            };
            candidates.push(Candidate {
                platform_id: id,
                deleted: record.deleted,
                link: link.as_ref().map(Link::state),
                mapped,
                matched: None,
            });
        }
        if let Some((_, field)) = &matcher {
            for (index, link) in self.look_up_matches(module, field, &wanted, true).await? {
                candidates[index].matched = Some(link);
            }
        }
        Ok(candidates)
    }

    pub(super) async fn push_module(
        &mut self,
        module: &ModuleSpec,
        only: Option<&BTreeSet<(String, String)>>,
    ) -> Result<(), ApiError> {
        let switches = self.switches(module);
        let mut pages = self.push_pages(module, only)?;
        let total = pages.total(&PlatformStore::new(self.store))?;
        let mut done = 0;
        self.report(&module.name, Phase::Push, 0, total, None);
        while let Some((ids, latest_seq)) = pages.next(&PlatformStore::new(self.store))? {
            let candidates = self.push_candidates(module, ids).await?;
            let plan = plan_push(candidates, switches);
            self.push_page(module, plan, only, &mut done, total).await?;
            if self.cancel.load(Ordering::Relaxed) {
                break;
            }
            // Each finished page moves the cursor, so a run that dies re-reads one page, not all.
            if let Some(seq) = latest_seq {
                db::set_cursor(
                    &self.store.connection(),
                    self.instance.id,
                    &format!("platform_seq:{}", module.name),
                    &seq.to_string(),
                )
                .map_err(storage)?;
            }
        }
        // A collision the operator settled outside the inbox (renamed or removed the record, or
        // unlinked the other) leaves no entry asking about it.
        db::settle_same_entity(
            &self.store.connection(),
            self.instance.id,
            &module.name,
            module.platform_module(),
            &stamp(self.now()),
        )
        .map_err(storage)?;
        Ok(())
    }

    /// Records one page's plan: links, failures and skips at once, writes as they are answered.
    pub(super) async fn push_page(
        &mut self,
        module: &ModuleSpec,
        plan: Vec<Planned>,
        only: Option<&BTreeSet<(String, String)>>,
        done: &mut usize,
        total: usize,
    ) -> Result<(), ApiError> {
        let planned_count = plan.len();
        let mut writes: Vec<(Planned, RequestId)> = Vec::new();
        for planned in plan {
            match &planned.operation {
                Operation::Skip { why, reason } => {
                    let outcome = if *why == SkipWhy::Waiting { Outcome::Blocked } else { Outcome::Skipped };
                    if outcome == Outcome::Blocked || only.is_some() {
                        self.record(RecordOutcome {
                            message: Some(reason.clone()),
                            ..RecordOutcome::new(
                                module.name.clone(),
                                planned.platform_id.clone(),
                                RecordOp::Skip,
                                outcome,
                            )
                        })?;
                    }
                }
                Operation::Fail { reason } => {
                    self.record(RecordOutcome {
                        message: Some(reason.clone()),
                        ..RecordOutcome::new(
                            module.name.clone(),
                            planned.platform_id.clone(),
                            RecordOp::Map,
                            Outcome::Failed,
                        )
                    })?;
                }
                Operation::Link { qbo_id, sync_token, hash } => {
                    if self.link_taken(module, &planned.platform_id, qbo_id).await? {
                        continue;
                    }
                    let link = Link {
                        module: module.name.clone(),
                        platform_id: planned.platform_id.clone(),
                        qbo_id: qbo_id.clone(),
                        sync_token: sync_token.clone(),
                        platform_hash: None,
                        qbo_hash: None,
                        synced_at: stamp(self.now()),
                    };
                    db::save_link(&self.store.connection(), self.instance.id, &link).map_err(storage)?;
                    let _ = hash;
                    self.record(RecordOutcome {
                        qbo_id: Some(qbo_id.clone()),
                        message: Some(format!(
                            "already in QuickBooks as {} {qbo_id}: linked instead of created",
                            module.entity
                        )),
                        ..RecordOutcome::new(
                            module.name.clone(),
                            planned.platform_id.clone(),
                            RecordOp::Link,
                            Outcome::Ok,
                        )
                    })?;
                    // The next run sends the platform's version as an update.
                }
                _ => writes.push((planned, RequestId::new())),
            }
        }
        *done += planned_count - writes.len();
        self.report(&module.name, Phase::Push, *done, total, None);
        self.execute_writes(module, writes, done, total).await
    }

    pub(super) fn batch_item(module: &ModuleSpec, planned: &Planned) -> Option<BatchItem> {
        let entity = module.entity.clone();
        Some(match &planned.operation {
            Operation::Create { body, .. } => BatchItem::Create { entity, body: body.clone() },
            Operation::Update { qbo_id, sync_token, body, .. } => {
                let mut body = body.clone();
                body["Id"] = json!(qbo_id);
                body["SyncToken"] = json!(sync_token);
                BatchItem::Update { entity, body, sparse: true }
            }
            Operation::Delete { qbo_id, sync_token, action: DeleteAction::Deactivate } => BatchItem::Update {
                entity,
                body: json!({"Id": qbo_id, "SyncToken": sync_token, "Active": false}),
                sparse: true,
            },
            Operation::Delete { qbo_id, sync_token, action: DeleteAction::Delete } => {
                BatchItem::Delete { entity, id: qbo_id.clone(), sync_token: sync_token.clone() }
            }
            _ => return None,
        })
    }

    pub(super) async fn execute_writes(
        &mut self,
        module: &ModuleSpec,
        writes: Vec<(Planned, RequestId)>,
        done: &mut usize,
        total: usize,
    ) -> Result<(), ApiError> {
        let prepared: Vec<(Vec<(Planned, RequestId)>, RequestId)> =
            writes.chunks(qbo::client::BATCH_MAX).map(|batch| (batch.to_vec(), RequestId::new())).collect();
        // Several batches in flight; the client's throttle keeps them within the company's limits.
        // A cancel stops new batches from starting; those already sent are answered and
        // recorded, so a cancelled run leaves nothing half-known.
        let client = self.client.clone();
        let cancel = self.cancel.clone();
        let (store, instance_id, run_id) = (self.store, self.instance.id, self.run_id);
        let clock = self.clock.clone();
        let (module_name, module_spec) = (module.name.clone(), module.clone());
        let unsent = prepared.into_iter().take_while(move |_| !cancel.load(Ordering::Relaxed));
        let mut in_flight = futures::stream::iter(unsent.map(move |(batch, request_id)| {
            let client = client.clone();
            let module_name = module_name.clone();
            let clock = clock.clone();
            let items: Vec<BatchItem> = batch.iter().filter_map(|(p, _)| Engine::batch_item(&module_spec, p)).collect();
            async move {
                // 40 batch calls a minute carry 30 records each; once the minute's are used
                // up, its other 460 requests carry one record each instead of waiting.
                let as_one_call = client.has_batch_room();
                // Journaled as it goes out, not before: a crash after this point is finished by
                // the next run, which then has the calls in flight to finish, not the page.
                let call = as_one_call.then_some(&request_id);
                journal_batch(store, instance_id, run_id, &module_name, &batch, call, &stamp(clock.now()))?;
                let answer = if as_one_call {
                    Sent::Batch(client.batch(&items, &request_id).await)
                } else {
                    Sent::Singly(client.send_singly(&singles(items, &batch)).await)
                };
                Ok::<_, ApiError>((batch, answer))
            }
        }))
        .buffered(4);
        while let Some(result) = in_flight.next().await {
            let (batch, answer) = result?;
            *done += batch.len();
            self.record_sent(module, &batch, answer).await?;
            self.report(&module.name, Phase::Push, *done, total, batch.last().map(|(p, _)| p.platform_id.as_str()));
        }
        Ok(())
    }

    /// Records how a chunk of writes was answered.
    pub(super) async fn record_sent(
        &mut self,
        module: &ModuleSpec,
        batch: &[(Planned, RequestId)],
        answer: Sent,
    ) -> Result<(), ApiError> {
        match answer {
            Sent::Batch(Ok(results)) => {
                let mut written = Vec::new();
                let mut refused = Vec::new();
                for result in results {
                    let (planned, _) = &batch[result.index];
                    match result.outcome {
                        Ok(entity) => written.push((planned, entity)),
                        Err(fault) => refused.push((planned, fault)),
                    }
                }
                self.record_written(module, written)?;
                for (planned, fault) in refused {
                    self.record_answer(module, planned, Err(fault)).await?;
                }
            }
            Sent::Batch(Err(error)) if batch.len() > 1 && too_large(&error) => {
                // One oversized record makes QuickBooks refuse the whole call: each record
                // goes alone, so only that one fails.
                let items: Vec<BatchItem> = batch.iter().filter_map(|(p, _)| Engine::batch_item(module, p)).collect();
                let answers = self.client.send_singly(&singles(items, batch)).await;
                self.record_singly(module, batch, answers).await?;
            }
            Sent::Batch(Err(error)) => self.record_call_failure(module, batch, &error)?,
            Sent::Singly(answers) => self.record_singly(module, batch, answers).await?,
        }
        Ok(())
    }

    /// The answers of writes sent one request each, by their index in `batch`.
    pub(super) async fn record_singly(
        &mut self,
        module: &ModuleSpec,
        batch: &[(Planned, RequestId)],
        answers: Vec<(usize, Result<Value, qbo::Error>)>,
    ) -> Result<(), ApiError> {
        let mut written = Vec::new();
        let mut failed = Vec::new();
        for (index, answer) in answers {
            match answer {
                Ok(entity) => written.push((&batch[index].0, entity)),
                Err(error) => failed.push((index, error)),
            }
        }
        self.record_written(module, written)?;
        for (index, error) in failed {
            match error {
                qbo::Error::Fault(fault) => self.record_answer(module, &batch[index].0, Err(fault)).await?,
                error => self.record_call_failure(module, std::slice::from_ref(&batch[index]), &error)?,
            }
        }
        Ok(())
    }

    /// A call failed as a whole after every retry: its records stay journaled as pending only
    /// if the outcome is unknown; otherwise they failed and are retried next run.
    pub(super) fn record_call_failure(
        &mut self,
        module: &ModuleSpec,
        sent: &[(Planned, RequestId)],
        error: &qbo::Error,
    ) -> Result<(), ApiError> {
        let unknown = matches!(error, qbo::Error::Transport { outcome_unknown: true, .. });
        for (planned, _) in sent {
            if !unknown {
                self.finish_journal(module, &planned.platform_id, "failed")?;
            }
            self.record(failure_outcome(module, planned, error))?;
        }
        Ok(())
    }

    pub(super) fn finish_journal(&self, module: &ModuleSpec, platform_id: &str, state: &str) -> Result<(), ApiError> {
        db::finish_journal(&self.store.connection(), self.instance.id, &module.name, platform_id, state)
            .map_err(storage)
    }

    /// Writes QuickBooks accepted: each record's link, journal entry and outcome, all of them
    /// in one transaction, so a batch's thirty answers cost one disk commit, not thirty.
    pub(super) fn record_written(
        &mut self,
        module: &ModuleSpec,
        written: Vec<(&Planned, Value)>,
    ) -> Result<(), ApiError> {
        if written.is_empty() {
            return Ok(());
        }
        let qbo_hashes: Vec<Option<String>> = written
            .iter()
            .map(|(planned, entity)| match planned.operation {
                Operation::Delete { .. } => None,
                _ => self.qbo_hash(module, entity),
            })
            .collect();
        let instance_id = self.instance.id;
        let run_id = self.run_id;
        self.store.transaction(|tx| -> Result<(), ApiError> {
            for ((planned, entity), qbo_hash) in written.iter().zip(qbo_hashes) {
                let qbo_id = entity.get("Id").and_then(Value::as_str).unwrap_or_default().to_owned();
                match &planned.operation {
                    Operation::Delete { .. } => {
                        db::delete_link(tx, instance_id, &module.name, &planned.platform_id).map_err(storage)?;
                    }
                    operation => {
                        let link = Link {
                            module: module.name.clone(),
                            platform_id: planned.platform_id.clone(),
                            qbo_id: qbo_id.clone(),
                            sync_token: entity.get("SyncToken").and_then(Value::as_str).map(str::to_owned),
                            platform_hash: match operation {
                                Operation::Create { hash, .. } | Operation::Update { hash, .. } => Some(hash.clone()),
                                _ => None,
                            },
                            qbo_hash,
                            synced_at: stamp(self.now()),
                        };
                        db::save_link(tx, instance_id, &link).map_err(storage)?;
                    }
                }
                db::finish_journal(tx, instance_id, &module.name, &planned.platform_id, "done").map_err(storage)?;
                let outcome = RecordOutcome {
                    qbo_id: Some(qbo_id),
                    ..RecordOutcome::new(
                        module.name.clone(),
                        planned.platform_id.clone(),
                        planned.operation.name(),
                        Outcome::Ok,
                    )
                };
                db::add_outcome(tx, run_id, &outcome).map_err(storage)?;
            }
            Ok(())
        })?;
        self.counts.entry(module.name.clone()).or_default().ok += written.len();
        Ok(())
    }

    pub(super) async fn record_answer(
        &mut self,
        module: &ModuleSpec,
        planned: &Planned,
        outcome: Result<Value, qbo::Fault>,
    ) -> Result<(), ApiError> {
        let operation = planned.operation.name();
        match outcome {
            Ok(entity) => self.record_written(module, vec![(planned, entity)])?,
            Err(fault) if fault.code() == qbo::fault::codes::STALE_OBJECT => {
                self.stale_write(module, planned, &fault).await?;
            }
            Err(fault) if fault.code() == qbo::fault::codes::DUPLICATE_NAME && operation == RecordOp::Create => {
                // The name is taken: the record is most likely already there. Link, don't fail.
                self.finish_journal(module, &planned.platform_id, "failed")?;
                let mut candidate = vec![Candidate {
                    platform_id: planned.platform_id.clone(),
                    deleted: false,
                    link: None,
                    mapped: Some(Ok((Value::Null, String::new()))),
                    matched: None,
                }];
                self.find_matches(module, &mut candidate).await?;
                let found = candidate.pop().and_then(|c| c.matched);
                let taken = match &found {
                    Some(found) => self.link_taken(module, &planned.platform_id, &found.qbo_id).await?,
                    None => false,
                };
                match found {
                    Some(_) if taken => {}
                    Some(found) => {
                        let link = Link {
                            module: module.name.clone(),
                            platform_id: planned.platform_id.clone(),
                            qbo_id: found.qbo_id.clone(),
                            sync_token: found.sync_token,
                            platform_hash: None,
                            qbo_hash: None,
                            synced_at: stamp(self.now()),
                        };
                        db::save_link(&self.store.connection(), self.instance.id, &link).map_err(storage)?;
                        self.record(RecordOutcome {
                            qbo_id: Some(found.qbo_id.clone()),
                            message: Some(format!(
                                "QuickBooks already had this name ({}): linked to {} {} instead of creating a twin",
                                fault.code(),
                                module.entity,
                                found.qbo_id
                            )),
                            code: Some(fault.code().into()),
                            intuit_tid: fault.intuit_tid.clone(),
                            ..RecordOutcome::new(
                                module.name.clone(),
                                planned.platform_id.clone(),
                                RecordOp::Link,
                                Outcome::Ok,
                            )
                        })?;
                    }
                    None => {
                        self.record(fault_outcome(module, planned, &fault))?;
                    }
                }
            }
            Err(fault) => {
                self.finish_journal(module, &planned.platform_id, "failed")?;
                self.record(fault_outcome(module, planned, &fault))?;
            }
        }
        Ok(())
    }
}
