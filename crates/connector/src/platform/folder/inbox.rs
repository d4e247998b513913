//! The inbox: files the platform drops, imported one at a time, each whole or not at all.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{check_folder, io_error, split_extension, stamp, subfolder, unused_name, write_whole, FolderError};
use crate::platform::exchange::{
    csv_text, import_csv_with, import_json_with, Ids, ImportError, ImportProblem, ImportReport,
};
use crate::platform::{Module, PlatformError};
use crate::store::Store;

/// What became of each file found in the inbox, in the order they were taken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct InboxReport {
    pub files: Vec<InboxFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct InboxFile {
    /// The file's name in the inbox.
    pub name: String,
    /// The module its name gives; none for a whole export (a JSON document of every module)
    /// and for a name that gives none.
    pub module: Option<Module>,
    pub outcome: InboxOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum InboxOutcome {
    /// Written to the store, and the file moved to `imported/<moved_to>`.
    Imported { report: ImportReport, moved_to: String },
    /// Nothing written; the file moved to `rejected/<moved_to>`, with `rejected/<report_file>`
    /// saying what to correct.
    Rejected { problems: Vec<ImportProblem>, moved_to: String, report_file: String },
    /// Left in the inbox untouched: not a kind of file the folder link reads, or still being
    /// written.
    Ignored { reason: String },
}

/// The module a file's name gives: the module's name (any case) at its start, followed by the
/// end of the name or by something other than a letter or digit (`Accounts.csv`,
/// `accounts-2026-12-01.csv`, `Invoices_batch7.json`; not `AccountsOld.csv`).
pub fn module_named(file_name: &str) -> Option<Module> {
    let lower = split_extension(file_name).0.to_lowercase();
    Module::ALL.into_iter().find(|module| {
        lower
            .strip_prefix(&module.name().to_lowercase())
            .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
    })
}

const NAMING: &str = "a file's name must start with the name of the module it holds (Accounts, Contacts, Products, \
                      Invoices, Orders or Payments, in any case), as in Accounts.csv, accounts-2026-12-01.csv or \
                      Invoices_batch7.json";

#[derive(Clone, Copy)]
enum FileKind {
    Csv,
    Json,
}

/// Why a file is left in the inbox unread.
enum Skip {
    /// Hidden files and office programs' lock files: the operator never meant them.
    Silently,
    Reported(String),
}

fn classify(name: &str) -> Result<FileKind, Skip> {
    let lower = name.to_lowercase();
    // `~$name` is the lock file a spreadsheet program keeps beside a file it has open.
    if lower.starts_with('.') || lower.starts_with("~$") {
        return Err(Skip::Silently);
    }
    if lower.ends_with(".part") || lower.ends_with(".tmp") {
        return Err(Skip::Reported(
            "still being written: it is read once it is renamed to a name ending in .csv or .json".into(),
        ));
    }
    match split_extension(&lower).1 {
        ".csv" => Ok(FileKind::Csv),
        ".json" => Ok(FileKind::Json),
        _ => Err(Skip::Reported("not a CSV or JSON file; left where it is".into())),
    }
}

/// Imports the files in `<folder>/inbox/`, each whole or not at all, and moves each out:
/// to `imported/` once its import has committed, or to `rejected/` with a report beside it.
///
/// Files are taken in module order (Accounts, Contacts, Products, Invoices, Orders, Payments;
/// whole exports first), and in name order within a module, so that invoices dropped together
/// with the products they sell find them. A file is never read half-written if its writer
/// writes it as `<name>.part` (or `.tmp`) and renames it when it is complete: such names, hidden
/// ones (`.name`) and spreadsheet lock files (`~$name`) are skipped. A JSON file holding a whole
/// export (`{"format": 1, …}`) may have any name. Every record must carry its `Id`: a crash
/// after an import and before its file's move means the file is read again next time, and then
/// finds its records as they are and writes nothing.
///
/// A file the store could not take for want of the database is left in the inbox and the run
/// stops with [`FolderError::Importing`]; a file's own problems never stop the run.
pub fn import_inbox(store: &Store, folder: &Path, now: DateTime<Utc>) -> Result<InboxReport, FolderError> {
    check_folder(folder)?;
    let inbox = subfolder(folder, "inbox")?;
    let listing = std::fs::read_dir(&inbox).map_err(io_error(format!("could not list {}", inbox.display())))?;
    let mut names = Vec::new();
    let mut unnamed = Vec::new();
    for entry in listing {
        let entry = entry.map_err(io_error(format!("could not list {}", inbox.display())))?;
        if entry.path().is_file() {
            match entry.file_name().into_string() {
                Ok(name) => names.push(name),
                // Its name as shown would not find it again: it could be neither read nor moved.
                Err(name) => unnamed.push(InboxFile {
                    name: name.to_string_lossy().into_owned(),
                    module: None,
                    outcome: InboxOutcome::Ignored { reason: "its name is not valid text; rename it".into() },
                }),
            }
        }
    }
    // Modules refer only to modules before them (invoices to products): taken in that order,
    // files dropped together find what they refer to.
    let rank =
        |name: &str| module_named(name).and_then(|m| Module::ALL.iter().position(|n| *n == m)).map_or(0, |i| i + 1);
    names.sort_by(|a, b| (rank(a), a).cmp(&(rank(b), b)));

    let mut report = InboxReport::default();
    for name in names {
        report.files.extend(take(store, folder, &inbox, name, now)?);
    }
    report.files.extend(unnamed);
    Ok(report)
}

/// Imports one file and moves it out; `None` for a file not worth a mention.
fn take(
    store: &Store,
    folder: &Path,
    inbox: &Path,
    name: String,
    now: DateTime<Utc>,
) -> Result<Option<InboxFile>, FolderError> {
    let module = module_named(&name);
    let ignored =
        |name: String, reason: String| Some(InboxFile { name, module, outcome: InboxOutcome::Ignored { reason } });
    let kind = match classify(&name) {
        Ok(kind) => kind,
        Err(Skip::Silently) => return Ok(None),
        Err(Skip::Reported(reason)) => return Ok(ignored(name, reason)),
    };
    let bytes = match std::fs::read(inbox.join(&name)) {
        Ok(bytes) => bytes,
        Err(error) => return Ok(ignored(name, format!("could not be read ({error}); it is tried again next time"))),
    };
    let (module, result) = import_file(store, kind, module, &bytes, now)
        .map_err(|source| FolderError::Importing { file: inbox.join(&name), source })?;
    let outcome = match result {
        Ok(report) => InboxOutcome::Imported { report, moved_to: move_out(folder, inbox, &name, "imported", now)? },
        Err(problems) => reject(folder, inbox, &name, problems, now)?,
    };
    Ok(Some(InboxFile { name, module, outcome }))
}

fn problem(reason: String) -> ImportProblem {
    ImportProblem { line: None, path: None, column: None, record: None, reason }
}

/// The module a file turned out to hold, and what its import wrote or why it wrote nothing.
type Taken = (Option<Module>, Result<ImportReport, Vec<ImportProblem>>);

/// Imports one file's bytes: the module it turned out to hold, and its report or its problems.
/// Only a store that cannot be written is an error: the file then stays for the next run.
fn import_file(
    store: &Store,
    kind: FileKind,
    module: Option<Module>,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<Taken, PlatformError> {
    let refused = |reason: String| vec![problem(reason)];
    let result = match kind {
        FileKind::Csv => {
            let Some(module) = module else { return Ok((None, Err(refused(NAMING.into())))) };
            csv_text(bytes).and_then(|text| import_csv_with(store, module, text, Ids::Required, now))
        }
        FileKind::Json => {
            let document: Value = match serde_json::from_slice(bytes) {
                Ok(document) => document,
                Err(error) => return Ok((module, Err(refused(format!("is not JSON that can be read: {error}"))))),
            };
            match (document, module) {
                (Value::Object(map), _) if map.contains_key("format") => {
                    return finish(None, import_json_with(store, &Value::Object(map), Ids::Required, now));
                }
                (Value::Array(records), Some(module)) => {
                    let mut document = Map::new();
                    document.insert("format".into(), Value::from(1));
                    document.insert(module.name().into(), Value::Array(records));
                    import_json_with(store, &Value::Object(document), Ids::Required, now)
                }
                (Value::Array(_), None) => {
                    return Ok((
                        None,
                        Err(refused(format!("a list of records names its module by the file's name: {NAMING}"))),
                    ));
                }
                (_, module) => {
                    let kind = module.map_or("a module's".to_owned(), |module| format!("{module}"));
                    return Ok((
                        module,
                        Err(refused(format!(
                            "a JSON file in the inbox is either a list of {kind} records ([{{…}}, …]) or a whole \
                             export ({{\"format\": 1, \"Accounts\": […], …}}); this one is neither"
                        ))),
                    ));
                }
            }
        }
    };
    finish(module, result)
}

fn finish(module: Option<Module>, result: Result<ImportReport, ImportError>) -> Result<Taken, PlatformError> {
    match result {
        Ok(report) => Ok((module, Ok(report))),
        Err(ImportError::Problems(problems)) => Ok((module, Err(problems))),
        Err(ImportError::Store(PlatformError::Database(error))) => Err(PlatformError::Database(error)),
        // Checked before writing yet refused while writing: still the file's fault, and a file
        // left in the inbox would be refused again on every run.
        Err(ImportError::Store(other)) => Ok((module, Err(vec![problem(other.to_string())]))),
    }
}

/// Moves `inbox/name` to `<to>/`, under its own name or, when that is taken, stamped with
/// `now`; the name it now has.
fn move_out(folder: &Path, inbox: &Path, name: &str, to: &str, now: DateTime<Utc>) -> Result<String, FolderError> {
    let target = target_name(folder, name, to, now)?;
    let dir = folder.join(to);
    std::fs::rename(inbox.join(name), dir.join(&target)).map_err(io_error(format!(
        "{name} could not be moved from {} to {} (if it was imported, reading it again next time changes nothing)",
        inbox.display(),
        dir.display()
    )))?;
    Ok(target)
}

fn target_name(folder: &Path, name: &str, to: &str, now: DateTime<Utc>) -> Result<String, FolderError> {
    let dir = subfolder(folder, to)?;
    if !dir.join(name).exists() {
        return Ok(name.to_owned());
    }
    let (stem, extension) = split_extension(name);
    Ok(unused_name(&dir, &format!("{stem}.{}", stamp(now)), extension))
}

/// Writes the report first: a crash before the move leaves the file in the inbox, to be refused
/// again, never a refused file without its reasons.
fn reject(
    folder: &Path,
    inbox: &Path,
    name: &str,
    problems: Vec<ImportProblem>,
    now: DateTime<Utc>,
) -> Result<InboxOutcome, FolderError> {
    let target = target_name(folder, name, "rejected", now)?;
    let report_file = format!("{target}.report.txt");
    write_whole(&folder.join("rejected").join(&report_file), report_text(name, &problems, now).as_bytes())?;
    let moved_to = move_out(folder, inbox, name, "rejected", now)?;
    Ok(InboxOutcome::Rejected { problems, moved_to, report_file })
}

/// A problem as an operator reads it: `Row 3, field IsTaxable (Accounts A2): must be …`.
fn described(problem: &ImportProblem) -> String {
    let mut place = Vec::new();
    if let Some(line) = problem.line {
        place.push(format!("row {line}"));
    }
    if let Some(path) = &problem.path {
        place.push(format!("at {path}"));
    }
    if let Some(column) = &problem.column {
        place.push(format!("field {column}"));
    }
    let mut text = place.join(", ");
    if let Some(record) = &problem.record {
        text = if text.is_empty() { record.clone() } else { format!("{text} ({record})") };
    }
    if !text.is_empty() {
        text.push_str(": ");
    }
    text.push_str(&problem.reason);
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn report_text(name: &str, problems: &[ImportProblem], now: DateTime<Utc>) -> String {
    let count = match problems.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    };
    let mut text = format!(
        "{name} was not imported: nothing in it was written.\n{count} found on {}:\n\n",
        now.format("%Y-%m-%d at %H:%M:%S UTC")
    );
    for problem in problems {
        text.push_str(&format!("- {}\n", described(problem)));
    }
    if problems.iter().any(|p| p.line.is_some()) {
        text.push_str("\nRows are counted as a spreadsheet shows them: the header is row 1.");
    }
    text.push_str(
        "\nCorrect the file (or its name) and put it in the inbox again, written under a name ending in .part and \
         renamed when it is complete.\n",
    );
    text
}
