//! The ids a record refers to, on either side: what its links and related records are
//! looked up for before it is mapped.

use std::collections::BTreeSet;

use serde_json::Value;

/// Ids a platform record refers to (`AccountId`, `Lines[].ProductId`, …): what its
/// links and related records are looked up for.
pub fn referenced_ids(record: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    match child {
                        Value::String(id) if key.ends_with("Id") && key != "Id" => {
                            found.insert(id.clone());
                        }
                        _ => walk(child, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    walk(record, &mut found);
    found
}

/// QuickBooks ids a QBO entity refers to (`…Ref.value`, `TxnId`).
pub fn referenced_qbo_ids(entity: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key.ends_with("Ref") {
                        if let Some(id) = child.get("value").and_then(Value::as_str) {
                            found.insert(id.to_owned());
                        }
                    }
                    if key == "TxnId" {
                        if let Some(id) = child.as_str() {
                            found.insert(id.to_owned());
                        }
                    }
                    walk(child, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    walk(entity, &mut found);
    found
}
