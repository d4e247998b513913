//! What every command prints the same way: a value as JSON or as text, a run's summary, and
//! how the process ends.
//!
//! Exit codes: 0 done; 1 failed (QuickBooks or storage); 2 wrong usage; 3 invalid input (a field,
//! a row, a rule: the message says which); 4 not found; 5 conflict; 6 the company must be
//! connected (again); 7 a sync of the instance is already running; 8 a run finished but records
//! need attention; 9 the linked platform failed or could not be reached; 10 the linked platform
//! refused the sign-in (or its link lacks a setting).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use connector::error::{ApiError, ErrorCode};
use connector::sync::store::Counts;
use connector::sync::{RunOutcome, RunSummary};
use serde::Serialize;
use serde_json::Value;

/// How a command that ran to its end went: a run with records that failed, wait or are held
/// ends with its own exit code, so a scheduled job can tell it from a clean run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    Done,
    RecordsNeedAttention,
}

impl Finished {
    pub fn of(summary: &RunSummary) -> Finished {
        if summary.outcome == RunOutcome::FailedRecords {
            Finished::RecordsNeedAttention
        } else {
            Finished::Done
        }
    }
}

/// The exit code of a run whose records need attention (README: exit codes).
const EXIT_RECORDS_NEED_ATTENTION: u8 = 8;

fn exit_code(error: &ApiError) -> u8 {
    match error.code {
        ErrorCode::QuickBooks | ErrorCode::Storage => 1,
        ErrorCode::Validation => 3,
        ErrorCode::NotFound => 4,
        ErrorCode::Conflict => 5,
        ErrorCode::ReconnectRequired => 6,
        ErrorCode::Busy => 7,
        ErrorCode::Platform => 9,
        ErrorCode::PlatformSignIn => 10,
    }
}

/// Prints a value as JSON, or as the text `human` gives.
pub fn show<T: Serialize + ?Sized>(json: bool, value: &T, human: impl FnOnce() -> String) {
    if json {
        println!("{}", pretty(&to_value(value)));
    } else {
        println!("{}", human());
    }
}

pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

pub fn pretty<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A table's column: its header, and whether its cells are counts, right-aligned so that
/// they line up by their last digit.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    header: &'static str,
    count: bool,
}

/// A column of words.
pub const fn col(header: &'static str) -> Column {
    Column { header, count: false }
}

/// A column of counts.
pub const fn num(header: &'static str) -> Column {
    Column { header, count: true }
}

/// How a table is drawn: at a terminal, a rule under the header and the cells fitted to its
/// width; anywhere else (a pipe, a log, a test) plain columns, no box-drawing, no wrapping,
/// so a line stays whole for grep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Terminal { width: u16 },
    Plain,
}

impl Layout {
    fn of_stdout() -> Layout {
        let stdout = console::Term::stdout();
        match stdout.size_checked() {
            Some((_, width)) if stdout.is_term() => Layout::Terminal { width },
            _ => Layout::Plain,
        }
    }
}

/// A row an item under a header row, or `none` in their place when there are none. A cell
/// may hold several lines (a record's message under its id).
pub fn table<I: IntoIterator>(
    columns: &[Column],
    items: I,
    none: &str,
    row: impl FnMut(I::Item) -> Vec<String>,
) -> String {
    render(columns, items.into_iter().map(row).collect(), none, Layout::of_stdout())
}

fn render(columns: &[Column], rows: Vec<Vec<String>>, none: &str, layout: Layout) -> String {
    use comfy_table::{CellAlignment, ContentArrangement, TableComponent};

    if rows.is_empty() {
        return none.to_owned();
    }
    let mut table = comfy_table::Table::new();
    match layout {
        Layout::Terminal { width } => {
            // Only the header's rule: boxes around every cell crowd a list of records.
            table.load_preset(comfy_table::presets::NOTHING);
            table.set_style(TableComponent::HeaderLines, '─');
            table.set_content_arrangement(ContentArrangement::Dynamic).set_width(width);
        }
        Layout::Plain => {
            table.load_preset(comfy_table::presets::NOTHING);
        }
    }
    table.set_header(columns.iter().map(|c| c.header));
    table.add_rows(rows);
    let last = columns.len().saturating_sub(1);
    for (index, (column, spec)) in table.column_iter_mut().zip(columns).enumerate() {
        // Two spaces between columns, none before the first nor after the last (the header's
        // rule ends where the table does), as hand-aligned text had.
        column.set_padding((0, if index == last { 0 } else { 2 }));
        if spec.count {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table.trim_fmt()
}

/// One line an item, or `none` in their place when there are none.
pub fn lines<I: IntoIterator>(items: I, none: &str, line: impl FnMut(I::Item) -> String) -> String {
    let mut lines = items.into_iter().map(line).peekable();
    if lines.peek().is_none() {
        return none.to_owned();
    }
    lines.collect::<Vec<_>>().join("\n")
}

/// Prints what a run did; its records decide how the process ends.
pub fn run_summary(json: bool, summary: &RunSummary) -> Finished {
    show(json, summary, || describe_summary(summary));
    Finished::of(summary)
}

fn describe_summary(summary: &RunSummary) -> String {
    let heading = format!("Run #{}: {}", summary.run_id, summary.outcome.in_words());
    match counts_table(&summary.counts) {
        counts if counts.is_empty() => heading,
        counts => format!("{heading}\n{counts}"),
    }
}

/// A run's records module by module, as the run summary and the demo print them.
pub fn counts_table(counts: &BTreeMap<String, Counts>) -> String {
    let columns = [col("MODULE"), num("DONE"), num("FAILED"), num("WAITING"), num("HELD"), num("SKIPPED")];
    table(&columns, counts, "", |(module, c)| {
        vec![
            module.clone(),
            c.ok.to_string(),
            c.failed.to_string(),
            c.blocked.to_string(),
            c.held.to_string(),
            c.skipped.to_string(),
        ]
    })
}

pub fn write_out(out: Option<PathBuf>, text: &str) -> Result<(), ApiError> {
    match out {
        Some(path) => std::fs::write(&path, text)
            .map_err(|e| ApiError::new(ErrorCode::Storage, format!("cannot write {}: {e}", path.display()))),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// How the process ends after a command: its exit code, and an error on stderr (as JSON for
/// scripts that asked for it).
pub fn exit(json: bool, result: Result<Finished, ApiError>) -> ExitCode {
    match result {
        Ok(Finished::Done) => ExitCode::SUCCESS,
        Ok(Finished::RecordsNeedAttention) => ExitCode::from(EXIT_RECORDS_NEED_ATTENTION),
        Err(error) => {
            if json {
                eprintln!("{}", serde_json::to_string(&error).unwrap_or_default());
            } else {
                eprintln!("error: {error}");
            }
            ExitCode::from(exit_code(&error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter().map(|r| r.iter().map(|c| (*c).to_owned()).collect()).collect()
    }

    #[test]
    fn a_table_has_a_header_row_and_aligned_columns_counts_by_their_last_digit() {
        let columns = [col("MODULE"), num("DONE"), col("NOTE")];
        let text = render(&columns, rows(&[&["Accounts", "3", "fine"], &["Invoices", "120", ""]]), "-", Layout::Plain);
        assert_eq!(text, "MODULE    DONE  NOTE\nAccounts     3  fine\nInvoices   120");
    }

    #[test]
    fn a_cell_of_several_lines_keeps_the_columns_before_it_blank() {
        let columns = [col("RECORD"), col("MESSAGE")];
        let text = render(&columns, rows(&[&["BAD-1", "no colons\n(code 6000)"], &["GOOD-1", ""]]), "-", Layout::Plain);
        assert_eq!(text, "RECORD  MESSAGE\nBAD-1   no colons\n        (code 6000)\nGOOD-1");
    }

    #[test]
    fn no_rows_print_the_words_the_command_has_for_none() {
        assert_eq!(render(&[col("ID")], Vec::new(), "No records.", Layout::Plain), "No records.");
        assert_eq!(table(&[col("ID")], Vec::<String>::new(), "No conflicts.", |id| vec![id]), "No conflicts.");
    }

    #[test]
    fn at_a_terminal_a_rule_is_under_the_header_and_long_cells_wrap_to_its_width() {
        let columns = [col("ID"), col("MESSAGE")];
        let long = "the customer's name may not contain a colon, QuickBooks says";
        let text = render(&columns, rows(&[&["BAD-1", long]]), "-", Layout::Terminal { width: 40 });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID     MESSAGE");
        assert!(lines[1].chars().all(|c| c == '─'), "{text}");
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{text}");
        assert!(lines.len() > 3, "the message wraps: {text}");
        assert!(lines[2].starts_with("BAD-1  the"), "{text}");
    }
}
