//! A sync run: plan, journal, execute in batches, record — push then pull, module by
//! module in dependency order.
//!
//! Exactly once: every QuickBooks write is journaled with its `requestid` before it is
//! sent, and its answer updates the link, the journal and the run's record in one
//! transaction. A run that died is finished first by the next one: each write left
//! pending is looked for in QuickBooks by its marker (the module's match field) before
//! anything is sent again.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use qbo::{BatchItem, Client, Op, Query, RequestId};
use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::plan::{plan_push, Candidate, MappingProblem, Operation, Planned, PushSwitches, SkipWhy};
use super::store::{self as db, Counts, Link, RecordOutcome};
use crate::api::Connector;
use crate::error::{ApiError, ErrorCode};
use crate::instance::Instance;
use crate::platform::{Module, PlatformStore};
use crate::spec::{CompiledMethod, Context, DeleteAction, MethodName, ModuleSpec, Spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Push,
    Pull,
    Sync,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Button,
    Schedule,
    Cli,
    Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    PlatformWins,
    QuickbooksWins,
    NewestWins,
    /// Both versions wait in the conflict inbox for the operator.
    #[default]
    Hold,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Progress {
    pub module: String,
    pub phase: String,
    pub done: usize,
    pub total: usize,
    pub current: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RunSummary {
    pub run_id: i64,
    pub outcome: String,
    pub counts: BTreeMap<String, Counts>,
}

/// What a dry run would do, per module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct PlanView {
    pub module: String,
    pub entity: String,
    pub operations: Vec<Planned>,
    /// Per platform id of an update: each field that would change, against a fresh read
    /// of QuickBooks.
    #[serde(default)]
    pub differences: BTreeMap<String, Vec<FieldChange>>,
}

/// One field of an update: what QuickBooks has now and what would be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct FieldChange {
    pub field: String,
    pub quickbooks: Value,
    pub sent: Value,
}

/// The leaves of `sent` (dotted paths, `[n]` for lines) whose value differs from `current`'s;
/// numbers compare as decimals, so 30 and 30.00 are the same amount.
pub fn field_changes(sent: &Value, current: &Value) -> Vec<FieldChange> {
    fn same(a: &Value, b: &Value) -> bool {
        match (crate::platform::schema::decimal(a), crate::platform::schema::decimal(b)) {
            (Some(x), Some(y)) if a.is_number() || b.is_number() => x == y,
            _ => a == b,
        }
    }
    fn walk(path: String, sent: &Value, current: Option<&Value>, out: &mut Vec<FieldChange>) {
        match sent {
            Value::Object(map) => {
                for (key, value) in map {
                    let field = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    walk(field, value, current.and_then(|c| c.get(key)), out);
                }
            }
            Value::Array(items) => {
                for (index, value) in items.iter().enumerate() {
                    walk(format!("{path}[{index}]"), value, current.and_then(|c| c.get(index)), out);
                }
            }
            leaf => {
                let now = current.cloned().unwrap_or(Value::Null);
                if !same(leaf, &now) {
                    out.push(FieldChange { field: path, quickbooks: now, sent: leaf.clone() });
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(String::new(), sent, Some(current), &mut out);
    out.retain(|c| !matches!(c.field.as_str(), "Id" | "SyncToken" | "sparse"));
    out
}

pub struct SyncRequest<'a> {
    pub direction: Direction,
    pub modules: Option<Vec<String>>,
    pub trigger: Trigger,
    pub cancel: Option<Arc<AtomicBool>>,
    pub progress: Option<&'a (dyn Fn(Progress) + Send + Sync)>,
    /// Only these platform records (retry, re-sync one).
    pub only: Option<BTreeSet<(String, String)>>,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn stamp(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}

/// A stable 64-bit FNV-1a hash of a JSON value's text.
pub fn content_hash(value: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn storage(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Storage, error.to_string())
}

/// One run's working state.
/// How a chunk of writes went out: as one batch call, or as one request per record.
enum Sent {
    Batch(Result<Vec<qbo::BatchResult>, qbo::Error>),
    Singly(Vec<(usize, Result<Value, qbo::Error>)>),
}

/// Journals writes as pending, in one transaction, before they are sent: the requestid of the
/// call each goes out in (`call` when they go as one batch call, else each write's own), and
/// what sending it again as it was needs.
fn journal_batch(
    connector: &Connector,
    instance_id: i64,
    run_id: i64,
    module: &str,
    batch: &[(Planned, RequestId)],
    call: Option<&RequestId>,
) -> Result<(), ApiError> {
    connector.store().transaction(|tx| -> Result<(), ApiError> {
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
            tx.execute(
                "INSERT INTO journal (instance_id, run_id, module, platform_id, operation, request_id, body, platform_hash, state, created_at, record_request_id, qbo_id, sync_token)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12)",
                params![instance_id, run_id, module, planned.platform_id, Engine::op_name(&planned.operation), call.unwrap_or(record_request_id).as_str(), body.to_string(), hash, stamp(now()), record_request_id.as_str(), qbo_id, sync_token],
            )
            .map_err(storage)?;
        }
        Ok(())
    })
}

/// Planned writes, each with its own requestid.
type Writes = Vec<(Planned, RequestId)>;

/// Each write of a batch with its own journaled requestid, to be sent as a request of its own.
fn singles(items: Vec<BatchItem>, batch: &[(Planned, RequestId)]) -> Vec<(BatchItem, RequestId)> {
    items.into_iter().zip(batch.iter().map(|(_, request_id)| request_id.clone())).collect()
}

/// QuickBooks' longest name (a customer's DisplayName, 500 characters): no match field holds more.
const LONGEST_MATCH_VALUE: usize = 500;

/// Whether QuickBooks refused a request for its size (HTTP 413).
fn too_large(error: &qbo::Error) -> bool {
    error.fault().is_some_and(|fault| fault.status == 413)
}

/// The dotted path and length of the longest text in a body: what made it too large.
fn longest_text(body: &Value) -> Option<(String, usize)> {
    fn walk(path: String, value: &Value, longest: &mut Option<(String, usize)>) {
        match value {
            Value::String(text) => {
                let length = text.chars().count();
                if longest.as_ref().is_none_or(|(_, most)| length > *most) {
                    *longest = Some((path, length));
                }
            }
            Value::Object(map) => {
                for (key, value) in map {
                    walk(if path.is_empty() { key.clone() } else { format!("{path}.{key}") }, value, longest);
                }
            }
            Value::Array(items) => {
                for (index, value) in items.iter().enumerate() {
                    walk(format!("{path}[{index}]"), value, longest);
                }
            }
            _ => {}
        }
    }
    let mut longest = None;
    walk(String::new(), body, &mut longest);
    longest
}

/// How many pulled records share one transaction: one disk commit instead of one per write.
const PULL_GROUP: usize = 200;
/// Ids a query reads again at once: well inside QuickBooks' limit on a query's length.
const PULL_AGAIN_CHUNK: usize = 100;

/// How many records one page of a push maps, plans and sends. Memory follows the page, not
/// the data set; a thousand keeps dozens of batch calls going between page boundaries.
const PUSH_PAGE: usize = 1_000;

/// The records a push of one module looks at, a page at a time: those an earlier run left
/// failed or blocked (or the ones asked for) first, then the module's change log after its
/// cursor, each record once.
struct PushPages {
    module: Module,
    retry: Vec<String>,
    retried: HashSet<String>,
    after_seq: i64,
    read_log: bool,
}

/// A page's ids and the change-log position it reaches (none for retries).
type PushPage = (Vec<String>, Option<i64>);

impl PushPages {
    fn total(&self, platform: &PlatformStore<'_>) -> Result<usize, ApiError> {
        let logged = if self.read_log { platform.count_changed_records(self.module, self.after_seq)? } else { 0 };
        Ok(self.retry.len() + logged)
    }

    fn next(&mut self, platform: &PlatformStore<'_>) -> Result<Option<PushPage>, ApiError> {
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

pub struct Engine<'a> {
    connector: &'a Connector,
    instance: Instance,
    spec: Spec,
    client: Client,
    context: Context,
    run_id: i64,
    counts: BTreeMap<String, Counts>,
    cancel: Arc<AtomicBool>,
    progress: Option<&'a (dyn Fn(Progress) + Send + Sync)>,
    /// Each method compiled once per run: compiling jq costs far more than running it.
    compiled: std::sync::Mutex<BTreeMap<(String, MethodName), CompiledResult>>,
    /// Whole reads made for matching, per module, for the later pages of this run.
    read_all: std::sync::Mutex<BTreeMap<String, Arc<MatchIndex>>>,
    /// A dry run's stand-ins for links a real run would have made by then: per module, the
    /// platform ids it plans to create (a placeholder) or link (the QuickBooks id). Without
    /// them every invoice of a first push would be planned as waiting for its customer.
    planned_links: HashMap<String, HashMap<String, String>>,
    /// The QuickBooks ids of the module being pulled that an earlier pull could not store:
    /// read again this run, and forgotten once stored.
    pull_again: HashSet<String>,
    /// Of those, the ones this run's changes have not brought yet: read by id at the end.
    pull_again_unread: HashSet<String>,
}

/// A module's QuickBooks rows by their lower-cased match value.
type MatchIndex = BTreeMap<String, super::plan::LinkState>;

type CompiledResult = Result<Arc<CompiledMethod>, Vec<crate::spec::mapping::CompileError>>;

fn link_state_of(row: &Value) -> super::plan::LinkState {
    super::plan::LinkState {
        qbo_id: row["Id"].as_str().unwrap_or_default().to_owned(),
        sync_token: row["SyncToken"].as_str().map(str::to_owned),
        platform_hash: None,
    }
}

fn is_name_list(entity: &str) -> bool {
    matches!(entity, "Customer" | "Vendor" | "Employee" | "Item" | "Account" | "Term" | "PaymentMethod")
}

impl<'a> Engine<'a> {
    /// Runs a sync of `name`. One run per instance at a time, across processes.
    pub async fn run(connector: &'a Connector, name: &str, request: SyncRequest<'a>) -> Result<RunSummary, ApiError> {
        let instance = connector.instance(name)?.instance;
        let _turn = run_lock(connector, &instance)?;
        db::close_interrupted_runs(&connector.store().connection(), instance.id, &stamp(now())).map_err(storage)?;
        let spec = connector.spec(name)?;
        let client = connector.qbo_client(name).await?;
        let mut context = Context { vars: connector.variables(name)?, ..Context::default() };
        for row in connector.lookups(name)? {
            context.lookups.entry(row.lookup).or_default().insert(row.platform_value, row.qbo_value);
        }
        let direction = match request.direction {
            Direction::Push => "push",
            Direction::Pull => "pull",
            Direction::Sync => "sync",
        };
        let trigger =
            serde_json::to_value(request.trigger).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let run_id = {
            let store = connector.store().connection();
            store
                .execute(
                    "INSERT INTO run (instance_id, trigger, direction, started_at) VALUES (?1, ?2, ?3, ?4)",
                    params![instance.id, trigger, direction, stamp(now())],
                )
                .map_err(storage)?;
            store.last_insert_rowid()
        };
        let mut engine = Engine {
            connector,
            instance,
            spec,
            client,
            context,
            run_id,
            counts: BTreeMap::new(),
            cancel: request.cancel.clone().unwrap_or_default(),
            progress: request.progress,
            compiled: Default::default(),
            read_all: Default::default(),
            planned_links: HashMap::new(),
            pull_again: HashSet::new(),
            pull_again_unread: HashSet::new(),
        };
        let result = engine.run_all(&request).await;
        let outcome = match &result {
            Err(_) => "failed",
            Ok(()) if engine.cancel.load(Ordering::Relaxed) => "cancelled",
            Ok(()) if engine.counts.values().any(|c| c.failed + c.blocked + c.held > 0) => "failed_records",
            Ok(()) => "succeeded",
        };
        connector
            .store()
            .connection()
            .execute(
                "UPDATE run SET finished_at = ?2, outcome = ?3, counts = ?4 WHERE id = ?1",
                params![run_id, stamp(now()), outcome, serde_json::to_string(&engine.counts).unwrap_or_default()],
            )
            .map_err(storage)?;
        result?;
        Ok(RunSummary { run_id, outcome: outcome.into(), counts: engine.counts })
    }

    /// The plan of a push, without writing anything.
    pub async fn dry_run(
        connector: &'a Connector,
        name: &str,
        modules: Option<Vec<String>>,
    ) -> Result<Vec<PlanView>, ApiError> {
        let instance = connector.instance(name)?.instance;
        let spec = connector.spec(name)?;
        let client = connector.qbo_client(name).await?;
        let mut context = Context { vars: connector.variables(name)?, ..Context::default() };
        for row in connector.lookups(name)? {
            context.lookups.entry(row.lookup).or_default().insert(row.platform_value, row.qbo_value);
        }
        let mut engine = Engine {
            connector,
            instance,
            spec: spec.clone(),
            client,
            context,
            run_id: 0,
            counts: BTreeMap::new(),
            cancel: Arc::default(),
            progress: None,
            compiled: Default::default(),
            read_all: Default::default(),
            planned_links: HashMap::new(),
            pull_again: HashSet::new(),
            pull_again_unread: HashSet::new(),
        };
        let mut views = Vec::new();
        for module in engine.ordered_modules(modules.as_deref()) {
            let mut operations = Vec::new();
            let mut pages = engine.push_pages(&module, None)?;
            while let Some((ids, _)) = pages.next(&PlatformStore::new(engine.connector.store()))? {
                let candidates = engine.push_candidates(&module, ids).await?;
                operations.extend(plan_push(candidates, engine.switches(&module)));
            }
            let stand_ins = engine.planned_links.entry(module.name.clone()).or_default();
            for planned in &operations {
                let qbo_id = match &planned.operation {
                    Operation::Create { .. } => {
                        format!("(new {} for {} {})", module.entity, module.name, planned.platform_id)
                    }
                    Operation::Link { qbo_id, .. } => qbo_id.clone(),
                    _ => continue,
                };
                stand_ins.insert(planned.platform_id.clone(), qbo_id);
            }
            let updates: BTreeMap<&str, (&str, &Value)> = operations
                .iter()
                .filter_map(|p| match &p.operation {
                    Operation::Update { qbo_id, body, .. } => Some((qbo_id.as_str(), (p.platform_id.as_str(), body))),
                    _ => None,
                })
                .collect();
            let mut differences = BTreeMap::new();
            let ids: Vec<&str> = updates.keys().copied().collect();
            for chunk in ids.chunks(100) {
                let mut query = Query::select(&module.entity).is_in("Id", chunk.iter().copied());
                if is_name_list(&module.entity) {
                    query = query.include_inactive();
                }
                let rows: Vec<Value> = futures::TryStreamExt::try_collect(engine.client.query_values(query)).await?;
                for row in rows {
                    if let Some((platform_id, body)) = row["Id"].as_str().and_then(|id| updates.get(id)) {
                        differences.insert((*platform_id).to_owned(), field_changes(body, &row));
                    }
                }
            }
            views.push(PlanView {
                module: module.name.clone(),
                entity: module.entity.clone(),
                operations,
                differences,
            });
        }
        Ok(views)
    }

    fn ordered_modules(&self, only: Option<&[String]>) -> Vec<ModuleSpec> {
        let mut ordered: Vec<ModuleSpec> = Vec::new();
        let mut remaining: Vec<ModuleSpec> = self.spec.modules.clone();
        while !remaining.is_empty() {
            let before = remaining.len();
            remaining.retain(|m| {
                let ready = m
                    .depends_on
                    .iter()
                    .all(|d| ordered.iter().any(|o| o.name.eq_ignore_ascii_case(d)) || self.spec.module(d).is_none());
                if ready {
                    ordered.push(m.clone());
                }
                !ready
            });
            if remaining.len() == before {
                ordered.append(&mut remaining);
            }
        }
        ordered.retain(|m| only.is_none_or(|names| names.iter().any(|n| n.eq_ignore_ascii_case(&m.name))));
        ordered
    }

    fn method_on(&self, module: &ModuleSpec, method: MethodName) -> bool {
        let spec_on = module.methods.is_enabled(method);
        self.instance
            .settings
            .methods
            .get(&module.name)
            .and_then(|m| m.get(method.as_str()).copied())
            .unwrap_or(spec_on)
    }

    fn switches(&self, module: &ModuleSpec) -> PushSwitches {
        PushSwitches {
            create: self.method_on(module, MethodName::PushCreate),
            update: self.method_on(module, MethodName::PushUpdate),
            delete: self.method_on(module, MethodName::PushDelete).then_some(module.methods.push_delete.action),
        }
    }

    fn policy(&self, module: &str) -> ConflictPolicy {
        self.instance.settings.conflict_policies.get(module).copied().unwrap_or_default()
    }

    fn report(&self, module: &str, phase: &str, done: usize, total: usize, current: Option<&str>) {
        if let Some(progress) = self.progress {
            progress(Progress {
                module: module.into(),
                phase: phase.into(),
                done,
                total,
                current: current.map(str::to_owned),
            });
        }
    }

    fn compiled(&self, module: &str, method: MethodName) -> CompiledResult {
        let mut cache = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry((module.to_owned(), method))
            .or_insert_with(|| CompiledMethod::from_spec(&self.spec, module, method).map(Arc::new))
            .clone()
    }

    fn record(&mut self, outcome: RecordOutcome) -> Result<(), ApiError> {
        let connector = self.connector;
        self.record_in(&connector.store().connection(), outcome)
    }

    /// An outcome written through `connection` (the caller's transaction, when it holds one).
    fn record_in(&mut self, connection: &rusqlite::Connection, outcome: RecordOutcome) -> Result<(), ApiError> {
        self.counts.entry(outcome.module.clone()).or_default().add(&outcome.outcome);
        db::add_outcome(connection, self.run_id, &outcome).map_err(storage)
    }

    async fn run_all(&mut self, request: &SyncRequest<'_>) -> Result<(), ApiError> {
        self.resume_journal().await?;
        let modules = self.ordered_modules(request.modules.as_deref());
        if matches!(request.direction, Direction::Push | Direction::Sync) {
            for module in &modules {
                if self.cancel.load(Ordering::Relaxed) {
                    return Ok(());
                }
                self.push_module(module, request.only.as_ref()).await?;
            }
        }
        if matches!(request.direction, Direction::Pull | Direction::Sync) && request.only.is_none() {
            for module in &modules {
                if self.cancel.load(Ordering::Relaxed) {
                    return Ok(());
                }
                self.pull_module(module).await?;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ push

    /// The context for mapping one platform record: links and related records of the ids it refers to.
    fn push_context(&self, record: &Value) -> Result<Context, ApiError> {
        let mut context = self.context.clone();
        let store = self.connector.store();
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
    fn push_pages(
        &self,
        module: &ModuleSpec,
        only: Option<&BTreeSet<(String, String)>>,
    ) -> Result<PushPages, ApiError> {
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let connection = self.connector.store().connection();
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
    async fn push_candidates(&self, module: &ModuleSpec, ids: Vec<String>) -> Result<Vec<Candidate>, ApiError> {
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let store = self.connector.store();
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
                            dependency: e.reason.contains("not in QuickBooks yet"),
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

    /// The module's first match rule, compiled, and the QuickBooks field it compares with.
    fn matcher(module: &ModuleSpec) -> Option<(CompiledMethod, String)> {
        let rule = module.matching.first()?;
        let matcher = CompiledMethod::compile(
            &module.name,
            MethodName::PushCreate,
            &[crate::spec::Rule { target: "value".into(), expr: rule.expr.clone(), note: None }],
        )
        .ok()?;
        Some((matcher, rule.qbo_field.clone()))
    }

    /// The record's match value. One longer than any QuickBooks name or number cannot match,
    /// and put in a query it would make QuickBooks refuse the look-up of every record beside it.
    fn match_value(matcher: &CompiledMethod, record: &Value, context: &Context) -> Option<String> {
        let mapped = matcher.map(record, context).ok()?;
        let value = mapped.body.get("value").and_then(Value::as_str)?;
        (value.chars().count() <= LONGEST_MATCH_VALUE).then(|| value.to_owned())
    }

    /// For records about to be created without a link (answers to our own writes, a 6240 on
    /// create, and resumed runs), a QuickBooks record that is plainly the same, read afresh.
    async fn find_matches(&self, module: &ModuleSpec, candidates: &mut [Candidate]) -> Result<(), ApiError> {
        let Some((matcher, field)) = Engine::matcher(module) else { return Ok(()) };
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let platform = PlatformStore::new(self.connector.store());
        let mut wanted: Vec<(usize, String)> = Vec::new();
        for (index, candidate) in candidates.iter().enumerate() {
            if candidate.link.is_some() || candidate.deleted || !matches!(candidate.mapped, Some(Ok(_))) {
                continue;
            }
            let Ok(record) = platform.get(platform_module, &candidate.platform_id) else { continue };
            let context = self.push_context(&record.data)?;
            if let Some(value) = Engine::match_value(&matcher, &record.data, &context) {
                wanted.push((index, value));
            }
        }
        for (index, link) in self.look_up_matches(module, &field, &wanted, false).await? {
            candidates[index].matched = Some(link);
        }
        Ok(())
    }

    /// The QuickBooks twins of `wanted` (candidate index, match value): the module's match
    /// rules, 30 queries a call, or one read of the whole entity when that is cheaper.
    ///
    /// With `reuse`, a whole read of the entity made for an earlier page of this run is asked
    /// again instead of read again: a first push of 10,000 invoices otherwise re-read the
    /// company for every page. It is kept only when reading all was the cheaper way, that is
    /// for fewer than about 34,000 rows, so its size stays bounded.
    async fn look_up_matches(
        &self,
        module: &ModuleSpec,
        field: &str,
        wanted: &[(usize, String)],
        reuse: bool,
    ) -> Result<Vec<(usize, super::plan::LinkState)>, ApiError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let read_before = if reuse {
            self.read_all.lock().unwrap_or_else(|p| p.into_inner()).get(&module.name).cloned()
        } else {
            None
        };
        Ok(match read_before {
            Some(by_value) => Engine::match_in(&by_value, wanted),
            None if self.cheaper_to_read_all(module, wanted.len()).await? => {
                let by_value = Arc::new(self.read_all_by_value(module, field).await?);
                if reuse {
                    self.read_all
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(module.name.clone(), by_value.clone());
                }
                Engine::match_in(&by_value, wanted)
            }
            None => self.match_by_batched_queries(module, field, wanted).await?,
        })
    }

    /// One batch call looks up 30 candidates; one paged query reads 1,000 rows. A first
    /// push of thousands into a small company reads the company instead of asking
    /// thousands of questions (and a resumed run gets to its writes sooner).
    async fn cheaper_to_read_all(&self, module: &ModuleSpec, wanted: usize) -> Result<bool, ApiError> {
        if wanted <= qbo::client::BATCH_MAX {
            return Ok(false);
        }
        let mut count = Query::count(&module.entity);
        if is_name_list(&module.entity) {
            count = count.include_inactive();
        }
        let existing = self.client.count(count).await?;
        let page_reads = existing.div_ceil(1000) as usize;
        Ok(page_reads < wanted.div_ceil(qbo::client::BATCH_MAX))
    }

    /// Every row of the module's entity by its match field, lower-cased.
    async fn read_all_by_value(&self, module: &ModuleSpec, field: &str) -> Result<MatchIndex, ApiError> {
        let mut query = Query::select(&module.entity);
        if is_name_list(&module.entity) {
            query = query.include_inactive();
        }
        // QuickBooks compares text in queries without regard to case; so does this.
        let mut by_value = MatchIndex::new();
        let mut rows = std::pin::pin!(self.client.query_values(query));
        while let Some(row) = rows.next().await {
            let row = row?;
            let value = field.split('.').try_fold(&row, |node, key| node.get(key)).and_then(Value::as_str);
            if let Some(value) = value {
                by_value.entry(value.to_lowercase()).or_insert_with(|| link_state_of(&row));
            }
        }
        Ok(by_value)
    }

    fn match_in(by_value: &MatchIndex, wanted: &[(usize, String)]) -> Vec<(usize, super::plan::LinkState)> {
        wanted
            .iter()
            .filter_map(|(index, value)| by_value.get(&value.to_lowercase()).map(|link| (*index, link.clone())))
            .collect()
    }

    async fn match_by_batched_queries(
        &self,
        module: &ModuleSpec,
        field: &str,
        wanted: &[(usize, String)],
    ) -> Result<Vec<(usize, super::plan::LinkState)>, ApiError> {
        let mut found = Vec::new();
        for chunk in wanted.chunks(qbo::client::BATCH_MAX) {
            let items: Vec<BatchItem> = chunk
                .iter()
                .map(|(_, value)| {
                    let mut query = Query::select(&module.entity).filter(field, Op::Eq, value.as_str()).max_results(1);
                    if is_name_list(&module.entity) {
                        query = query.include_inactive();
                    }
                    BatchItem::Query(query.text())
                })
                .collect();
            for result in self.client.batch(&items, &RequestId::new()).await? {
                let (index, _) = chunk[result.index];
                // A refused look-up (a match field QuickBooks will not filter on) is not "no
                // twin": taken as one, every record would be created again.
                let answer = result.outcome.map_err(qbo::Error::Fault)?;
                if let Some(row) = answer.get(&module.entity).and_then(|r| r.get(0)) {
                    found.push((index, link_state_of(row)));
                }
            }
        }
        Ok(found)
    }

    async fn push_module(
        &mut self,
        module: &ModuleSpec,
        only: Option<&BTreeSet<(String, String)>>,
    ) -> Result<(), ApiError> {
        let switches = self.switches(module);
        let mut pages = self.push_pages(module, only)?;
        let total = pages.total(&PlatformStore::new(self.connector.store()))?;
        let mut done = 0;
        self.report(&module.name, "push", 0, total, None);
        while let Some((ids, latest_seq)) = pages.next(&PlatformStore::new(self.connector.store()))? {
            let candidates = self.push_candidates(module, ids).await?;
            let plan = plan_push(candidates, switches);
            self.push_page(module, plan, only, &mut done, total).await?;
            if self.cancel.load(Ordering::Relaxed) {
                break;
            }
            // Each finished page moves the cursor, so a run that dies re-reads one page, not all.
            if let Some(seq) = latest_seq {
                db::set_cursor(
                    &self.connector.store().connection(),
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
            &self.connector.store().connection(),
            self.instance.id,
            &module.name,
            module.platform_module(),
            &stamp(now()),
        )
        .map_err(storage)?;
        Ok(())
    }

    /// Records one page's plan: links, failures and skips at once, writes as they are answered.
    async fn push_page(
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
                    let outcome = if *why == SkipWhy::Waiting { "blocked" } else { "skipped" };
                    if outcome == "blocked" || only.is_some() {
                        self.record(RecordOutcome {
                            module: module.name.clone(),
                            record_id: planned.platform_id.clone(),
                            operation: "skip".into(),
                            outcome: outcome.into(),
                            message: Some(reason.clone()),
                            ..Default::default()
                        })?;
                    }
                }
                Operation::Fail { reason } => {
                    self.record(RecordOutcome {
                        module: module.name.clone(),
                        record_id: planned.platform_id.clone(),
                        operation: "map".into(),
                        outcome: "failed".into(),
                        message: Some(reason.clone()),
                        ..Default::default()
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
                        synced_at: stamp(now()),
                    };
                    db::save_link(&self.connector.store().connection(), self.instance.id, &link).map_err(storage)?;
                    let _ = hash;
                    self.record(RecordOutcome {
                        module: module.name.clone(),
                        record_id: planned.platform_id.clone(),
                        operation: "link".into(),
                        outcome: "ok".into(),
                        qbo_id: Some(qbo_id.clone()),
                        message: Some(format!(
                            "already in QuickBooks as {} {qbo_id}: linked instead of created",
                            module.entity
                        )),
                        ..Default::default()
                    })?;
                    // The next run sends the platform's version as an update.
                }
                _ => writes.push((planned, RequestId::new())),
            }
        }
        *done += planned_count - writes.len();
        self.report(&module.name, "push", *done, total, None);
        self.execute_writes(module, writes, done, total).await
    }

    fn batch_item(module: &ModuleSpec, planned: &Planned) -> Option<BatchItem> {
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

    fn op_name(operation: &Operation) -> &'static str {
        match operation {
            Operation::Create { .. } => "create",
            Operation::Update { .. } => "update",
            Operation::Delete { .. } => "delete",
            Operation::Link { .. } => "link",
            Operation::Skip { .. } => "skip",
            Operation::Fail { .. } => "fail",
        }
    }

    async fn execute_writes(
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
        let (connector, instance_id, run_id) = (self.connector, self.instance.id, self.run_id);
        let (module_name, module_spec) = (module.name.clone(), module.clone());
        let unsent = prepared.into_iter().take_while(move |_| !cancel.load(Ordering::Relaxed));
        let mut in_flight = futures::stream::iter(unsent.map(move |(batch, request_id)| {
            let client = client.clone();
            let module_name = module_name.clone();
            let items: Vec<BatchItem> = batch.iter().filter_map(|(p, _)| Engine::batch_item(&module_spec, p)).collect();
            async move {
                // 40 batch calls a minute carry 30 records each; once the minute's are used
                // up, its other 460 requests carry one record each instead of waiting.
                let as_one_call = client.has_batch_room();
                // Journaled as it goes out, not before: a crash after this point is finished by
                // the next run, which then has the calls in flight to finish, not the page.
                let call = as_one_call.then_some(&request_id);
                journal_batch(connector, instance_id, run_id, &module_name, &batch, call)?;
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
            self.report(&module.name, "push", *done, total, batch.last().map(|(p, _)| p.platform_id.as_str()));
        }
        Ok(())
    }

    /// Records how a chunk of writes was answered.
    async fn record_sent(
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
    async fn record_singly(
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
    fn record_call_failure(
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

    fn finish_journal(&self, module: &ModuleSpec, platform_id: &str, state: &str) -> Result<(), ApiError> {
        db::finish_journal(&self.connector.store().connection(), self.instance.id, &module.name, platform_id, state)
            .map_err(storage)
    }

    /// The pull mapping's hash of an entity: what a later pull compares to skip our own echo.
    fn qbo_hash(&self, module: &ModuleSpec, entity: &Value) -> Option<String> {
        let method = self.compiled(&module.name, MethodName::PullUpdate).ok()?;
        let context = self.pull_context(&self.connector.store().connection(), entity).ok()?;
        method.map(entity, &context).ok().map(|m| content_hash(&m.body))
    }

    /// Writes QuickBooks accepted: each record's link, journal entry and outcome, all of them
    /// in one transaction, so a batch's thirty answers cost one disk commit, not thirty.
    fn record_written(&mut self, module: &ModuleSpec, written: Vec<(&Planned, Value)>) -> Result<(), ApiError> {
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
        self.connector.store().transaction(|tx| -> Result<(), ApiError> {
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
                            synced_at: stamp(now()),
                        };
                        db::save_link(tx, instance_id, &link).map_err(storage)?;
                    }
                }
                db::finish_journal(tx, instance_id, &module.name, &planned.platform_id, "done").map_err(storage)?;
                let outcome = RecordOutcome {
                    module: module.name.clone(),
                    record_id: planned.platform_id.clone(),
                    operation: Engine::op_name(&planned.operation).into(),
                    outcome: "ok".into(),
                    qbo_id: Some(qbo_id),
                    ..Default::default()
                };
                db::add_outcome(tx, run_id, &outcome).map_err(storage)?;
            }
            Ok(())
        })?;
        self.counts.entry(module.name.clone()).or_default().ok += written.len();
        Ok(())
    }

    async fn record_answer(
        &mut self,
        module: &ModuleSpec,
        planned: &Planned,
        outcome: Result<Value, qbo::Fault>,
    ) -> Result<(), ApiError> {
        let operation = Engine::op_name(&planned.operation);
        match outcome {
            Ok(entity) => self.record_written(module, vec![(planned, entity)])?,
            Err(fault) if fault.code() == qbo::fault::codes::STALE_OBJECT => {
                self.stale_write(module, planned, &fault).await?;
            }
            Err(fault) if fault.code() == qbo::fault::codes::DUPLICATE_NAME && operation == "create" => {
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
                            synced_at: stamp(now()),
                        };
                        db::save_link(&self.connector.store().connection(), self.instance.id, &link)
                            .map_err(storage)?;
                        self.record(RecordOutcome {
                            module: module.name.clone(),
                            record_id: planned.platform_id.clone(),
                            operation: "link".into(),
                            outcome: "ok".into(),
                            qbo_id: Some(found.qbo_id.clone()),
                            message: Some(format!(
                                "QuickBooks already had this name ({}): linked to {} {} instead of creating a twin",
                                fault.code(),
                                module.entity,
                                found.qbo_id
                            )),
                            code: Some(fault.code().into()),
                            intuit_tid: fault.intuit_tid.clone(),
                            ..Default::default()
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

    /// QuickBooks refused a write as stale (5010): its SyncToken moved since ours. That is our
    /// own earlier write that a crash cut off before its answer was recorded, another app's edit
    /// that happens to agree, or a real conflict; only the last is a conflict. The entity is
    /// read once and compared with what was being sent.
    async fn stale_write(
        &mut self,
        module: &ModuleSpec,
        planned: &Planned,
        fault: &qbo::Fault,
    ) -> Result<(), ApiError> {
        let (qbo_id, deleting) = match &planned.operation {
            Operation::Update { qbo_id, .. } => (qbo_id, None),
            Operation::Delete { qbo_id, action, .. } => (qbo_id, Some(*action)),
            _ => {
                self.finish_journal(module, &planned.platform_id, "failed")?;
                return self.record(fault_outcome(module, planned, fault));
            }
        };
        let current = match self.client.read_json(&module.entity, qbo_id).await {
            Ok(current) => current,
            // A delete that QuickBooks no longer finds has happened: ours, cut off, or someone's.
            Err(qbo::Error::Fault(gone))
                if deleting.is_some() && gone.code() == qbo::fault::codes::OBJECT_NOT_FOUND =>
            {
                return self.record_written(module, vec![(planned, json!({"Id": qbo_id}))]);
            }
            Err(error) => {
                self.finish_journal(module, &planned.platform_id, "failed")?;
                return self.record(failure_outcome(module, planned, &error));
            }
        };
        match (&planned.operation, deleting) {
            (Operation::Update { body, .. }, _) if field_changes(body, &current).is_empty() => {
                // Both sides already agree: done, at QuickBooks' SyncToken.
                self.record_written(module, vec![(planned, current)])
            }
            (_, Some(DeleteAction::Deactivate)) if current.get("Active") == Some(&Value::Bool(false)) => {
                self.record_written(module, vec![(planned, current)])
            }
            (_, Some(action)) => {
                // The record is gone from the platform; an edit in QuickBooks since does not
                // bring it back, so the delete goes again at the current SyncToken.
                let sync_token = current["SyncToken"].as_str().unwrap_or_default().to_owned();
                let request_id = RequestId::new();
                let answer = match action {
                    DeleteAction::Deactivate => {
                        let body = json!({"Id": qbo_id, "SyncToken": sync_token, "Active": false});
                        self.client.update_json(&module.entity, &body, true, &request_id).await
                    }
                    DeleteAction::Delete => {
                        self.client.delete_json(&module.entity, qbo_id, &sync_token, &request_id).await
                    }
                };
                match answer {
                    Ok(entity) => self.record_written(module, vec![(planned, entity)]),
                    Err(error) => {
                        self.finish_journal(module, &planned.platform_id, "failed")?;
                        self.record(failure_outcome(module, planned, &error))
                    }
                }
            }
            _ => {
                self.finish_journal(module, &planned.platform_id, "failed")?;
                self.conflict(module, planned, current).await
            }
        }
    }

    /// Whether `qbo_id` is linked to another record of the module already; if so, this record
    /// fails with both named. Two records here that QuickBooks sees as one (two products
    /// of the same name) must not stop the run: each other record goes on. The operator
    /// decides in the conflict inbox, unless they already chose to leave this collision be.
    async fn link_taken(&mut self, module: &ModuleSpec, platform_id: &str, qbo_id: &str) -> Result<bool, ApiError> {
        let owner = db::link_by_qbo(&self.connector.store().connection(), self.instance.id, &module.name, qbo_id)
            .map_err(storage)?;
        let Some(owner) = owner.filter(|owner| owner.platform_id != platform_id) else { return Ok(false) };
        let field = module.matching.first().map(|rule| rule.qbo_field.clone());
        self.finish_journal(module, platform_id, "failed")?;
        let left = db::same_entity_left(
            &self.connector.store().connection(),
            self.instance.id,
            &module.name,
            platform_id,
            qbo_id,
            &owner.platform_id,
        )
        .map_err(storage)?;
        if !left {
            self.hold_same_entity(module, platform_id, qbo_id, &owner.platform_id).await?;
        }
        let what_now = if left {
            format!(
                "left unlinked as chosen in the conflict inbox: give one of the two another name here, or unlink {} first",
                owner.platform_id
            )
        } else {
            "link this one instead, rename it or leave it: the choice waits in the conflict inbox".to_owned()
        };
        self.record(RecordOutcome {
            module: module.name.clone(),
            record_id: platform_id.to_owned(),
            operation: "link".into(),
            outcome: "failed".into(),
            qbo_id: Some(qbo_id.to_owned()),
            message: Some(format!(
                "QuickBooks sees this record as {} {qbo_id}{}, which is already linked to {} {}: {what_now}",
                module.entity,
                field.as_deref().map(|f| format!(" (same {f})")).unwrap_or_default(),
                module.name,
                owner.platform_id,
            )),
            element: field,
            ..Default::default()
        })?;
        Ok(true)
    }

    /// Puts the collision before the operator with what is known of both sides. The entity is
    /// read afresh; when that fails the entry is written all the same, since its id and the
    /// record it is linked to are enough to decide.
    async fn hold_same_entity(
        &self,
        module: &ModuleSpec,
        platform_id: &str,
        qbo_id: &str,
        other_platform_id: &str,
    ) -> Result<(), ApiError> {
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let record = PlatformStore::new(self.connector.store()).get(platform_module, platform_id)?;
        let entity = self.client.read_json(&module.entity, qbo_id).await.unwrap_or(Value::Null);
        let matched_value = match Engine::matcher(module) {
            Some((matcher, _)) => Engine::match_value(&matcher, &record.data, &self.push_context(&record.data)?),
            None => None,
        };
        let entry = db::SameEntity {
            module: &module.name,
            platform_id,
            qbo_id,
            other_platform_id,
            platform_version: &record.data,
            qbo_version: &entity,
            matched_value: matched_value.as_deref(),
            created_at: &stamp(now()),
        };
        db::hold_same_entity(&self.connector.store().connection(), self.instance.id, &entry).map_err(storage)
    }

    /// Both sides changed: the module's policy decides.
    async fn conflict(&mut self, module: &ModuleSpec, planned: &Planned, current: Value) -> Result<(), ApiError> {
        let Operation::Update { qbo_id, body, hash, .. } = &planned.operation else { return Ok(()) };
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let record = PlatformStore::new(self.connector.store()).get(platform_module, &planned.platform_id)?;
        let policy = match self.policy(&module.name) {
            ConflictPolicy::NewestWins => {
                let qbo_time = current
                    .pointer("/MetaData/LastUpdatedTime")
                    .and_then(Value::as_str)
                    .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
                let platform_time = record
                    .data
                    .get("UpdatedAt")
                    .and_then(Value::as_str)
                    .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
                if platform_time >= qbo_time {
                    ConflictPolicy::PlatformWins
                } else {
                    ConflictPolicy::QuickbooksWins
                }
            }
            other => other,
        };
        match policy {
            ConflictPolicy::PlatformWins => {
                let mut retry = body.clone();
                retry["Id"] = json!(qbo_id);
                retry["SyncToken"] = current["SyncToken"].clone();
                let updated = self.client.update_json(&module.entity, &retry, true, &RequestId::new()).await;
                let planned = Planned {
                    platform_id: planned.platform_id.clone(),
                    operation: Operation::Update {
                        qbo_id: qbo_id.clone(),
                        sync_token: String::new(),
                        body: body.clone(),
                        hash: hash.clone(),
                    },
                };
                match updated {
                    Ok(entity) => Box::pin(self.record_answer(module, &planned, Ok(entity))).await?,
                    Err(error) => self.record(failure_outcome(module, &planned, &error))?,
                }
            }
            ConflictPolicy::QuickbooksWins => {
                let connector = self.connector;
                connector.store().transaction(|tx| self.pull_entity(tx, module, &current))?;
            }
            _ => {
                // What was last sent and accepted: the version both sides agreed on.
                let last = db::last_sent_body(
                    &self.connector.store().connection(),
                    self.instance.id,
                    &module.name,
                    &planned.platform_id,
                )
                .map_err(storage)?;
                self.connector
                    .store()
                    .connection()
                    .execute(
                        // One open entry a record: held again, it shows both sides as they are now.
                        "INSERT INTO conflict (instance_id, module, platform_id, qbo_id, platform_version, qbo_version, last_synced, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT (instance_id, module, platform_id) WHERE resolved_at IS NULL DO UPDATE SET
                             qbo_id = excluded.qbo_id, platform_version = excluded.platform_version, qbo_version = excluded.qbo_version,
                             last_synced = excluded.last_synced, created_at = excluded.created_at,
                             kind = 'changed_on_both_sides', other_platform_id = NULL, matched_value = NULL",
                        params![self.instance.id, module.name, planned.platform_id, qbo_id, record.data.to_string(), current.to_string(), last, stamp(now())],
                    )
                    .map_err(storage)?;
                self.record(RecordOutcome {
                    module: module.name.clone(),
                    record_id: planned.platform_id.clone(),
                    operation: "conflict".into(),
                    outcome: "held".into(),
                    qbo_id: Some(qbo_id.clone()),
                    message: Some(
                        "changed in QuickBooks and here since the last sync: both versions wait in the conflict inbox"
                            .into(),
                    ),
                    code: Some("5010".into()),
                    ..Default::default()
                })?;
            }
        }
        Ok(())
    }

    /// Writes left pending by a run that died. A create is looked for in QuickBooks by its
    /// marker before anything is sent again, so nothing is created twice. An update or delete
    /// is sent again as it was: a whole batch of them as the same call with the same requestid,
    /// otherwise each alone with its own, so QuickBooks answers a write it already did with
    /// that write's answer. One whose SyncToken has moved all the same (QuickBooks no longer
    /// remembered the requestid) goes through the stale-write check, not into the inbox.
    async fn resume_journal(&mut self) -> Result<(), ApiError> {
        let pending = db::pending_writes(&self.connector.store().connection(), self.instance.id).map_err(storage)?;
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
                .filter(|write| write.operation == "create")
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
                let holder = db::link_by_qbo(
                    &self.connector.store().connection(),
                    self.instance.id,
                    &module.name,
                    &matched.qbo_id,
                )
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
            self.connector.store().transaction(|tx| -> Result<(), ApiError> {
                for (platform_id, matched) in &found {
                    let link = Link {
                        module: module.name.clone(),
                        platform_id: platform_id.clone(),
                        qbo_id: matched.qbo_id.clone(),
                        sync_token: matched.sync_token.clone(),
                        platform_hash: None,
                        qbo_hash: None,
                        synced_at: stamp(now()),
                    };
                    db::save_link(tx, instance_id, &link).map_err(storage)?;
                    let outcome = RecordOutcome {
                        module: module.name.clone(),
                        record_id: platform_id.clone(),
                        operation: "link".into(),
                        outcome: "ok".into(),
                        qbo_id: Some(matched.qbo_id.clone()),
                        message: Some("finished a write an interrupted run had sent".into()),
                        ..Default::default()
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
                    tx.execute("UPDATE journal SET state = 'resumed' WHERE id = ?1", [write.journal_id])
                        .map_err(storage)?;
                    // Journaled by an older version, without what resending needs: the record is a
                    // candidate again (its change is after the cursor, or it is unfinished).
                    if write.operation != "create" && write.record_request_id.is_none() {
                        let unfinished = RecordOutcome {
                            module: module.name.clone(),
                            record_id: write.platform_id.clone(),
                            operation: write.operation.clone(),
                            outcome: "blocked".into(),
                            message: Some("an interrupted run left this write unfinished; it is sent again".into()),
                            ..Default::default()
                        };
                        db::add_outcome(tx, run_id, &unfinished).map_err(storage)?;
                    }
                }
                Ok(())
            })?;
            let counts = self.counts.entry(module.name.clone()).or_default();
            for _ in &found {
                counts.add("ok");
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

    // ------------------------------------------------------------ pull

    fn pull_context(&self, connection: &rusqlite::Connection, entity: &Value) -> Result<Context, ApiError> {
        let mut context = self.context.clone();
        for qbo_id in crate::spec::mapping::referenced_qbo_ids(entity) {
            for (module, platform_id) in db::links_of_qbo_id(connection, self.instance.id, &qbo_id).map_err(storage)? {
                context.links.entry(module).or_default().insert(qbo_id.clone(), platform_id);
            }
        }
        Ok(context)
    }

    async fn pull_module(&mut self, module: &ModuleSpec) -> Result<(), ApiError> {
        let pull_create = self.method_on(module, MethodName::PullCreate);
        let pull_update = self.method_on(module, MethodName::PullUpdate);
        if !pull_create && !pull_update && !module.pull_deletes {
            return Ok(());
        }
        let cursor_name = format!("qbo_since:{}", module.name);
        self.pull_again = db::pull_retries(&self.connector.store().connection(), self.instance.id, &module.name)
            .map_err(storage)?
            .into_iter()
            .collect();
        self.pull_again_unread = self.pull_again.clone();
        let since = db::cursor(&self.connector.store().connection(), self.instance.id, &cursor_name)
            .map_err(storage)?
            .and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok());
        // A little in the past: QuickBooks stamps many records in one second.
        let next_cursor = now() - time::Duration::seconds(60);
        // Changes arrive through a channel from a reader running beside the loop below: the
        // next page is read while this one is applied, and no more than two pages are held
        // whatever the company's size.
        let (mut sender, changes) = futures::channel::mpsc::channel::<Result<qbo::Change, qbo::Error>>(2 * 1000);
        let client = self.client.clone();
        let (total, reader): (usize, futures::future::BoxFuture<'_, ()>) = match since {
            Some(since) if since > now() - time::Duration::days(29) => {
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
            since => {
                // CDC reaches back 30 days at most; an older cursor (or none) reads by
                // LastUpdatedTime instead: after the cursor, up to the new cursor, which is
                // a little in the past so a change committed late is read next time.
                let narrow = |mut query: Query| {
                    if let Some(since) = since {
                        query = query.filter("MetaData.LastUpdatedTime", Op::Gt, since).filter(
                            "MetaData.LastUpdatedTime",
                            Op::Le,
                            next_cursor,
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
                let connector = self.connector;
                connector.store().transaction(|tx| -> Result<(), ApiError> {
                    for change in group {
                        self.pull_change(tx, module, filter.as_ref(), change)?;
                    }
                    Ok(())
                })?;
                self.report(&module.name, "pull", done, total, None);
            }
            Ok::<bool, ApiError>(true)
        };
        let ((), finished) = futures::join!(reader, apply);
        if !finished? {
            return Ok(());
        }
        self.pull_again_by_id(module, filter.as_ref()).await?;
        self.report(&module.name, "pull", total, total, None);
        db::set_cursor(&self.connector.store().connection(), self.instance.id, &cursor_name, &stamp(next_cursor))
            .map_err(storage)?;
        Ok(())
    }

    /// Reads again, by id, what earlier pulls of `module` could not store and this run's
    /// changes did not bring back.
    async fn pull_again_by_id(&mut self, module: &ModuleSpec, filter: Option<&CompiledMethod>) -> Result<(), ApiError> {
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
            let connector = self.connector;
            connector.store().transaction(|tx| -> Result<(), ApiError> {
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
    fn pull_stored(&mut self, tx: &Transaction<'_>, module: &str, qbo_id: &str, stored: bool) -> Result<(), ApiError> {
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

    /// One change read from QuickBooks, applied inside the caller's transaction.
    fn pull_change(
        &mut self,
        tx: &Transaction<'_>,
        module: &ModuleSpec,
        filter: Option<&CompiledMethod>,
        change: qbo::Change,
    ) -> Result<(), ApiError> {
        let entity = match change {
            qbo::Change::Deleted { id, .. } => return self.pull_delete(tx, module, &id),
            qbo::Change::Changed(entity) => entity,
        };
        // Read again now: whatever comes of it below is its latest word, and only a failure
        // asks for another read.
        if let Some(id) = entity.get("Id").and_then(Value::as_str) {
            self.pull_again_unread.remove(id);
            self.pull_stored(tx, &module.name, id, true)?;
        }
        if let Some(filter) = filter {
            let keep = filter
                .map(&entity, &Context::default())
                .map(|m| m.body.get("keep") == Some(&Value::Bool(true)))
                .unwrap_or(false);
            if !keep {
                return Ok(());
            }
        }
        if entity.get("Active") == Some(&Value::Bool(false)) {
            let id = entity.get("Id").and_then(Value::as_str).unwrap_or_default().to_owned();
            return self.pull_delete(tx, module, &id);
        }
        self.pull_entity(tx, module, &entity)
    }

    fn pull_delete(&mut self, tx: &Transaction<'_>, module: &ModuleSpec, qbo_id: &str) -> Result<(), ApiError> {
        if !module.pull_deletes {
            return Ok(());
        }
        let Some(link) = db::link_by_qbo(tx, self.instance.id, &module.name, qbo_id).map_err(storage)? else {
            return Ok(());
        };
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        if crate::platform::get(tx, platform_module, &link.platform_id)?.is_none_or(|r| r.deleted) {
            return Ok(());
        }
        crate::platform::apply_pulled_delete(tx, platform_module, &link.platform_id, now())?;
        self.record_in(
            tx,
            RecordOutcome {
                module: module.name.clone(),
                record_id: link.platform_id,
                operation: "pull_delete".into(),
                outcome: "ok".into(),
                qbo_id: Some(qbo_id.into()),
                message: Some("deleted or made inactive in QuickBooks: marked deleted here".into()),
                ..Default::default()
            },
        )
    }

    fn pull_entity(&mut self, tx: &Transaction<'_>, module: &ModuleSpec, entity: &Value) -> Result<(), ApiError> {
        let qbo_id = entity.get("Id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let link = db::link_by_qbo(tx, self.instance.id, &module.name, &qbo_id).map_err(storage)?;
        let method = if link.is_some() { MethodName::PullUpdate } else { MethodName::PullCreate };
        if !self.method_on(module, method) {
            return Ok(());
        }
        let context = self.pull_context(tx, entity)?;
        let compiled = self
            .compiled(&module.name, method)
            .map_err(|e| ApiError::new(ErrorCode::Validation, format!("{} {method}: {}", module.name, e[0].reason)))?;
        let mapped = match compiled.map(entity, &context) {
            Ok(mapped) => mapped,
            Err(error) => {
                let outcome =
                    if error.reason.contains("not linked to a platform record yet") { "blocked" } else { "failed" };
                self.pull_stored(tx, &module.name, &qbo_id, false)?;
                return self.record_in(
                    tx,
                    RecordOutcome {
                        module: module.name.clone(),
                        record_id: qbo_id.clone(),
                        operation: method.as_str().into(),
                        outcome: outcome.into(),
                        qbo_id: Some(qbo_id),
                        message: Some(error.to_string()),
                        ..Default::default()
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
        match crate::platform::apply_pulled(tx, platform_module, data, now()) {
            Ok(record) => {
                tx.execute_batch("RELEASE pulled_record").map_err(storage)?;
                let saved = Link {
                    module: module.name.clone(),
                    platform_id: record.id.clone(),
                    qbo_id: qbo_id.clone(),
                    sync_token: entity.get("SyncToken").and_then(Value::as_str).map(str::to_owned),
                    platform_hash: link.as_ref().and_then(|l| l.platform_hash.clone()),
                    qbo_hash: Some(hash),
                    synced_at: stamp(now()),
                };
                db::save_link(tx, self.instance.id, &saved).map_err(storage)?;
                self.record_in(
                    tx,
                    RecordOutcome {
                        module: module.name.clone(),
                        record_id: record.id,
                        operation: method.as_str().into(),
                        outcome: "ok".into(),
                        qbo_id: Some(qbo_id),
                        ..Default::default()
                    },
                )
            }
            Err(error) => {
                tx.execute_batch("ROLLBACK TO pulled_record; RELEASE pulled_record").map_err(storage)?;
                self.pull_stored(tx, &module.name, &qbo_id, false)?;
                self.record_in(
                    tx,
                    RecordOutcome {
                        module: module.name.clone(),
                        record_id: qbo_id.clone(),
                        operation: method.as_str().into(),
                        outcome: "failed".into(),
                        qbo_id: Some(qbo_id),
                        message: Some(error.to_string()),
                        ..Default::default()
                    },
                )
            }
        }
    }
}

/// Holds the instance's run lock file for the life of a run.
/// The instance's run lock, or `None` while a run of it holds the lock (here or in another process).
fn try_run_lock(data_dir: &std::path::Path, instance_id: i64) -> Result<Option<File>, ApiError> {
    let path = data_dir.join(format!("instance-{instance_id}.sync.lock"));
    let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(storage)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(error)) => Err(storage(error)),
    }
}

fn run_lock(connector: &Connector, instance: &Instance) -> Result<File, ApiError> {
    try_run_lock(connector.data_dir(), instance.id)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Busy,
            format!("a sync of {:?} is already running (in this or another window)", instance.name),
        )
    })
}

/// Runs whose process died (killed, crashed, powered off) are closed as interrupted, with what
/// they had recorded, wherever no run of the instance holds its lock now. Their unfinished
/// writes stay in the journal for the next run to finish.
pub fn close_interrupted_runs(data_dir: &std::path::Path, store: &crate::store::Store) -> Result<(), ApiError> {
    let instances = db::instances_with_open_runs(&store.connection()).map_err(storage)?;
    for instance_id in instances {
        if let Some(_turn) = try_run_lock(data_dir, instance_id)? {
            db::close_interrupted_runs(&store.connection(), instance_id, &stamp(now())).map_err(storage)?;
        }
    }
    Ok(())
}

/// A QuickBooks refusal in an operator's words, with everything support needs.
fn fault_outcome(module: &ModuleSpec, planned: &Planned, fault: &qbo::Fault) -> RecordOutcome {
    let first = fault.errors.first();
    let plain = match fault.code() {
        "6240" => "QuickBooks already has a customer, vendor or employee with this name".to_owned(),
        "6140" => "QuickBooks already has a transaction with this number".to_owned(),
        "2020" => format!("QuickBooks needs {} and it was empty", fault.element().unwrap_or("a field")),
        "610" => format!(
            "{} refers to something QuickBooks no longer has or has made inactive",
            fault.element().unwrap_or("a field")
        ),
        "2500" => format!("{} refers to an id QuickBooks does not know", fault.element().unwrap_or("a field")),
        "6000" => first.map(|e| e.detail.clone()).unwrap_or_default(),
        "6540" => "QuickBooks will not change a payment that has been deposited".to_owned(),
        _ if fault.status == 413 => match sent_body(planned).and_then(longest_text) {
            Some((field, length)) => format!(
                "QuickBooks refused this record as too large: {field} is {length} characters long; shorten it here"
            ),
            None => "QuickBooks refused this record as too large".to_owned(),
        },
        _ => first.map(|e| e.message.clone()).unwrap_or_default(),
    };
    let element = match fault.element() {
        Some(element) => Some(element.to_owned()),
        None if fault.status == 413 => sent_body(planned).and_then(longest_text).map(|(field, _)| field),
        None => None,
    };
    RecordOutcome {
        module: module.name.clone(),
        record_id: planned.platform_id.clone(),
        operation: Engine::op_name(&planned.operation).into(),
        outcome: "failed".into(),
        qbo_id: None,
        message: Some(plain),
        code: Some(fault.code().into()),
        element,
        intuit_tid: fault.intuit_tid.clone(),
        fault: Some(fault.summary()),
    }
}

fn sent_body(planned: &Planned) -> Option<&Value> {
    match &planned.operation {
        Operation::Create { body, .. } | Operation::Update { body, .. } => Some(body),
        _ => None,
    }
}

fn failure_outcome(module: &ModuleSpec, planned: &Planned, error: &qbo::Error) -> RecordOutcome {
    match error.fault() {
        Some(fault) => fault_outcome(module, planned, fault),
        None => RecordOutcome {
            module: module.name.clone(),
            record_id: planned.platform_id.clone(),
            operation: Engine::op_name(&planned.operation).into(),
            outcome: "failed".into(),
            message: Some(error.to_string()),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::field_changes;

    #[test]
    fn field_changes_name_each_differing_leaf_and_compare_amounts_as_decimals() {
        let sent = json!({"Id": "7", "SyncToken": "2", "sparse": true, "DisplayName": "Kea Co",
                          "PrimaryPhone": {"FreeFormNumber": "555"}, "Line": [{"Amount": 30}, {"Amount": 12.5}]});
        let current = json!({"Id": "7", "SyncToken": "1", "DisplayName": "Kea Co",
                             "Line": [{"Amount": "30.00"}, {"Amount": 10}]});
        let changes: Vec<(String, String, String)> = field_changes(&sent, &current)
            .into_iter()
            .map(|c| (c.field, c.quickbooks.to_string(), c.sent.to_string()))
            .collect();
        assert_eq!(
            changes,
            vec![
                ("PrimaryPhone.FreeFormNumber".into(), "null".into(), "\"555\"".into()),
                ("Line[1].Amount".into(), "10".into(), "12.5".into()),
            ]
        );
    }
}
