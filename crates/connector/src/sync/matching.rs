//! First-sync matching: the QuickBooks twin of a record that was never linked, found by the
//! module's match rule before anything is created.

use std::sync::Arc;

use futures::StreamExt;
use qbo::{BatchItem, Op, Query, RequestId};
use serde_json::Value;

use super::engine::*;
use super::plan::{Candidate, MatchIndex};
use crate::error::{ApiError, ErrorCode};
use crate::platform::{Module, PlatformStore};
use crate::spec::{CompiledMethod, Context, MethodName, ModuleSpec};

/// QuickBooks' longest name (a customer's DisplayName, 500 characters): no match field holds more.
pub(super) const LONGEST_MATCH_VALUE: usize = 500;

pub(super) fn link_state_of(row: &Value) -> super::plan::LinkState {
    super::plan::LinkState {
        qbo_id: row["Id"].as_str().unwrap_or_default().to_owned(),
        sync_token: row["SyncToken"].as_str().map(str::to_owned),
        platform_hash: None,
    }
}

impl<'a> Engine<'a> {
    /// The module's first match rule, compiled, and the QuickBooks field it compares with.
    pub(super) fn matcher(module: &ModuleSpec) -> Option<(CompiledMethod, String)> {
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
    pub(super) fn match_value(matcher: &CompiledMethod, record: &Value, context: &Context) -> Option<String> {
        let mapped = matcher.map(record, context).ok()?;
        let value = mapped.body.get("value").and_then(Value::as_str)?;
        (value.chars().count() <= LONGEST_MATCH_VALUE).then(|| value.to_owned())
    }

    /// For records about to be created without a link (answers to our own writes, a 6240 on
    /// create, and resumed runs), a QuickBooks record that is plainly the same, read afresh.
    pub(super) async fn find_matches(&self, module: &ModuleSpec, candidates: &mut [Candidate]) -> Result<(), ApiError> {
        let Some((matcher, field)) = Engine::matcher(module) else { return Ok(()) };
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let platform = PlatformStore::new(self.store);
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
    pub(super) async fn look_up_matches(
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
    pub(super) async fn cheaper_to_read_all(&self, module: &ModuleSpec, wanted: usize) -> Result<bool, ApiError> {
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
    pub(super) async fn read_all_by_value(&self, module: &ModuleSpec, field: &str) -> Result<MatchIndex, ApiError> {
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

    pub(super) fn match_in(by_value: &MatchIndex, wanted: &[(usize, String)]) -> Vec<(usize, super::plan::LinkState)> {
        wanted
            .iter()
            .filter_map(|(index, value)| by_value.get(&value.to_lowercase()).map(|link| (*index, link.clone())))
            .collect()
    }

    pub(super) async fn match_by_batched_queries(
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
}
