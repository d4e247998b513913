//! Import and export: one CSV per module, or one JSON document for everything.
//!
//! An import is all or nothing: every row is checked first, every problem is reported
//! at once with its line, column and reason, and only a clean file is written — in
//! one transaction. In CSV, nested fields are flattened with dots (`Address.City`,
//! `Currency.Mnemonic`); an invoice or order takes one row per line, with the line's
//! fields in `Line.*` columns and the record's fields repeated (rows of one record
//! share its `Id`).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::schema::{brief_text, validate};
use super::{get, insert, Module, Origin, PlatformError};
use crate::store::Store;

mod csv;
use csv::locate;
pub use csv::{csv_text, export_csv, import_csv};
pub(crate) use csv::{import_csv_with, records_csv};

/// Whether every record of an import must name its `Id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ids {
    /// A record without one is created with a new id: right for a one-off import by hand.
    MayBeNew,
    /// A file that may be read again (the watched folder's, after a crash between its
    /// import and its move) must update the same records the second time, not add them anew.
    Required,
}

/// One thing wrong with an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ImportProblem {
    /// CSV line (the header is line 1), when the problem is in a CSV file.
    pub line: Option<u64>,
    /// Where in a JSON document (`Contacts[2]`, 1-based), when the problem is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub column: Option<String>,
    pub record: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut place = Vec::new();
        if let Some(line) = self.line {
            place.push(format!("line {line}"));
        }
        if let Some(path) = &self.path {
            place.push(path.clone());
        }
        if let Some(column) = &self.column {
            place.push(format!("column {column}"));
        }
        f.write_str(&place.join(", "))?;
        if let Some(record) = &self.record {
            write!(f, " ({record})")?;
        }
        if !place.is_empty() || self.record.is_some() {
            f.write_str(": ")?;
        }
        f.write_str(&self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("nothing was imported; {} problem{} found:\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Problems(Vec<ImportProblem>),
    #[error(transparent)]
    Store(#[from] PlatformError),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    /// Rows that say what the store already holds: not written, so nothing is sent again.
    pub unchanged: usize,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} created, {} updated, {} unchanged", self.created, self.updated, self.unchanged)
    }
}

/// What a record says, without what the store stamps on it (its id and times) and without
/// empty values: a file's row and the stored record agree when these agree.
fn content(data: &Value) -> Value {
    fn prune(value: &Value) -> Option<Value> {
        match value {
            Value::Null => None,
            Value::Object(map) => {
                let kept: serde_json::Map<String, Value> =
                    map.iter().filter_map(|(k, v)| prune(v).map(|v| (k.clone(), v))).collect();
                (!kept.is_empty()).then_some(Value::Object(kept))
            }
            Value::Array(items) => Some(Value::Array(items.iter().map(|v| prune(v).unwrap_or(Value::Null)).collect())),
            Value::String(text) if text.is_empty() => None,
            other => Some(other.clone()),
        }
    }
    let mut data = data.clone();
    if let Value::Object(map) = &mut data {
        for stamped in ["Id", "CreatedAt", "UpdatedAt"] {
            map.remove(stamped);
        }
    }
    prune(&data).unwrap_or(Value::Null)
}

/// Where a record came from: its first CSV line and the line of each of its lines, or
/// its place in a JSON document (`Accounts[3]`).
enum Position {
    Csv { line: u64, line_rows: Vec<u64> },
    Json { path: String },
}

/// Checks every record (references may point into the same import), then writes all.
fn import_records(
    store: &Store,
    batches: Vec<(Module, Vec<(Value, Position)>)>,
    mut problems: Vec<ImportProblem>,
    ids: Ids,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportError> {
    let incoming: HashSet<(Module, String)> = batches
        .iter()
        .flat_map(|(module, records)| {
            records
                .iter()
                .filter_map(move |(data, _)| data.get("Id").and_then(Value::as_str).map(|id| (*module, id.to_owned())))
        })
        .collect();
    // A cell that could not be read is one problem: not again as "is required" once the
    // record, without it, is checked.
    let unreadable: HashSet<(Option<u64>, Option<String>)> =
        problems.iter().map(|p| (p.line, p.column.clone())).collect();
    {
        let connection = store.connection();
        let exists = |module: Module, id: &str| {
            incoming.contains(&(module, id.to_owned()))
                || get(&connection, module, id).ok().flatten().is_some_and(|r| !r.deleted)
        };
        for (module, records) in &batches {
            for (data, position) in records {
                let has_id = data.get("Id").and_then(Value::as_str).is_some_and(|id| !id.trim().is_empty());
                if ids == Ids::Required && !has_id {
                    let (line, path) = match position {
                        Position::Csv { line, .. } => (Some(*line), None),
                        Position::Json { path } => (None, Some(path.clone())),
                    };
                    problems.push(ImportProblem {
                        line,
                        path,
                        column: Some("Id".into()),
                        record: None,
                        reason: format!(
                            "is required here: each {module} record must carry its own id, so that reading the file again updates the same records instead of adding copies"
                        ),
                    });
                }
                for error in validate(*module, data, &exists) {
                    let (line, path, column) = match position {
                        Position::Csv { line, line_rows } => {
                            let (line, column) = locate(&error.field, *line, line_rows);
                            (Some(line), None, column)
                        }
                        Position::Json { path } => (None, Some(path.clone()), error.field.clone()),
                    };
                    let column = (!column.is_empty()).then_some(column);
                    if line.is_some() && unreadable.contains(&(line, column.clone())) {
                        continue;
                    }
                    problems.push(ImportProblem {
                        path,
                        line,
                        column,
                        record: Some(format!("{module} {}", brief_text(&error.record))),
                        reason: error.reason,
                    });
                }
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(ImportError::Problems(problems));
    }
    let report = store.transaction(|tx| -> Result<ImportReport, PlatformError> {
        let mut report = ImportReport::default();
        for (module, records) in batches {
            for (data, _) in records {
                let id = data.get("Id").and_then(Value::as_str).map(str::to_owned);
                match id.as_deref().map(|id| get(tx, module, id)).transpose()?.flatten() {
                    Some(existing) if !existing.deleted && content(&existing.data) == content(&data) => {
                        report.unchanged += 1;
                    }
                    Some(existing) => {
                        super::replace(tx, module, &existing.id, data, None, Origin::Import, now)?;
                        report.updated += 1;
                    }
                    None => {
                        insert(tx, module, data, Origin::Import, now)?;
                        report.created += 1;
                    }
                }
            }
        }
        Ok(report)
    })?;
    Ok(report)
}

/// Imports a whole JSON document (`{"format": 1, "Accounts": […], …}`): all or nothing.
pub fn import_json(store: &Store, document: &Value, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
    import_json_with(store, document, Ids::MayBeNew, now)
}

/// [`import_json`], saying whether every record must name its id.
pub(crate) fn import_json_with(
    store: &Store,
    document: &Value,
    ids: Ids,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportError> {
    let mut problems = Vec::new();
    let problem =
        |path: Option<String>, reason: String| ImportProblem { path, line: None, column: None, record: None, reason };
    let Some(map) = document.as_object() else {
        return Err(ImportError::Problems(vec![problem(
            None,
            "this file is not a QuickBooks Connector export: it must be a JSON object".into(),
        )]));
    };
    if map.get("format") != Some(&json!(1)) {
        problems
            .push(problem(Some("format".into()), "this file is not a QuickBooks Connector export (format 1)".into()));
    }
    for key in map.keys().filter(|k| *k != "format") {
        if key.parse::<Module>().is_err() {
            problems.push(problem(Some(brief_text(key)), "is not a module".into()));
        }
    }
    let mut batches = Vec::new();
    for module in Module::ALL {
        let records = match map.get(module.name()) {
            None => Vec::new(),
            Some(Value::Array(records)) => records.clone(),
            Some(other) => {
                // Taking an object for an empty module would drop its records silently.
                problems.push(problem(
                    Some(module.name().into()),
                    format!("must be a list of {module} records ([…]), not {}", kind_of_value(other)),
                ));
                Vec::new()
            }
        };
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut positioned = Vec::with_capacity(records.len());
        for (index, record) in records.into_iter().enumerate() {
            let path = format!("{module}[{}]", index + 1);
            if let Some(id) = record.get("Id").and_then(Value::as_str) {
                if let Some(first) = seen.get(id) {
                    problems.push(ImportProblem {
                        column: Some("Id".into()),
                        record: Some(format!("{module} {}", brief_text(id))),
                        ..problem(
                            Some(path),
                            format!("{module}[{first}] has this id already; each record may be listed once"),
                        )
                    });
                    continue;
                }
                seen.insert(id.to_owned(), index + 1);
            }
            positioned.push((record, Position::Json { path }));
        }
        batches.push((module, positioned));
    }
    import_records(store, batches, problems, ids, now)
}

fn kind_of_value(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn live_records(store: &Store, module: Module) -> Result<Vec<Value>, PlatformError> {
    let connection = store.connection();
    let mut statement =
        connection.prepare("SELECT data FROM platform_record WHERE module = ?1 AND deleted_at IS NULL ORDER BY id")?;
    let rows = statement.query_map([module.name()], |row| row.get::<_, String>(0))?;
    let mut records = Vec::new();
    for row in rows {
        records.push(serde_json::from_str(&row?).unwrap_or(Value::Null));
    }
    Ok(records)
}

/// Every live record of every module, in one document.
pub fn export_json(store: &Store) -> Result<Value, PlatformError> {
    let mut document = json!({"format": 1});
    for module in Module::ALL {
        document[module.name()] = Value::Array(live_records(store, module)?);
    }
    Ok(document)
}

#[cfg(test)]
mod tests;
