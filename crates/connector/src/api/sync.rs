//! Runs: sync, dry run, history, retry and re-sync of records, links.

use rusqlite::OptionalExtension;
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};
use crate::instance::Instances;
use crate::spec::Context;
use crate::sync::engine::RunInput;

use super::*;

impl Connector {
    pub(super) fn instance_id(&self, name: &str) -> ApiResult<i64> {
        Ok(Instances::new(&self.store).get(name)?.id)
    }

    /// Everything a run of `name` needs: the engine is handed this and reads nothing of the API.
    async fn run_input(&self, name: &str) -> ApiResult<RunInput<'_>> {
        let instance = Instances::new(&self.store).get(name)?;
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
        })
    }

    /// Runs a sync (push, pull or both) and answers its summary.
    pub async fn sync(&self, name: &str, request: crate::sync::SyncRequest<'_>) -> ApiResult<crate::sync::RunSummary> {
        crate::sync::Engine::run(self.run_input(name).await?, request).await
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
    pub async fn retry_failed(&self, name: &str, run_id: i64) -> ApiResult<crate::sync::RunSummary> {
        let only: std::collections::BTreeSet<(String, String)> = self
            .run_records(name, run_id, true)?
            .into_iter()
            .filter(|o| !o.operation.is_pull())
            .map(|o| (o.module, o.record_id))
            .collect();
        let modules =
            only.iter().map(|(m, _)| m.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let request = crate::sync::SyncRequest {
            direction: crate::sync::Direction::Push,
            modules: Some(modules),
            trigger: crate::sync::Trigger::Retry,
            cancel: None,
            progress: None,
            only: Some(only),
        };
        self.sync(name, request).await
    }

    /// Sends one record again, whatever its state.
    pub async fn resync(&self, name: &str, module: &str, platform_id: &str) -> ApiResult<crate::sync::RunSummary> {
        let only = std::iter::once((module.to_owned(), platform_id.to_owned())).collect();
        let request = crate::sync::SyncRequest {
            direction: crate::sync::Direction::Push,
            modules: Some(vec![module.to_owned()]),
            trigger: crate::sync::Trigger::Button,
            cancel: None,
            progress: None,
            only: Some(only),
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
            synced_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
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
