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
use serde_json::{json, Map, Value};

use super::schema::{brief_text, validate, Field, Kind};
use super::{get, insert, Module, Origin, PlatformError};
use crate::store::Store;

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

const LINE_PREFIX: &str = "Line.";

/// Every leaf column of a module, `Id` first; line fields as `Line.*`.
fn columns(module: Module) -> Vec<String> {
    fn walk(fields: &[Field], prefix: &str, out: &mut Vec<String>) {
        for field in fields {
            match field.kind {
                Kind::Object(inner) => walk(inner, &format!("{prefix}{}.", field.name), out),
                Kind::Lines(inner) => walk(inner, LINE_PREFIX, out),
                _ => out.push(format!("{prefix}{}", field.name)),
            }
        }
    }
    let mut out = Vec::new();
    walk(module.fields(), "", &mut out);
    out
}

fn kind_of(module: Module, column: &str) -> Option<Kind> {
    let (fields, path): (&[Field], &str) = match column.strip_prefix(LINE_PREFIX) {
        Some(rest) => (
            module.fields().iter().find_map(|f| if let Kind::Lines(inner) = f.kind { Some(inner) } else { None })?,
            rest,
        ),
        None => (module.fields(), column),
    };
    let mut fields = fields;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let field = fields.iter().find(|f| f.name == part)?;
        match (field.kind, parts.peek()) {
            (Kind::Object(inner), Some(_)) => fields = inner,
            (kind, None) if !matches!(kind, Kind::Object(_) | Kind::Lines(_)) => return Some(kind),
            _ => return None,
        }
    }
    None
}

/// A CSV cell as JSON for its field's kind; `Err` says why it cannot be.
fn cell_value(kind: Kind, cell: &str) -> Result<Value, String> {
    match kind {
        Kind::Bool => match cell.trim().to_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(json!(true)),
            "false" | "no" | "0" => Ok(json!(false)),
            other => Err(format!("must be true or false, not {:?}", brief_text(other))),
        },
        Kind::Decimal => serde_json::from_str::<Value>(cell.trim())
            .ok()
            .filter(Value::is_number)
            .ok_or_else(|| format!("must be a decimal number, not {:?}", brief_text(cell))),
        _ => Ok(json!(cell)),
    }
}

fn set_path(target: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        Some((head, rest)) => {
            let child = target.entry(head.to_owned()).or_insert_with(|| json!({}));
            if let Value::Object(map) = child {
                set_path(map, rest, value);
            }
        }
        None => {
            target.insert(path.to_owned(), value);
        }
    }
}

/// Parsed rows grouped into records, with the CSV line of each record and line.
struct Parsed {
    records: Vec<(Value, u64, Vec<u64>)>,
    problems: Vec<ImportProblem>,
}

fn parse_csv(module: Module, text: &str) -> Parsed {
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::Headers).from_reader(text.as_bytes());
    // A file whose header row cannot be used has nothing else worth reporting.
    let refused = |reason: String| Parsed {
        records: Vec::new(),
        problems: vec![ImportProblem { path: None, line: Some(1), column: None, record: None, reason }],
    };
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers.iter().map(str::to_owned).collect(),
        Err(error) => return refused(format!("the header row is unreadable: {error}")),
    };
    if headers.iter().all(String::is_empty) {
        return refused(format!(
            "the file is empty: a CSV import starts with a header row naming the columns of {module}"
        ));
    }
    let known = columns(module);
    for (index, header) in headers.iter().enumerate() {
        // A repeated column would silently overwrite the earlier cell of each row.
        if headers[..index].contains(header) {
            problems.push(ImportProblem {
                path: None,
                line: Some(1),
                column: Some(header.clone()),
                record: None,
                reason: "is named twice in the header".into(),
            });
        }
        if !known.contains(header) {
            problems.push(ImportProblem {
                path: None,
                line: Some(1),
                column: Some(header.clone()),
                record: None,
                reason: format!("is not a column of {module} (columns: {})", known.join(", ")),
            });
        }
    }
    let has_lines = module.fields().iter().any(|f| matches!(f.kind, Kind::Lines(_)));
    if has_lines && !headers.iter().any(|h| h == "Id") {
        problems.push(ImportProblem {
            path: None,
            line: Some(1),
            column: Some("Id".into()),
            record: None,
            reason: format!("{module} need an Id column: the rows of one record share it"),
        });
    }
    let mut records: Vec<(Value, u64, Vec<u64>)> = Vec::new();
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut rows = 0;
    for row in reader.records() {
        rows += 1;
        let row = match row {
            Ok(row) => row,
            Err(error) => {
                let line = error.position().map(|p| p.line());
                problems.push(ImportProblem {
                    path: None,
                    line,
                    column: None,
                    record: None,
                    reason: format!("unreadable row: {error}"),
                });
                continue;
            }
        };
        let line = row.position().map_or(0, |p| p.line());
        let mut record = Map::new();
        let mut record_line = Map::new();
        for (header, cell) in headers.iter().zip(row.iter()) {
            if cell.trim().is_empty() || !known.contains(header) {
                continue;
            }
            let Some(kind) = kind_of(module, header) else { continue };
            match cell_value(kind, cell) {
                Ok(value) => match header.strip_prefix(LINE_PREFIX) {
                    Some(field) => set_path(&mut record_line, field, value),
                    None => set_path(&mut record, header, value),
                },
                Err(reason) => problems.push(ImportProblem {
                    path: None,
                    line: Some(line),
                    column: Some(header.clone()),
                    record: None,
                    reason,
                }),
            }
        }
        let id = record.get("Id").and_then(Value::as_str).map(str::to_owned);
        let earlier = id.as_ref().and_then(|id| by_id.get(id).copied());
        if let (Some(index), false) = (earlier, has_lines) {
            // Without lines, one row is one record: a second row of the same id would
            // silently replace the first (and count as an update).
            problems.push(ImportProblem {
                path: None,
                line: Some(line),
                column: Some("Id".into()),
                record: None,
                reason: format!(
                    "{module} {} is on line {} already; each record may be on one row only",
                    brief_text(id.as_deref().unwrap_or_default()),
                    records[index].1
                ),
            });
            continue;
        }
        match earlier.filter(|_| has_lines) {
            Some(index) => {
                let (existing, first_line, line_rows) = &mut records[index];
                // The record's own cells repeat on each of its rows; one that differs
                // would be dropped silently, as the first row's value is the one kept.
                for column in differing(existing, &record, "") {
                    problems.push(ImportProblem {
                        path: None,
                        line: Some(line),
                        column: Some(column),
                        record: None,
                        reason: format!(
                            "differs from line {first_line}, the first row of {module} {}: the rows of a record repeat its fields",
                            brief_text(id.as_deref().unwrap_or_default())
                        ),
                    });
                }
                if let Some(Value::Array(lines)) = existing.get_mut("Lines") {
                    lines.push(Value::Object(record_line));
                }
                line_rows.push(line);
            }
            None => {
                if has_lines {
                    record
                        .insert("Lines".into(), if record_line.is_empty() { json!([]) } else { json!([record_line]) });
                }
                if let Some(id) = id {
                    by_id.insert(id, records.len());
                }
                records.push((Value::Object(record), line, vec![line]));
            }
        }
    }
    if rows == 0 {
        problems.push(ImportProblem {
            path: None,
            line: Some(2),
            column: None,
            record: None,
            reason: "the file has a header row but no rows: there is nothing to import".into(),
        });
    }
    Parsed { records, problems }
}

/// The columns (dotted) where `row` gives a value other than `first`'s; a cell left
/// empty on a later row differs from nothing.
fn differing(first: &Value, row: &Map<String, Value>, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (key, value) in row {
        let column = format!("{prefix}{key}");
        match (first.get(key), value) {
            (Some(Value::Object(_)), Value::Object(inner)) => {
                found.extend(differing(&first[key], inner, &format!("{column}.")))
            }
            (Some(earlier), value) if earlier == value => {}
            _ => found.push(column),
        }
    }
    found
}

/// The CSV column and line of a validation error's field path.
fn locate(field: &str, record_line: u64, line_rows: &[u64]) -> (u64, String) {
    if let Some(rest) = field.strip_prefix("Lines[") {
        if let Some((index, tail)) = rest.split_once("].") {
            let n: usize = index.parse().unwrap_or(1);
            return (
                line_rows.get(n.saturating_sub(1)).copied().unwrap_or(record_line),
                format!("{LINE_PREFIX}{tail}"),
            );
        }
    }
    (record_line, field.to_owned())
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
    {
        let connection = store.connection();
        let exists = |module: Module, id: &str| {
            incoming.contains(&(module, id.to_owned()))
                || get(&connection, module, id).ok().flatten().is_some_and(|r| !r.deleted)
        };
        for (module, records) in &batches {
            for (data, position) in records {
                for error in validate(*module, data, &exists) {
                    let (line, path, column) = match position {
                        Position::Csv { line, line_rows } => {
                            let (line, column) = locate(&error.field, *line, line_rows);
                            (Some(line), None, column)
                        }
                        Position::Json { path } => (None, Some(path.clone()), error.field.clone()),
                    };
                    problems.push(ImportProblem {
                        path,
                        line,
                        column: (!column.is_empty()).then_some(column),
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

/// Imports one module's CSV: all rows or none.
pub fn import_csv(store: &Store, module: Module, text: &str, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
    let parsed = parse_csv(module, text);
    let records =
        parsed.records.into_iter().map(|(data, line, line_rows)| (data, Position::Csv { line, line_rows })).collect();
    import_records(store, vec![(module, records)], parsed.problems, now)
}

/// The text of a CSV file as read from disk: a file that is not UTF-8 is refused with
/// the line of its first bad byte (an operator's spreadsheet saved as Latin-1, say).
pub fn csv_text(bytes: &[u8]) -> Result<&str, ImportError> {
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = &bytes[..error.valid_up_to()];
        let line = 1 + valid.iter().filter(|b| **b == b'\n').count() as u64;
        let column = 1 + valid.iter().rev().take_while(|b| **b != b'\n').count();
        ImportError::Problems(vec![ImportProblem {
            path: None,
            line: Some(line),
            column: None,
            record: None,
            reason: format!(
                "is not UTF-8 text (a byte at character {column} of the line cannot be read); save the file as CSV UTF-8"
            ),
        }])
    })
}

/// Imports a whole JSON document (`{"format": 1, "Accounts": […], …}`): all or nothing.
pub fn import_json(store: &Store, document: &Value, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
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
    import_records(store, batches, problems, now)
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

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, part| v.get(part))
}

/// One module's live records as CSV (one row per line for invoices and orders).
pub fn export_csv(store: &Store, module: Module) -> Result<String, PlatformError> {
    let columns = columns(module);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write_error = |e: csv::Error| PlatformError::Database(rusqlite::Error::ToSqlConversionFailure(Box::new(e)));
    writer.write_record(&columns).map_err(write_error)?;
    for record in live_records(store, module)? {
        let lines = record.get("Lines").and_then(Value::as_array).cloned().unwrap_or_else(|| vec![Value::Null]);
        for line in lines {
            let row: Vec<String> = columns
                .iter()
                .map(|column| match column.strip_prefix(LINE_PREFIX) {
                    Some(field) => cell(lookup(&line, field)),
                    None => cell(lookup(&record, column)),
                })
                .collect();
            writer.write_record(&row).map_err(write_error)?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| write_error(e.into_error().into()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::PlatformStore;
    use chrono::NaiveDate;

    const NOW: DateTime<Utc> = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc();

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_bad_csv_reports_every_problem_and_writes_nothing() {
        let (_dir, store) = store();
        let csv = "Id,Name,IsTaxable,Currency.Mnemonic,Colour\n\
                   ACC-1,\"O'Brien & Sons\",yes,USD,red\n\
                   ACC-2,,maybe,USD,\n\
                   ACC-3,Café Zoë,no,,\n";
        let ImportError::Problems(problems) = import_csv(&store, Module::Accounts, csv, NOW).unwrap_err() else {
            panic!()
        };
        let described: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(described.contains(&"line 1, column Colour: is not a column of Accounts (columns: Id, Name, Phone, Fax, WebSite, Address.Line1, Address.City, Address.State, Address.PostalCode, Address.Country, IsTaxable, CorpEmail, Currency.Mnemonic, Currency.Name, CreatedAt, UpdatedAt)".to_owned()), "{described:#?}");
        assert!(
            described.contains(&"line 3, column IsTaxable: must be true or false, not \"maybe\"".to_owned()),
            "{described:#?}"
        );
        assert!(described.contains(&"line 3, column Name (Accounts ACC-2): is required".to_owned()), "{described:#?}");
        assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0, "nothing applied");
    }

    #[test]
    fn invoice_lines_errors_point_at_their_own_row() {
        let (_dir, store) = store();
        let platform = PlatformStore::new(&store);
        platform.create(Module::Accounts, json!({"Id": "A1", "Name": "Acme"}), NOW).unwrap();
        platform.create(Module::Products, json!({"Id": "P1", "Name": "Widget", "Price": 5}), NOW).unwrap();
        let csv = "Id,AccountId,Number,Date,Line.ProductId,Line.Quantity,Line.UnitPrice\n\
                   I1,A1,1001,2026-03-01,P1,2,5\n\
                   I1,A1,1001,2026-03-01,P9,1,5\n";
        let ImportError::Problems(problems) = import_csv(&store, Module::Invoices, csv, NOW).unwrap_err() else {
            panic!()
        };
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].line, problems[0].column.as_deref()), (Some(3), Some("Line.ProductId")));
    }

    #[test]
    fn a_clean_csv_applies_whole_and_round_trips_exactly() {
        let (_dir, store) = store();
        let accounts = "Id,Name,Address.City,IsTaxable,Currency.Mnemonic\nA1,\"O'Brien & Sons\",Cork,true,EUR\n";
        let products = "Id,Name,Price\nP1,Widget,19.99\nP2,\"Gadget, large\",0.10\n";
        let invoices = "Id,AccountId,Number,Date,Total,Line.ProductId,Line.Quantity,Line.UnitPrice,Line.TaxCode\nI1,A1,1001,2026-03-01,40.08,P1,2,19.99,VAT20\nI1,A1,1001,2026-03-01,40.08,P2,1,0.10,VAT0\n";
        assert_eq!(
            import_csv(&store, Module::Accounts, accounts, NOW).unwrap(),
            ImportReport { created: 1, updated: 0, unchanged: 0 }
        );
        import_csv(&store, Module::Products, products, NOW).unwrap();
        import_csv(&store, Module::Invoices, invoices, NOW).unwrap();
        let invoice = PlatformStore::new(&store).get(Module::Invoices, "I1").unwrap();
        assert_eq!(invoice.data["Lines"].as_array().unwrap().len(), 2);
        assert_eq!(invoice.data["Lines"][1]["UnitPrice"].to_string(), "0.10");

        let exported = export_json(&store).unwrap();
        let (_other_dir, other) = self::store();
        assert_eq!(import_json(&other, &exported, NOW).unwrap().created, 4);
        let again = export_json(&other).unwrap();
        assert_eq!(again["Invoices"][0]["Lines"], exported["Invoices"][0]["Lines"]);
        assert_eq!(again["Products"][0]["Price"].to_string(), "19.99");

        let csv = export_csv(&store, Module::Invoices).unwrap();
        assert_eq!(csv.lines().count(), 3, "a header and one row per line:\n{csv}");
        assert_eq!(
            import_csv(&store, Module::Invoices, &csv, NOW).unwrap(),
            ImportReport { created: 0, updated: 0, unchanged: 1 },
            "a file read back as it was written changes nothing"
        );
    }

    #[test]
    fn an_exported_file_read_back_with_one_row_changed_updates_that_row_alone() {
        let (_dir, store) = store();
        let taxes = [super::super::demo::TaxCode::new("TAX", &[rust_decimal::Decimal::new(725, 2)])];
        let made =
            super::super::demo::generate(&store, super::super::demo::DemoSize::small(), 3, &taxes, "USD", NOW).unwrap();
        for module in Module::ALL {
            let csv = export_csv(&store, module).unwrap();
            let report = import_csv(&store, module, &csv, NOW).unwrap();
            assert_eq!(report, ImportReport { created: 0, updated: 0, unchanged: made[&module] }, "{module}");
        }
        let csv = export_csv(&store, Module::Accounts).unwrap();
        let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
        let name = PlatformStore::new(&store).list(Module::Accounts, "", 0, 1).unwrap().remove(0);
        let row = lines.iter().position(|l| l.starts_with(&format!("{},", name.id))).unwrap();
        let title = name.data["Name"].as_str().unwrap().to_owned();
        lines[row] = lines[row].replacen(&title, "Renamed Ltd", 1);
        let report = import_csv(&store, Module::Accounts, &(lines.join("\n") + "\n"), NOW).unwrap();
        assert_eq!(report, ImportReport { created: 0, updated: 1, unchanged: made[&Module::Accounts] - 1 });
        assert_eq!(PlatformStore::new(&store).get(Module::Accounts, &name.id).unwrap().data["Name"], "Renamed Ltd");
    }

    #[test]
    fn a_json_document_may_refer_within_itself() {
        let (_dir, store) = store();
        let document = json!({"format": 1,
            "Accounts": [{"Id": "A1", "Name": "Acme"}],
            "Contacts": [{"Id": "C1", "AccountId": "A1", "FirstName": "Zoë", "LastName": "Ngata"}, {"Id": "C2", "AccountId": "A9", "FirstName": "X", "LastName": "Y"}]});
        let ImportError::Problems(problems) = import_json(&store, &document, NOW).unwrap_err() else { panic!() };
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].record.as_deref(), Some("Contacts C2"));
        assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0);
    }

    fn problems_of(result: Result<ImportReport, ImportError>) -> Vec<String> {
        match result {
            Err(ImportError::Problems(problems)) => problems.iter().map(ToString::to_string).collect(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_value_longer_than_quickbooks_takes_is_refused_with_its_line_and_field() {
        let (_dir, store) = store();
        let huge = "x".repeat(10 * 1024 * 1024);
        let csv = format!(
            "Id,Name,Phone,Address.PostalCode\nA1,Acme,555-0100,\nA2,{huge},,\nA3,Zoë,{},{}\n",
            "1".repeat(31),
            "9".repeat(31)
        );
        let described = problems_of(import_csv(&store, Module::Accounts, &csv, NOW));
        assert_eq!(
            described,
            [
                "line 3, column Name (Accounts A2): is 10485760 characters long; QuickBooks takes at most 500 here",
                "line 4, column Phone (Accounts A3): is 31 characters long; QuickBooks takes at most 30 here",
                "line 4, column Address.PostalCode (Accounts A3): is 31 characters long; QuickBooks takes at most 30 here",
            ]
        );
        assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0, "nothing applied");
        // Characters, not bytes: 500 accented letters are a valid name.
        let csv = format!("Id,Name\nA1,{}\n", "é".repeat(500));
        assert_eq!(import_csv(&store, Module::Accounts, &csv, NOW).unwrap().created, 1);
    }

    #[test]
    fn a_repeated_id_is_refused_naming_both_lines() {
        let (_dir, store) = store();
        let csv = "Id,Name\nA1,Acme\nA2,Bolt\nA1,Acme again\n";
        assert_eq!(
            problems_of(import_csv(&store, Module::Accounts, csv, NOW)),
            ["line 4, column Id: Accounts A1 is on line 2 already; each record may be on one row only"]
        );
        assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0);
        let csv = "Name,Name\nAcme,Bolt\n";
        assert_eq!(
            problems_of(import_csv(&store, Module::Accounts, csv, NOW)),
            ["line 1, column Name: is named twice in the header"]
        );
        let document = json!({"format": 1, "Accounts": [{"Id": "A1", "Name": "Acme"}, {"Id": "A1", "Name": "Again"}]});
        assert_eq!(
            problems_of(import_json(&store, &document, NOW)),
            ["Accounts[2], column Id (Accounts A1): Accounts[1] has this id already; each record may be listed once"]
        );
    }

    #[test]
    fn a_json_module_that_is_not_a_list_is_refused_by_name() {
        let (_dir, store) = store();
        let document = json!({"format": 1,
            "Accounts": [{"Id": "A1", "Name": "Acme"}],
            "Products": {"Id": "P1", "Name": "Widget", "Price": 5},
            "Contacts": [{"Id": "C1", "AccountId": "A1", "FirstName": "Zoë", "LastName": ""}]});
        assert_eq!(
            problems_of(import_json(&store, &document, NOW)),
            [
                "Products: must be a list of Products records ([…]), not an object",
                "Contacts[1], column LastName (Contacts C1): must not be empty",
            ]
        );
        assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0, "nothing applied");
        assert_eq!(
            problems_of(import_json(&store, &json!([{"format": 1}]), NOW)),
            ["this file is not a QuickBooks Connector export: it must be a JSON object"]
        );
    }

    #[test]
    fn an_empty_csv_is_refused_with_why() {
        let (_dir, store) = store();
        assert_eq!(
            problems_of(import_csv(&store, Module::Accounts, "", NOW)),
            ["line 1: the file is empty: a CSV import starts with a header row naming the columns of Accounts"]
        );
        assert_eq!(
            problems_of(import_csv(&store, Module::Accounts, "Id,Name\n", NOW)),
            ["line 2: the file has a header row but no rows: there is nothing to import"]
        );
    }

    #[test]
    fn a_csv_that_is_not_utf8_names_its_line() {
        let bytes = b"Id,Name\nA1,Acme\nA2,Caf\xe9\n";
        let Err(ImportError::Problems(problems)) = csv_text(bytes) else { panic!("accepted") };
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(3));
        assert!(problems[0].reason.contains("not UTF-8"), "{}", problems[0].reason);
        assert_eq!(csv_text("Id,Name\nA1,Café\n".as_bytes()).unwrap(), "Id,Name\nA1,Café\n");
    }

    #[test]
    fn rows_of_one_invoice_that_disagree_are_refused_naming_both_lines() {
        let (_dir, store) = store();
        let platform = PlatformStore::new(&store);
        platform.create(Module::Accounts, json!({"Id": "A1", "Name": "Acme"}), NOW).unwrap();
        platform.create(Module::Products, json!({"Id": "P1", "Name": "Widget", "Price": 5}), NOW).unwrap();
        let csv = "Id,AccountId,Number,Date,Currency.Mnemonic,Line.ProductId,Line.Quantity,Line.UnitPrice\n\
                   I1,A1,1001,2026-03-01,USD,P1,2,5\n\
                   I1,,1001,2026-03-01,,P1,1,5\n\
                   I1,A1,1002,2026-03-01,EUR,P1,1,5\n";
        assert_eq!(
            problems_of(import_csv(&store, Module::Invoices, csv, NOW)),
            [
                "line 4, column Number: differs from line 2, the first row of Invoices I1: the rows of a record repeat its fields",
                "line 4, column Currency.Mnemonic: differs from line 2, the first row of Invoices I1: the rows of a record repeat its fields",
            ]
        );
        assert_eq!(platform.count(Module::Invoices).unwrap(), 0);
    }
}
