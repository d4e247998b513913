//! CSV: one file per module, nested fields flattened with dots, an invoice or order as one
//! row per line with the record's fields repeated.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::{import_records, live_records, Ids, ImportError, ImportProblem, ImportReport, Position};
use crate::platform::schema::{brief_text, Field, Kind};
use crate::platform::{Module, PlatformError};
use crate::store::Store;

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
pub(super) fn locate(field: &str, record_line: u64, line_rows: &[u64]) -> (u64, String) {
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

/// Imports one module's CSV: all rows or none.
pub fn import_csv(store: &Store, module: Module, text: &str, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
    import_csv_with(store, module, text, Ids::MayBeNew, now)
}

/// [`import_csv`], saying whether every record must name its id.
pub(crate) fn import_csv_with(
    store: &Store,
    module: Module,
    text: &str,
    ids: Ids,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportError> {
    let parsed = parse_csv(module, text);
    let records =
        parsed.records.into_iter().map(|(data, line, line_rows)| (data, Position::Csv { line, line_rows })).collect();
    import_records(store, vec![(module, records)], parsed.problems, ids, now)
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
    records_csv(module, &live_records(store, module)?)
}

/// `records` of `module` as CSV in the columns [`export_csv`] writes: whatever writes a
/// module's records for another program to read writes them the one way.
pub(crate) fn records_csv(module: Module, records: &[Value]) -> Result<String, PlatformError> {
    let columns = columns(module);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write_error = |e: csv::Error| PlatformError::Database(rusqlite::Error::ToSqlConversionFailure(Box::new(e)));
    writer.write_record(&columns).map_err(write_error)?;
    for record in records {
        let lines = record.get("Lines").and_then(Value::as_array).cloned().unwrap_or_else(|| vec![Value::Null]);
        for line in lines {
            let row: Vec<String> = columns
                .iter()
                .map(|column| match column.strip_prefix(LINE_PREFIX) {
                    Some(field) => cell(lookup(&line, field)),
                    None => cell(lookup(record, column)),
                })
                .collect();
            writer.write_record(&row).map_err(write_error)?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| write_error(e.into_error().into()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
