//! A dry run: the plan of a push without writing anything, each update field by field
//! against a fresh read of QuickBooks.

use std::collections::BTreeMap;
use std::sync::Arc;

use qbo::Query;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::engine::*;
use super::plan::{plan_push, Operation, Planned};
use crate::error::ApiError;
use crate::platform::PlatformStore;

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

impl<'a> Engine<'a> {
    /// The plan of a push, without writing anything.
    pub async fn dry_run(input: RunInput<'a>, modules: Option<Vec<String>>) -> Result<Vec<PlanView>, ApiError> {
        let mut engine = Engine::new(input, 0, Arc::default());
        let mut views = Vec::new();
        for module in engine.ordered_modules(modules.as_deref()) {
            let mut operations = Vec::new();
            let mut pages = engine.push_pages(&module, None)?;
            while let Some((ids, _)) = pages.next(&PlatformStore::new(engine.store))? {
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
