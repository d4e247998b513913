//! Pull, per module: what changed in QuickBooks since the cursor, stored here with its link.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use futures::{SinkExt, StreamExt};
use qbo::{Op, Query};
use rusqlite::Transaction;
use serde_json::{json, Value};

use super::engine::*;
use super::plan::{plan_pull, pull_read, PullRead, PullStep, PullSwitches, PulledChange};
use super::store::{self as db, Link, RecordOutcome};
use crate::error::{ApiError, ErrorCode};
use crate::platform::Module;
use crate::spec::{CompiledMethod, Context, MappingFailure, MethodName, ModuleSpec};
use crate::sync::vocabulary::{Outcome, Phase, RecordOp};

/// How many pulled records share one transaction: one disk commit instead of one per write.
pub(super) const PULL_GROUP: usize = 200;

/// Ids a query reads again at once: well inside QuickBooks' limit on a query's length.
pub(super) const PULL_AGAIN_CHUNK: usize = 100;

impl<'a> Engine<'a> {
    pub(super) fn pull_context(&self, connection: &rusqlite::Connection, entity: &Value) -> Result<Context, ApiError> {
        let mut context = self.context.clone();
        for qbo_id in crate::spec::mapping::referenced_qbo_ids(entity) {
            for (module, platform_id) in db::links_of_qbo_id(connection, self.instance.id, &qbo_id).map_err(storage)? {
                context.links.entry(module).or_default().insert(qbo_id.clone(), platform_id);
            }
        }
        Ok(context)
    }

    pub(super) async fn pull_module(&mut self, module: &ModuleSpec) -> Result<(), ApiError> {
        if !self.pull_switches(module).any() {
            return Ok(());
        }
        let cursor_name = format!("qbo_since:{}", module.name);
        self.pull_again = db::pull_retries(&self.store.connection(), self.instance.id, &module.name)
            .map_err(storage)?
            .into_iter()
            .collect();
        self.pull_again_unread = self.pull_again.clone();
        let since = db::cursor(&self.store.connection(), self.instance.id, &cursor_name)
            .map_err(storage)?
            .and_then(|t| qbo::rfc3339::parse(&t));
        let (read, next_cursor) = pull_read(since, self.now());
        // Changes arrive through a channel from a reader running beside the loop below: the
        // next page is read while this one is applied, and no more than two pages are held
        // whatever the company's size.
        let (mut sender, changes) = futures::channel::mpsc::channel::<Result<qbo::Change, qbo::Error>>(2 * 1000);
        let client = self.client.clone();
        let (total, reader): (usize, futures::future::BoxFuture<'_, ()>) = match read {
            PullRead::Changes { since } => {
                let found = self
                    .client
                    .cdc(&[&module.entity], since)
                    .await?
                    .entities
                    .remove(&module.entity)
                    .unwrap_or_default();
                let total = found.len();
                let reader = async move {
                    for change in found {
                        if sender.send(Ok(change)).await.is_err() {
                            break;
                        }
                    }
                };
                (total, Box::pin(reader))
            }
            PullRead::Query { after, up_to } => {
                let narrow = |mut query: Query| {
                    if let Some(after) = after {
                        query = query.filter("MetaData.LastUpdatedTime", Op::Gt, after).filter(
                            "MetaData.LastUpdatedTime",
                            Op::Le,
                            up_to,
                        );
                    }
                    if is_name_list(&module.entity) {
                        query = query.include_inactive();
                    }
                    query
                };
                let total = self.client.count(narrow(Query::count(&module.entity))).await? as usize;
                let query = narrow(Query::select(&module.entity)).order_by("Id", false);
                let reader = async move {
                    let mut rows = std::pin::pin!(client.query_values(query));
                    while let Some(row) = rows.next().await {
                        if sender.send(row.map(qbo::Change::Changed)).await.is_err() {
                            break;
                        }
                    }
                };
                (total, Box::pin(reader))
            }
        };
        let filter = match &module.pull_when {
            Some(condition) => Some(
                CompiledMethod::compile(
                    &module.name,
                    MethodName::PullCreate,
                    &[crate::spec::Rule { target: "keep".into(), expr: condition.clone(), note: None }],
                )
                .map_err(|e| {
                    ApiError::new(
                        ErrorCode::Validation,
                        format!("{}: pull_when does not compile: {}", module.name, e[0].reason),
                    )
                })?,
            ),
            None => None,
        };
        let apply = async {
            // Owned here, so a stop (an error, a cancel) ends the reader's sending too.
            let mut changes = changes;
            let mut done = 0;
            while let Some(first) = changes.next().await {
                // What has arrived, up to a group, is applied in one transaction: one commit to
                // disk for many records, and each record with its link and outcome or not at all.
                let mut group = vec![first?];
                while group.len() < PULL_GROUP {
                    match changes.try_recv() {
                        Ok(change) => group.push(change?),
                        _ => break,
                    }
                }
                if self.cancel.load(Ordering::Relaxed) {
                    return Ok(false);
                }
                done += group.len();
                let store = self.store;
                store.transaction(|tx| -> Result<(), ApiError> {
                    for change in group {
                        self.pull_change(tx, module, filter.as_ref(), change)?;
                    }
                    Ok(())
                })?;
                self.report(&module.name, Phase::Pull, done, total, None);
            }
            Ok::<bool, ApiError>(true)
        };
        let ((), finished) = futures::join!(reader, apply);
        if !finished? {
            return Ok(());
        }
        self.pull_again_by_id(module, filter.as_ref()).await?;
        self.report(&module.name, Phase::Pull, total, total, None);
        db::set_cursor(&self.store.connection(), self.instance.id, &cursor_name, &stamp(next_cursor))
            .map_err(storage)?;
        Ok(())
    }

    /// Reads again, by id, what earlier pulls of `module` could not store and this run's
    /// changes did not bring back.
    pub(super) async fn pull_again_by_id(
        &mut self,
        module: &ModuleSpec,
        filter: Option<&CompiledMethod>,
    ) -> Result<(), ApiError> {
        let ids: Vec<String> = std::mem::take(&mut self.pull_again_unread).into_iter().collect();
        for chunk in ids.chunks(PULL_AGAIN_CHUNK) {
            let mut query = Query::select(&module.entity).is_in("Id", chunk.iter().map(String::as_str));
            if is_name_list(&module.entity) {
                query = query.include_inactive();
            }
            let rows: Vec<Value> = futures::TryStreamExt::try_collect(self.client.query_values(query)).await?;
            let gone: Vec<String> = {
                let found: HashSet<&str> =
                    rows.iter().filter_map(|row| row.get("Id").and_then(Value::as_str)).collect();
                chunk.iter().filter(|id| !found.contains(id.as_str())).cloned().collect()
            };
            let store = self.store;
            store.transaction(|tx| -> Result<(), ApiError> {
                // Deleted in QuickBooks since: nothing is left to store.
                for id in &gone {
                    self.pull_stored(tx, &module.name, id, true)?;
                }
                for row in rows {
                    self.pull_change(tx, module, filter, qbo::Change::Changed(row))?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Notes whether the pulled record `qbo_id` is stored (`true`) or must be read again.
    pub(super) fn pull_stored(
        &mut self,
        tx: &Transaction<'_>,
        module: &str,
        qbo_id: &str,
        stored: bool,
    ) -> Result<(), ApiError> {
        if stored == self.pull_again.contains(qbo_id) {
            db::set_pull_retry(tx, self.instance.id, module, qbo_id, !stored).map_err(storage)?;
            if stored {
                self.pull_again.remove(qbo_id);
            } else {
                self.pull_again.insert(qbo_id.to_owned());
            }
        }
        Ok(())
    }

    /// The pull mapping's hash of an entity: what a later pull compares to skip our own echo.
    pub(super) fn qbo_hash(&self, module: &ModuleSpec, entity: &Value) -> Option<String> {
        let method = self.compiled(&module.name, MethodName::PullUpdate).ok()?;
        let context = self.pull_context(&self.store.connection(), entity).ok()?;
        method.map(entity, &context).ok().map(|m| content_hash(&m.body))
    }

    /// Which of the module's pull methods are on for this instance.
    pub(super) fn pull_switches(&self, module: &ModuleSpec) -> PullSwitches {
        PullSwitches {
            create: self.method_on(module, MethodName::PullCreate),
            update: self.method_on(module, MethodName::PullUpdate),
            deletes: module.pull_deletes,
        }
    }

    /// One change read from QuickBooks, applied inside the caller's transaction.
    pub(super) fn pull_change(
        &mut self,
        tx: &Transaction<'_>,
        module: &ModuleSpec,
        filter: Option<&CompiledMethod>,
        change: qbo::Change,
    ) -> Result<(), ApiError> {
        let (qbo_id, entity) = match change {
            qbo::Change::Deleted { id, .. } => (id, None),
            qbo::Change::Changed(entity) => {
                let id = entity.get("Id").and_then(Value::as_str).unwrap_or_default().to_owned();
                // Read again now: whatever comes of it below is its latest word, and only a
                // failure asks for another read.
                self.pull_again_unread.remove(&id);
                self.pull_stored(tx, &module.name, &id, true)?;
                (id, Some(entity))
            }
        };
        let kept = match (filter, &entity) {
            (Some(filter), Some(entity)) => filter
                .map(entity, &Context::default())
                .map(|m| m.body.get("keep") == Some(&Value::Bool(true)))
                .unwrap_or(false),
            _ => true,
        };
        let gone = entity.as_ref().is_none_or(|e| e.get("Active") == Some(&Value::Bool(false)));
        let link = db::link_by_qbo(tx, self.instance.id, &module.name, &qbo_id).map_err(storage)?;
        let change = PulledChange { gone, kept, linked: link.is_some() };
        match (plan_pull(change, self.pull_switches(module)), link, entity) {
            (PullStep::MarkDeleted, Some(link), _) => self.pull_delete(tx, module, &qbo_id, link),
            (PullStep::Store(method), link, Some(entity)) => self.pull_entity(tx, module, &entity, link, method),
            _ => Ok(()),
        }
    }

    /// Marks the platform record linked to `qbo_id` deleted, unless it is already.
    pub(super) fn pull_delete(
        &mut self,
        tx: &Transaction<'_>,
        module: &ModuleSpec,
        qbo_id: &str,
        link: Link,
    ) -> Result<(), ApiError> {
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        if crate::platform::get(tx, platform_module, &link.platform_id)?.is_none_or(|r| r.deleted) {
            return Ok(());
        }
        crate::platform::apply_pulled_delete(tx, platform_module, &link.platform_id, self.now())?;
        self.record_in(
            tx,
            RecordOutcome {
                qbo_id: Some(qbo_id.into()),
                message: Some("deleted or made inactive in QuickBooks: marked deleted here".into()),
                ..RecordOutcome::new(module.name.clone(), link.platform_id, RecordOp::PullDelete, Outcome::Ok)
            },
        )
    }

    /// Maps a changed entity with `method` and stores it with its link, unless it maps to
    /// what was stored last time.
    pub(super) fn pull_entity(
        &mut self,
        tx: &Transaction<'_>,
        module: &ModuleSpec,
        entity: &Value,
        link: Option<Link>,
        method: MethodName,
    ) -> Result<(), ApiError> {
        let qbo_id = entity.get("Id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let context = self.pull_context(tx, entity)?;
        let compiled = self
            .compiled(&module.name, method)
            .map_err(|e| ApiError::new(ErrorCode::Validation, format!("{} {method}: {}", module.name, e[0].reason)))?;
        let mapped = match compiled.map(entity, &context) {
            Ok(mapped) => mapped,
            Err(error) => {
                let outcome =
                    if error.kind == MappingFailure::NotOnPlatformYet { Outcome::Blocked } else { Outcome::Failed };
                self.pull_stored(tx, &module.name, &qbo_id, false)?;
                return self.record_in(
                    tx,
                    RecordOutcome {
                        qbo_id: Some(qbo_id.clone()),
                        message: Some(error.to_string()),
                        ..RecordOutcome::new(module.name.clone(), qbo_id, method.into(), outcome)
                    },
                );
            }
        };
        let hash = content_hash(&mapped.body);
        if link.as_ref().and_then(|l| l.qbo_hash.as_deref()) == Some(hash.as_str()) {
            return Ok(()); // what we sent or received last time: nothing new
        }
        let data = match &link {
            Some(link) => {
                let mut data = crate::platform::get(tx, platform_module, &link.platform_id)?
                    .map(|r| r.data)
                    .unwrap_or_else(|| json!({}));
                if let (Value::Object(target), Value::Object(fields)) = (&mut data, mapped.body.clone()) {
                    target.extend(fields);
                }
                data["Id"] = json!(link.platform_id);
                data
            }
            None => mapped.body.clone(),
        };
        // A record the store refuses is undone alone; the rest of the group goes on.
        tx.execute_batch("SAVEPOINT pulled_record").map_err(storage)?;
        match crate::platform::apply_pulled(tx, platform_module, data, self.now()) {
            Ok(record) => {
                tx.execute_batch("RELEASE pulled_record").map_err(storage)?;
                let saved = Link {
                    module: module.name.clone(),
                    platform_id: record.id.clone(),
                    qbo_id: qbo_id.clone(),
                    sync_token: entity.get("SyncToken").and_then(Value::as_str).map(str::to_owned),
                    platform_hash: link.as_ref().and_then(|l| l.platform_hash.clone()),
                    qbo_hash: Some(hash),
                    synced_at: stamp(self.now()),
                };
                db::save_link(tx, self.instance.id, &saved).map_err(storage)?;
                self.record_in(
                    tx,
                    RecordOutcome {
                        qbo_id: Some(qbo_id),
                        ..RecordOutcome::new(module.name.clone(), record.id, method.into(), Outcome::Ok)
                    },
                )
            }
            Err(error) => {
                tx.execute_batch("ROLLBACK TO pulled_record; RELEASE pulled_record").map_err(storage)?;
                self.pull_stored(tx, &module.name, &qbo_id, false)?;
                self.record_in(
                    tx,
                    RecordOutcome {
                        qbo_id: Some(qbo_id.clone()),
                        message: Some(error.to_string()),
                        ..RecordOutcome::new(module.name.clone(), qbo_id, method.into(), Outcome::Failed)
                    },
                )
            }
        }
    }
}
