//! The conflict inbox: both versions of a record, two records QuickBooks sees as one, and
//! their resolutions.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};
use crate::platform::{Module, PlatformStore};
use crate::spec::{CompiledMethod, Context, MethodName};

use super::*;

/// The platform field a module's first match rule reads as it is (`.Name`, `.Number`): what
/// "rename" changes so that QuickBooks no longer sees the record as another. `Err` says why
/// renaming does not apply to the module.
pub fn rename_field(module: &crate::spec::ModuleSpec) -> Result<String, String> {
    let Some(rule) = module.matching.first() else {
        return Err(format!("{} has no match rule, so QuickBooks never sees two of them as one", module.name));
    };
    let expr = rule.expr.trim();
    let field = expr.strip_prefix('.').filter(|field| {
        field.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    match field {
        Some("Id") => Err(format!(
            "{} are matched by their own id ({}), which cannot be changed: link this one instead or leave it",
            module.name, rule.qbo_field
        )),
        Some(field) => Ok(field.to_owned()),
        None => Err(format!(
            "the {} match rule builds QuickBooks' {} from more than one field ({expr}): change those fields on the record instead",
            module.name, rule.qbo_field
        )),
    }
}

/// The same-entity decision in words, for the CLI and as the entry's `message`.
pub(super) fn same_entity_message(view: &ConflictView, rename: &Result<String, String>) -> String {
    let (module, this) = (&view.module, &view.platform_id);
    let other = view.other_platform_id.as_deref().unwrap_or("another record");
    let compared = view.matched_value.as_deref().map(|value| format!(" (both {value:?})")).unwrap_or_default();
    let seen = format!(
        "QuickBooks sees {module} {this} as {} {}{compared}, which is already linked to {module} {other}.",
        view.entity, view.qbo_id
    );
    let left =
        format!("left, {this} stays unlinked and fails alone on every later run until it is renamed or removed.");
    match rename {
        Ok(field) => format!(
            "{seen} Link this one instead ({other} is unlinked), give it another {field} and send it as a new {}, or leave it: {left}",
            view.entity
        ),
        Err(why) => format!(
            "{seen} Link this one instead ({other} is unlinked) or leave it: {left} Renaming does not apply: {why}."
        ),
    }
}

impl Connector {
    pub fn conflicts(&self, name: &str) -> ApiResult<Vec<ConflictView>> {
        let instance = self.instance_id(name)?;
        let spec = self.spec(name)?;
        let connection = self.store.connection();
        let mut statement = connection.prepare(
            "SELECT id, module, platform_id, qbo_id, platform_version, qbo_version, created_at, last_synced,
                    kind, other_platform_id, matched_value
             FROM conflict WHERE instance_id = ?1 AND resolved_at IS NULL ORDER BY id",
        )?;
        let rows = statement.query_map([instance], |row| {
            let platform: String = row.get(4)?;
            let qbo: String = row.get(5)?;
            let kind: String = row.get(8)?;
            Ok(ConflictView {
                id: row.get(0)?,
                kind: ConflictKind::parse(&kind).unwrap_or(ConflictKind::ChangedOnBothSides),
                module: row.get(1)?,
                entity: String::new(),
                platform_id: row.get(2)?,
                qbo_id: row.get(3)?,
                other_platform_id: row.get(9)?,
                matched_value: row.get(10)?,
                rename_field: None,
                rename_refused: None,
                message: None,
                platform_version: serde_json::from_str(&platform).unwrap_or(Value::Null),
                qbo_version: serde_json::from_str(&qbo).unwrap_or(Value::Null),
                created_at: row.get(6)?,
                last_synced: row.get::<_, Option<String>>(7)?.and_then(|text| serde_json::from_str(&text).ok()),
                quickbooks_as_platform: None,
                rows: Vec::new(),
            })
        })?;
        let mut views: Vec<ConflictView> = rows.collect::<Result<_, _>>()?;
        drop(statement);
        drop(connection);
        for view in &mut views {
            let module = spec.module(&view.module);
            view.entity = module.map(|m| m.entity.clone()).unwrap_or_default();
            match view.kind {
                ConflictKind::ChangedOnBothSides => {
                    view.quickbooks_as_platform = self.quickbooks_as_platform(name, view).ok();
                    if let (Some(module), Some(theirs)) = (module, &view.quickbooks_as_platform) {
                        view.rows = super::conflict_rows(module, &view.platform_version, theirs);
                    }
                }
                ConflictKind::SameEntity => {
                    let rename = module.map_or_else(|| Err(format!("no module {}", view.module)), rename_field);
                    view.rename_field = rename.clone().ok();
                    view.rename_refused = rename.clone().err();
                    view.message = Some(same_entity_message(view, &rename));
                }
            }
        }
        Ok(views)
    }

    pub(super) fn open_conflict(&self, name: &str, conflict_id: i64) -> ApiResult<ConflictView> {
        self.conflicts(name)?
            .into_iter()
            .find(|c| c.id == conflict_id)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no open conflict {conflict_id}")))
    }

    /// QuickBooks' side of a conflict as platform fields, through the module's pull mapping.
    pub(super) fn quickbooks_as_platform(&self, name: &str, conflict: &ConflictView) -> ApiResult<Value> {
        let spec = self.spec(name)?;
        let module = spec
            .module(&conflict.module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no module {}", conflict.module)))?;
        let compiled = CompiledMethod::from_spec(&spec, &module.name, MethodName::PullUpdate).map_err(|e| {
            ApiError::new(
                ErrorCode::Validation,
                format!("{} pull_update does not compile: {}", module.name, e[0].reason),
            )
        })?;
        let mut context = Context { vars: self.variables(name)?, ..Context::default() };
        let instance = self.instance_id(name)?;
        for qbo_id in crate::spec::mapping::referenced_qbo_ids(&conflict.qbo_version) {
            for (module, platform_id) in
                crate::sync::store::links_of_qbo_id(&self.store.connection(), instance, &qbo_id)?
            {
                context.links.entry(module).or_default().insert(qbo_id.clone(), platform_id);
            }
        }
        Ok(compiled
            .map(&conflict.qbo_version, &context)
            .map_err(|e| ApiError::new(ErrorCode::Validation, e.to_string()))?
            .body)
    }

    /// Resolves a held conflict field by field: each platform field keeps its value or takes
    /// QuickBooks' (through the module's pull mapping); the result is saved here and sent.
    pub async fn resolve(
        &self,
        name: &str,
        conflict_id: i64,
        choices: &BTreeMap<String, Side>,
    ) -> ApiResult<crate::sync::RunSummary> {
        let kind = RunKind::Resolve { conflict_id, choices: choices.clone() };
        self.run(name, kind, RunWatch::default()).await
    }

    pub(super) async fn resolve_watched(
        &self,
        name: &str,
        conflict_id: i64,
        choices: &BTreeMap<String, Side>,
        watch: RunWatch<'_>,
    ) -> ApiResult<crate::sync::RunSummary> {
        let conflict = self.open_conflict(name, conflict_id)?;
        if conflict.kind != ConflictKind::ChangedOnBothSides {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!(
                    "conflict {conflict_id} has no fields to pick: QuickBooks sees {} {} as the {} {} is linked to. \
                     Link this one instead, rename it or leave it",
                    conflict.module,
                    conflict.platform_id,
                    conflict.entity,
                    conflict.other_platform_id.as_deref().unwrap_or("another record"),
                ),
            ));
        }
        let spec = self.spec(name)?;
        let module = spec
            .module(&conflict.module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no module {}", conflict.module)))?;
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let theirs = self.quickbooks_as_platform(name, &conflict)?;
        let instance = self.instance_id(name)?;
        let record = PlatformStore::new(&self.store).get(platform_module, &conflict.platform_id)?;
        let mut merged = record.data.clone();
        for (field, side) in choices {
            if *side == Side::Quickbooks {
                match theirs.get(field) {
                    Some(value) => merged[field.as_str()] = value.clone(),
                    None => {
                        if let Value::Object(map) = &mut merged {
                            map.remove(field);
                        }
                    }
                }
            }
        }
        PlatformStore::new(&self.store).update(
            platform_module,
            &conflict.platform_id,
            merged,
            record.version,
            self.now(),
        )?;
        // The link takes QuickBooks' current SyncToken: the resolved version is sent as an update.
        // Bound first: the connection guard of the look-up must be gone before the save.
        let link = crate::sync::store::link_by_platform(
            &self.store.connection(),
            instance,
            &module.name,
            &conflict.platform_id,
        )?;
        if let Some(mut link) = link {
            link.sync_token = conflict.qbo_version.get("SyncToken").and_then(Value::as_str).map(str::to_owned);
            link.platform_hash = None;
            crate::sync::store::save_link(&self.store.connection(), instance, &link)?;
        }
        crate::sync::store::close_conflict(&self.store.connection(), conflict_id, "fields", &self.stamp_now())?;
        self.resync_watched(name, &module.name, &conflict.platform_id, watch).await
    }

    /// Settles a same-entity entry (two records here that QuickBooks sees as one entity): link
    /// this record instead of the other, rename it and send it as new, or leave it. Each closes
    /// the entry and sends the record again, so the run shows what came of the choice.
    pub async fn resolve_same_entity(
        &self,
        name: &str,
        conflict_id: i64,
        choice: &SameEntityChoice,
    ) -> ApiResult<crate::sync::RunSummary> {
        let kind = RunKind::ResolveSameEntity { conflict_id, choice: choice.clone() };
        self.run(name, kind, RunWatch::default()).await
    }

    pub(super) async fn resolve_same_entity_watched(
        &self,
        name: &str,
        conflict_id: i64,
        choice: &SameEntityChoice,
        watch: RunWatch<'_>,
    ) -> ApiResult<crate::sync::RunSummary> {
        let conflict = self.open_conflict(name, conflict_id)?;
        if conflict.kind != ConflictKind::SameEntity {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!(
                    "conflict {conflict_id} is {} {} changed here and in QuickBooks: resolve it field by field",
                    conflict.module, conflict.platform_id
                ),
            ));
        }
        let spec = self.spec(name)?;
        let module = spec
            .module(&conflict.module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no module {}", conflict.module)))?;
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let instance = self.instance_id(name)?;
        let platform_id = conflict.platform_id.as_str();
        let resolution = match choice {
            SameEntityChoice::LinkInstead => {
                self.take_entity_over(name, instance, module, &conflict).await?;
                "link_instead"
            }
            SameEntityChoice::Rename { name: new_name } => {
                let field = rename_field(module).map_err(|why| ApiError::new(ErrorCode::Validation, why))?;
                let new_name = new_name.trim();
                if new_name.is_empty() {
                    return Err(ApiError::new(ErrorCode::Validation, format!("the new {field} is empty")));
                }
                let platform = PlatformStore::new(&self.store);
                let record = platform.get(platform_module, platform_id)?;
                // QuickBooks compares names without regard to case: a change of case alone
                // would meet the same entity again.
                let current = record.data.get(&field).and_then(Value::as_str).unwrap_or_default();
                if current.to_lowercase() == new_name.to_lowercase() {
                    return Err(ApiError::new(
                        ErrorCode::Validation,
                        format!(
                            "{} {platform_id} is already called {current:?}, which QuickBooks sees as {} {}: give it another {field}",
                            conflict.module, conflict.entity, conflict.qbo_id
                        ),
                    ));
                }
                let mut renamed = record.data.clone();
                renamed[field.as_str()] = Value::String(new_name.to_owned());
                platform.update(platform_module, platform_id, renamed, record.version, self.now())?;
                "renamed"
            }
            SameEntityChoice::Dismiss => "dismissed",
        };
        if !matches!(choice, SameEntityChoice::LinkInstead) {
            crate::sync::store::close_conflict(&self.store.connection(), conflict_id, resolution, &self.stamp_now())?;
        }
        self.resync_watched(name, &module.name, platform_id, watch).await
    }

    /// Link instead: the other record lets go of the entity and this one takes it, at the
    /// entity's current SyncToken, in one transaction with closing the entry. With no hash on
    /// the link, the next push of the record is an update.
    pub(super) async fn take_entity_over(
        &self,
        name: &str,
        instance: i64,
        module: &crate::spec::ModuleSpec,
        conflict: &ConflictView,
    ) -> ApiResult<()> {
        let entity = self.qbo_client(name).await?.read_json(&module.entity, &conflict.qbo_id).await?;
        let platform_id = conflict.platform_id.as_str();
        self.store.transaction(|tx| -> ApiResult<()> {
            if let Some(own) = crate::sync::store::link_by_platform(tx, instance, &module.name, platform_id)? {
                if own.qbo_id != conflict.qbo_id {
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        format!(
                            "{} {platform_id} has been linked to {} {} since: this entry no longer applies; leave it",
                            module.name, module.entity, own.qbo_id
                        ),
                    ));
                }
            }
            if let Some(holder) = crate::sync::store::link_by_qbo(tx, instance, &module.name, &conflict.qbo_id)? {
                // The holder's own open entry (changed on both sides) would be about an entity
                // it no longer holds.
                let holder_open: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM conflict WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3 AND resolved_at IS NULL",
                        params![instance, module.name, holder.platform_id],
                        |row| row.get(0),
                    )
                    .optional()?;
                if let Some(open) = holder_open.filter(|_| holder.platform_id != platform_id) {
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        format!(
                            "{} {} has an open conflict of its own (#{open}): resolve that first",
                            module.name, holder.platform_id
                        ),
                    ));
                }
                crate::sync::store::delete_link(tx, instance, &module.name, &holder.platform_id)?;
            }
            let link = crate::sync::store::Link {
                module: module.name.clone(),
                platform_id: platform_id.to_owned(),
                qbo_id: conflict.qbo_id.clone(),
                sync_token: entity.get("SyncToken").and_then(Value::as_str).map(str::to_owned),
                platform_hash: None,
                qbo_hash: None,
                synced_at: self.stamp_now(),
            };
            crate::sync::store::save_link(tx, instance, &link)?;
            crate::sync::store::close_conflict(tx, conflict.id, "link_instead", &self.stamp_now())?;
            Ok(())
        })
    }
}
