//! Import and export: one CSV per module, or one JSON document for everything.
//!
//! An import is all or nothing: every row is checked first, every problem is reported
//! at once with its line, column and reason, and only a clean file is written — in
//! one transaction. In CSV, nested fields are flattened with dots (`Address.City`,
//! `Currency.Mnemonic`); an invoice or order takes one row per line, with the line's
//! fields in `Line.*` columns and the record's fields repeated (rows of one record
//! share its `Id`).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::schema::{validate, Field, Kind};
use super::{get, insert, Module, Origin, PlatformError};
use crate::store::Store;

/// One thing wrong with an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ImportProblem {
    /// CSV line (the header is line 1), when the problem is in a CSV file.
    pub line: Option<u64>,
    pub column: Option<String>,
    pub record: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        if let Some(record) = &self.record {
            write!(f, " ({record})")?;
        }
        write!(f, ": {}", self.reason)
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
            other => Err(format!("must be true or false, not {other:?}")),
        },
        Kind::Decimal => serde_json::from_str::<Value>(cell.trim())
            .ok()
            .filter(Value::is_number)
            .ok_or_else(|| format!("must be a decimal number, not {cell:?}")),
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
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers.iter().map(str::to_owned).collect(),
        Err(error) => {
            return Parsed {
                records: Vec::new(),
                problems: vec![ImportProblem {
                    line: Some(1),
                    column: None,
                    record: None,
                    reason: format!("the header row is unreadable: {error}"),
                }],
            }
        }
    };
    let known = columns(module);
    for header in &headers {
        if !known.contains(header) {
            problems.push(ImportProblem {
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
            line: Some(1),
            column: Some("Id".into()),
            record: None,
            reason: format!("{module} need an Id column: the rows of one record share it"),
        });
    }
    let mut records: Vec<(Value, u64, Vec<u64>)> = Vec::new();
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for row in reader.records() {
        let row = match row {
            Ok(row) => row,
            Err(error) => {
                let line = error.position().map(|p| p.line());
                problems.push(ImportProblem {
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
                    line: Some(line),
                    column: Some(header.clone()),
                    record: None,
                    reason,
                }),
            }
        }
        let id = record.get("Id").and_then(Value::as_str).map(str::to_owned);
        match id.as_ref().and_then(|id| by_id.get(id).copied()).filter(|_| has_lines) {
            Some(index) => {
                let (existing, _, line_rows) = &mut records[index];
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
    Parsed { records, problems }
}

/// The CSV column and line of a validation error's field path.
fn locate(field: &str, record_line: u64, line_rows: &[u64]) -> (u64, String) {
    if let Some(rest) = field.strip_prefix("Lines[") {
        if let Some((index, tail)) = rest.split_once("].") {
            let n: usize = index.parse().unwrap_or(1);
            return (line_rows.get(n - 1).copied().unwrap_or(record_line), format!("{LINE_PREFIX}{tail}"));
        }
    }
    (record_line, field.to_owned())
}

/// Where a record came from in a CSV file: its first line and the line of each of its lines.
type CsvPosition = Option<(u64, Vec<u64>)>;

/// Checks every record (references may point into the same import), then writes all.
fn import_records(
    store: &Store,
    batches: Vec<(Module, Vec<(Value, CsvPosition)>)>,
    mut problems: Vec<ImportProblem>,
    now: OffsetDateTime,
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
                    let (line, column) = match position {
                        Some((record_line, line_rows)) => {
                            let (line, column) = locate(&error.field, *record_line, line_rows);
                            (Some(line), column)
                        }
                        None => (None, error.field.clone()),
                    };
                    problems.push(ImportProblem {
                        line,
                        column: Some(column),
                        record: Some(format!("{module} {}", error.record)),
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
pub fn import_csv(store: &Store, module: Module, text: &str, now: OffsetDateTime) -> Result<ImportReport, ImportError> {
    let parsed = parse_csv(module, text);
    let records = parsed.records.into_iter().map(|(data, line, rows)| (data, Some((line, rows)))).collect();
    import_records(store, vec![(module, records)], parsed.problems, now)
}

/// Imports a whole JSON document (`{"format": 1, "Accounts": […], …}`): all or nothing.
pub fn import_json(store: &Store, document: &Value, now: OffsetDateTime) -> Result<ImportReport, ImportError> {
    let mut problems = Vec::new();
    if document.get("format") != Some(&json!(1)) {
        problems.push(ImportProblem {
            line: None,
            column: Some("format".into()),
            record: None,
            reason: "this file is not a QuickBooks Connector export (format 1)".into(),
        });
    }
    if let Some(map) = document.as_object() {
        for key in map.keys().filter(|k| *k != "format") {
            if key.parse::<Module>().is_err() {
                problems.push(ImportProblem {
                    line: None,
                    column: Some(key.clone()),
                    record: None,
                    reason: "is not a module".into(),
                });
            }
        }
    }
    let batches = Module::ALL
        .into_iter()
        .map(|module| {
            let records = document.get(module.name()).and_then(Value::as_array).cloned().unwrap_or_default();
            (module, records.into_iter().map(|r| (r, None)).collect())
        })
        .collect();
    import_records(store, batches, problems, now)
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

    const NOW: OffsetDateTime = time::macros::datetime!(2026-11-24 12:00 UTC);

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
            ImportReport { created: 1, updated: 0 }
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
        assert_eq!(import_csv(&store, Module::Invoices, &csv, NOW).unwrap(), ImportReport { created: 0, updated: 1 });
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
}
