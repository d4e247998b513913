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

use chrono::{DateTime, Utc};
pub(super) use qbo::client::is_name_list;
use qbo::Client;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::plan::{MatchIndex, PushSwitches};
use super::store::{self as db, Counts, RecordOutcome};
use super::vocabulary::{Direction, Phase, RunOutcome, Trigger};
use crate::error::{ApiError, ErrorCode};
use crate::instance::Instance;
use crate::spec::{CompiledMethod, Context, MethodName, ModuleSpec, Spec};
use crate::store::Store;
use crate::Clock;

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
    pub phase: Phase,
    pub done: usize,
    pub total: usize,
    pub current: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RunSummary {
    pub run_id: i64,
    pub outcome: RunOutcome,
    pub counts: BTreeMap<String, Counts>,
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

/// Run times, cursors and sync times are stored and compared as this text.
pub(crate) use qbo::rfc3339::format as stamp;

/// A stable 64-bit FNV-1a hash of a JSON value's text.
pub fn content_hash(value: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

pub(super) fn storage(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Storage, error.to_string())
}

/// What a run needs of its instance, gathered by `connector::api` before the run: the engine
/// reads nothing further up than this.
pub struct RunInput<'a> {
    pub store: &'a Store,
    /// Where the instances' run locks are.
    pub data_dir: &'a std::path::Path,
    pub instance: Instance,
    pub spec: Spec,
    pub client: Client,
    /// The instance's server variables and lookups.
    pub context: Context,
    pub clock: Arc<dyn Clock>,
    /// The instance's platform link, when it links a REST platform.
    pub platform: Option<crate::platform::rest::LinkedPlatform>,
    /// The instance's watched folder, when it links one.
    pub folder: Option<std::path::PathBuf>,
}

/// One run's working state.
pub struct Engine<'a> {
    pub(super) store: &'a Store,
    pub(super) instance: Instance,
    pub(super) spec: Spec,
    pub(super) client: Client,
    pub(super) context: Context,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) platform: Option<Arc<crate::platform::rest::LinkedPlatform>>,
    pub(super) folder: Option<std::path::PathBuf>,
    pub(super) run_id: i64,
    pub(super) counts: BTreeMap<String, Counts>,
    pub(super) cancel: Arc<AtomicBool>,
    pub(super) progress: Option<&'a (dyn Fn(Progress) + Send + Sync)>,
    /// Each method compiled once per run: compiling jq costs far more than running it.
    pub(super) compiled: std::sync::Mutex<BTreeMap<(String, MethodName), CompiledResult>>,
    /// Whole reads made for matching, per module, for the later pages of this run.
    pub(super) read_all: std::sync::Mutex<BTreeMap<String, Arc<MatchIndex>>>,
    /// A dry run's stand-ins for links a real run would have made by then: per module, the
    /// platform ids it plans to create (a placeholder) or link (the QuickBooks id). Without
    /// them every invoice of a first push would be planned as waiting for its customer.
    pub(super) planned_links: HashMap<String, HashMap<String, String>>,
    /// The QuickBooks ids of the module being pulled that an earlier pull could not store:
    /// read again this run, and forgotten once stored.
    pub(super) pull_again: HashSet<String>,
    /// Of those, the ones this run's changes have not brought yet: read by id at the end.
    pub(super) pull_again_unread: HashSet<String>,
}

pub(super) type CompiledResult = Result<Arc<CompiledMethod>, Vec<crate::spec::mapping::CompileError>>;

impl<'a> Engine<'a> {
    /// Runs a sync of `name`. One run per instance at a time, across processes.
    pub async fn run(input: RunInput<'a>, request: SyncRequest<'a>) -> Result<RunSummary, ApiError> {
        let RunInput { store, data_dir, instance, spec, client, context, clock, platform, folder } = input;
        let _turn = run_lock(data_dir, &instance)?;
        let started = stamp(clock.now());
        db::close_interrupted_runs(&store.connection(), instance.id, &started).map_err(storage)?;
        let run_id = db::start_run(&store.connection(), instance.id, request.trigger, request.direction, &started)
            .map_err(storage)?;
        let cancel = request.cancel.clone().unwrap_or_default();
        let mut engine = Engine::new(
            RunInput { store, data_dir, instance, spec, client, context, clock, platform, folder },
            run_id,
            cancel,
        );
        engine.progress = request.progress;
        let result = engine.run_all(&request).await;
        let outcome = match &result {
            Err(_) => RunOutcome::Failed,
            Ok(()) if engine.cancel.load(Ordering::Relaxed) => RunOutcome::Cancelled,
            Ok(()) if engine.counts.values().any(|c| c.failed + c.blocked + c.held > 0) => RunOutcome::FailedRecords,
            Ok(()) => RunOutcome::Succeeded,
        };
        db::finish_run(&store.connection(), run_id, &stamp(engine.now()), outcome, &engine.counts).map_err(storage)?;
        result?;
        Ok(RunSummary { run_id, outcome, counts: engine.counts })
    }

    pub(super) fn ordered_modules(&self, only: Option<&[String]>) -> Vec<ModuleSpec> {
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

    pub(super) fn method_on(&self, module: &ModuleSpec, method: MethodName) -> bool {
        let spec_on = module.methods.is_enabled(method);
        self.instance
            .settings
            .methods
            .get(&module.name)
            .and_then(|m| m.get(method.as_str()).copied())
            .unwrap_or(spec_on)
    }

    pub(super) fn switches(&self, module: &ModuleSpec) -> PushSwitches {
        PushSwitches {
            create: self.method_on(module, MethodName::PushCreate),
            update: self.method_on(module, MethodName::PushUpdate),
            delete: self.method_on(module, MethodName::PushDelete).then_some(module.methods.push_delete.action),
        }
    }

    pub(super) fn policy(&self, module: &str) -> ConflictPolicy {
        self.instance.settings.conflict_policies.get(module).copied().unwrap_or_default()
    }

    /// A run's working state, nothing read or planned yet.
    pub(super) fn new(input: RunInput<'a>, run_id: i64, cancel: Arc<AtomicBool>) -> Engine<'a> {
        let RunInput { store, instance, spec, client, context, clock, platform, folder, .. } = input;
        Engine {
            store,
            instance,
            spec,
            client,
            context,
            clock,
            platform: platform.map(Arc::new),
            folder,
            run_id,
            counts: BTreeMap::new(),
            cancel,
            progress: None,
            compiled: Default::default(),
            read_all: Default::default(),
            planned_links: HashMap::new(),
            pull_again: HashSet::new(),
            pull_again_unread: HashSet::new(),
        }
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(super) fn report(&self, module: &str, phase: Phase, done: usize, total: usize, current: Option<&str>) {
        if let Some(progress) = self.progress {
            progress(Progress { module: module.into(), phase, done, total, current: current.map(str::to_owned) });
        }
    }

    pub(super) fn compiled(&self, module: &str, method: MethodName) -> CompiledResult {
        let mut cache = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry((module.to_owned(), method))
            .or_insert_with(|| CompiledMethod::from_spec(&self.spec, module, method).map(Arc::new))
            .clone()
    }

    pub(super) fn record(&mut self, outcome: RecordOutcome) -> Result<(), ApiError> {
        let store = self.store;
        self.record_in(&store.connection(), outcome)
    }

    /// An outcome written through `connection` (the caller's transaction, when it holds one).
    pub(super) fn record_in(
        &mut self,
        connection: &rusqlite::Connection,
        outcome: RecordOutcome,
    ) -> Result<(), ApiError> {
        self.counts.entry(outcome.module.clone()).or_default().add(outcome.outcome);
        db::add_outcome(connection, self.run_id, &outcome).map_err(storage)
    }

    pub(super) async fn run_all(&mut self, request: &SyncRequest<'_>) -> Result<(), ApiError> {
        self.resume_journal().await?;
        let modules = self.ordered_modules(request.modules.as_deref());
        let platform_modules: Vec<crate::platform::Module> =
            modules.iter().filter_map(|m| m.name.parse().ok()).collect();
        // A retry or a re-sync of one record neither reads the platform nor writes to it.
        let linked = self.platform.clone().filter(|_| request.only.is_none());
        let mut write_back = None;
        if let Some(linked) = &linked {
            self.resume_platform_journal(linked).await?;
            if matches!(request.direction, Direction::Push | Direction::Sync | Direction::Mirror) {
                for &module in &platform_modules {
                    if self.cancel.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    self.mirror_module(linked, module).await?;
                }
            }
            write_back = Some(self.write_back_span(linked)?);
        }
        let folder = self.folder.clone().filter(|_| request.only.is_none());
        if let Some(folder) = &folder {
            if matches!(request.direction, Direction::Push | Direction::Sync | Direction::Mirror) {
                self.read_inbox(folder)?;
            }
        }
        if request.direction == Direction::Mirror {
            return Ok(());
        }
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
            if let (Some(linked), Some(span)) = (&linked, write_back) {
                self.write_back(linked, &platform_modules, span).await?;
            }
            if let Some(folder) = &folder {
                self.write_outbox(folder)?;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ push

    // ------------------------------------------------------------ pull
}

/// The instance's run lock, or `None` while a run of it holds the lock (here or in another process).
pub(super) fn try_run_lock(data_dir: &std::path::Path, instance_id: i64) -> Result<Option<File>, ApiError> {
    let path = data_dir.join(format!("instance-{instance_id}.sync.lock"));
    let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(storage)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(error)) => Err(storage(error)),
    }
}

/// Holds the instance's run lock file for the life of a run.
pub(super) fn run_lock(data_dir: &std::path::Path, instance: &Instance) -> Result<File, ApiError> {
    try_run_lock(data_dir, instance.id)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Busy,
            format!("a sync of {:?} is already running (in this or another window)", instance.name),
        )
    })
}

/// Runs whose process died (killed, crashed, powered off) are closed as interrupted, with what
/// they had recorded, wherever no run of the instance holds its lock now. Their unfinished
/// writes stay in the journal for the next run to finish.
pub fn close_interrupted_runs(
    data_dir: &std::path::Path,
    store: &crate::store::Store,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let instances = db::instances_with_open_runs(&store.connection()).map_err(storage)?;
    for instance_id in instances {
        if let Some(_turn) = try_run_lock(data_dir, instance_id)? {
            db::close_interrupted_runs(&store.connection(), instance_id, &stamp(now)).map_err(storage)?;
        }
    }
    Ok(())
}
