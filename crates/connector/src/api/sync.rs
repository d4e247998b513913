//! Runs: sync, dry run, history, retry and re-sync of records, links.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use rusqlite::OptionalExtension;
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};
use crate::instance::Instances;
use crate::spec::Context;
use crate::sync::engine::RunInput;
use crate::sync::{Direction, Progress, RunSummary, SyncRequest, Trigger};

use super::*;

/// Everything an operator can start that sends or reads records: each goes through
/// [`Connector::run`], so each has progress, Cancel and one run at a time per instance.
#[derive(Debug, Clone)]
pub enum RunKind {
    Sync {
        direction: Direction,
        modules: Option<Vec<String>>,
        trigger: Trigger,
    },
    /// The records a run failed on, and those that waited on them.
    Retry {
        run_id: i64,
    },
    /// One record, whatever its state.
    Resync {
        module: String,
        platform_id: String,
    },
    /// A changed-on-both-sides conflict, field by field.
    Resolve {
        conflict_id: i64,
        choices: BTreeMap<String, Side>,
    },
    /// A same-entity conflict.
    ResolveSameEntity {
        conflict_id: i64,
        choice: SameEntityChoice,
    },
    /// Reads the linked platform into the store, nothing else; `whole` reads every record
    /// (and learns of deletes) rather than the changes.
    ReadPlatform {
        whole: bool,
        trigger: Trigger,
    },
}

/// How a caller follows a run: a switch that cancels it, and where its progress goes.
#[derive(Default, Clone)]
pub struct RunWatch<'a> {
    pub cancel: Option<Arc<AtomicBool>>,
    pub progress: Option<&'a (dyn Fn(Progress) + Send + Sync)>,
}

impl<'a> RunWatch<'a> {
    fn request(self, direction: Direction, modules: Option<Vec<String>>, trigger: Trigger) -> SyncRequest<'a> {
        SyncRequest { direction, modules, trigger, cancel: self.cancel, progress: self.progress, only: None }
    }
}

impl Connector {
    /// Starts what `kind` names as a run of `name`, followed through `watch`.
    pub async fn run(&self, name: &str, kind: RunKind, watch: RunWatch<'_>) -> ApiResult<RunSummary> {
        match kind {
            RunKind::Sync { direction, modules, trigger } => {
                self.sync(name, watch.request(direction, modules, trigger)).await
            }
            RunKind::Retry { run_id } => self.retry_failed_watched(name, run_id, watch).await,
            RunKind::Resync { module, platform_id } => self.resync_watched(name, &module, &platform_id, watch).await,
            RunKind::Resolve { conflict_id, choices } => self.resolve_watched(name, conflict_id, &choices, watch).await,
            RunKind::ResolveSameEntity { conflict_id, choice } => {
                self.resolve_same_entity_watched(name, conflict_id, &choice, watch).await
            }
            RunKind::ReadPlatform { whole, trigger } => {
                let mut input = self.run_input(name).await?;
                let Some(linked) = input.platform.as_mut() else {
                    return Err(ApiError::new(
                        ErrorCode::Validation,
                        format!("{name:?} does not link a REST platform"),
                    ));
                };
                linked.read_all = whole;
                crate::sync::Engine::run(input, watch.request(Direction::Mirror, None, trigger)).await
            }
        }
    }

    pub(super) fn instance_id(&self, name: &str) -> ApiResult<i64> {
        Ok(Instances::new(&self.store).get(name)?.id)
    }

    /// Everything a run of `name` needs: the engine is handed this and reads nothing of the API.
    async fn run_input(&self, name: &str) -> ApiResult<RunInput<'_>> {
        let instance = Instances::new(&self.store).get(name)?;
        let instance_for_link = instance.clone();
        let spec = self.spec(name)?;
        let client = self.qbo_client(name).await?;
        let mut context = Context { vars: self.variables(name)?, ..Context::default() };
        for row in self.lookups(name)? {
            context.lookups.entry(row.lookup).or_default().insert(row.platform_value, row.qbo_value);
        }
        Ok(RunInput {
            store: &self.store,
            data_dir: &self.data_dir,
            instance,
            spec,
            client,
            context,
            clock: self.clock.clone(),
            platform: self.linked_platform(&instance_for_link, false)?,
            folder: self.linked_folder(&instance_for_link)?,
        })
    }

    /// Runs a sync (push, pull or both) and answers its summary.
    pub async fn sync(&self, name: &str, request: crate::sync::SyncRequest<'_>) -> ApiResult<crate::sync::RunSummary> {
        // Not connected comes first: it is the first thing to fix.
        let input = self.run_input(name).await?;
        if matches!(request.direction, Direction::Push | Direction::Sync) && request.only.is_none() {
            self.refuse_unready_push(name, request.modules.as_deref())?;
        }
        crate::sync::Engine::run(input, request).await
    }

    /// What a push would do, module by module, without writing anything.
    pub async fn plan(&self, name: &str, modules: Option<Vec<String>>) -> ApiResult<Vec<crate::sync::PlanView>> {
        crate::sync::Engine::dry_run(self.run_input(name).await?, modules).await
    }

    pub fn runs(&self, name: &str, limit: usize) -> ApiResult<Vec<crate::sync::store::RunRow>> {
        let instance = self.instance_id(name)?;
        Ok(crate::sync::store::runs(&self.store.connection(), instance, limit)?)
    }

    pub fn run_records(
        &self,
        name: &str,
        run_id: i64,
        only_problems: bool,
    ) -> ApiResult<Vec<crate::sync::store::RecordOutcome>> {
        self.check_run(name, run_id)?;
        Ok(crate::sync::store::outcomes(&self.store.connection(), run_id, only_problems)?)
    }

    /// A run's problems grouped by module and cause, the largest group first.
    pub fn run_problems(&self, name: &str, run_id: i64) -> ApiResult<Vec<crate::sync::ProblemGroup>> {
        let chosen_by: Vec<(String, String, String)> = super::setup_choices(&self.spec(name)?, &self.variables(name)?)
            .into_iter()
            .flat_map(|c| c.modules.into_iter().map(move |m| (c.variable.clone(), m, c.field.clone())))
            .collect();
        let mut groups = crate::sync::group_problems(&self.run_records(name, run_id, true)?);
        for group in &mut groups {
            group.fix = group.find_fix(&chosen_by);
        }
        Ok(groups)
    }

    /// One page of a run's records and how many there are: a run of 100,000 records is read
    /// as it is scrolled, not all at once.
    pub fn run_records_page(
        &self,
        name: &str,
        run_id: i64,
        only_problems: bool,
        offset: usize,
        limit: usize,
    ) -> ApiResult<OutcomePage> {
        self.check_run(name, run_id)?;
        let connection = self.store.connection();
        Ok(OutcomePage {
            total: crate::sync::store::count_outcomes(&connection, run_id, only_problems)?,
            records: crate::sync::store::outcomes_page(&connection, run_id, only_problems, offset, limit)?,
        })
    }

    pub(super) fn check_run(&self, name: &str, run_id: i64) -> ApiResult<()> {
        let instance = self.instance_id(name)?;
        let owner: Option<i64> = self
            .store
            .connection()
            .query_row("SELECT instance_id FROM run WHERE id = ?1", [run_id], |r| r.get(0))
            .optional()?;
        if owner != Some(instance) {
            return Err(ApiError::new(ErrorCode::NotFound, format!("{name:?} has no run {run_id}")));
        }
        Ok(())
    }

    /// Sends again the records a run failed on (and those that waited on them).
    pub async fn retry_failed(&self, name: &str, run_id: i64) -> ApiResult<RunSummary> {
        self.run(name, RunKind::Retry { run_id }, RunWatch::default()).await
    }

    async fn retry_failed_watched(&self, name: &str, run_id: i64, watch: RunWatch<'_>) -> ApiResult<RunSummary> {
        let only: std::collections::BTreeSet<(String, String)> = self
            .run_records(name, run_id, true)?
            .into_iter()
            // Pulls and the platform link's reads and writes are tried again by every run on its own.
            .filter(|o| !o.operation.is_pull() && !o.operation.is_platform())
            .map(|o| (o.module, o.record_id))
            .collect();
        let modules =
            only.iter().map(|(m, _)| m.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let request = SyncRequest { only: Some(only), ..watch.request(Direction::Push, Some(modules), Trigger::Retry) };
        self.sync(name, request).await
    }

    /// Sends one record again, whatever its state.
    pub async fn resync(&self, name: &str, module: &str, platform_id: &str) -> ApiResult<RunSummary> {
        let kind = RunKind::Resync { module: module.to_owned(), platform_id: platform_id.to_owned() };
        self.run(name, kind, RunWatch::default()).await
    }

    pub(super) async fn resync_watched(
        &self,
        name: &str,
        module: &str,
        platform_id: &str,
        watch: RunWatch<'_>,
    ) -> ApiResult<RunSummary> {
        let only = std::iter::once((module.to_owned(), platform_id.to_owned())).collect();
        let request = SyncRequest {
            only: Some(only),
            ..watch.request(Direction::Push, Some(vec![module.to_owned()]), Trigger::Button)
        };
        self.sync(name, request).await
    }

    /// Links a platform record to a QuickBooks record by hand.
    pub async fn link(&self, name: &str, module: &str, platform_id: &str, qbo_id: &str) -> ApiResult<()> {
        let spec = self.spec(name)?;
        let module_spec = spec
            .module(module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("the spec has no module {module:?}")))?;
        let entity = self.qbo_client(name).await?.read_json(&module_spec.entity, qbo_id).await?;
        let link = crate::sync::store::Link {
            module: module_spec.name.clone(),
            platform_id: platform_id.to_owned(),
            qbo_id: qbo_id.to_owned(),
            sync_token: entity.get("SyncToken").and_then(Value::as_str).map(str::to_owned),
            platform_hash: None,
            qbo_hash: None,
            synced_at: self.stamp_now(),
        };
        let instance = self.instance_id(name)?;
        crate::sync::store::save_link(&self.store.connection(), instance, &link)?;
        Ok(())
    }

    /// Breaks a link: the next push creates the record anew (after the twin check).
    pub fn unlink(&self, name: &str, module: &str, platform_id: &str) -> ApiResult<()> {
        let instance = self.instance_id(name)?;
        let removed = crate::sync::store::delete_link(&self.store.connection(), instance, module, platform_id)?;
        if removed == 0 {
            return Err(ApiError::new(ErrorCode::NotFound, format!("{module} {platform_id} is not linked")));
        }
        Ok(())
    }

    pub fn links(&self, name: &str, module: &str) -> ApiResult<Vec<crate::sync::store::Link>> {
        let instance = self.instance_id(name)?;
        Ok(crate::sync::store::links(&self.store.connection(), instance, module)?)
    }
}
