//! What every command prints the same way: a value as JSON or as text, a run's summary, and
//! how the process ends.
//!
//! Exit codes: 0 done; 1 failed (QuickBooks or storage); 2 wrong usage; 3 invalid input (a field,
//! a row, a rule: the message says which); 4 not found; 5 conflict; 6 the company must be
//! connected (again); 7 a sync of the instance is already running; 8 a run finished but records
//! need attention; 9 the linked platform failed or could not be reached; 10 the linked platform
//! refused the sign-in (or its link lacks a setting).

use std::path::PathBuf;
use std::process::ExitCode;

use connector::error::{ApiError, ErrorCode};
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
    let mut text = format!("Run #{}: {}", summary.run_id, summary.outcome.in_words());
    for (module, c) in &summary.counts {
        text.push_str(&format!(
            "\n  {module:<10} {} done, {} failed, {} waiting on others, {} held, {} skipped",
            c.ok, c.failed, c.blocked, c.held, c.skipped
        ));
    }
    text
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
