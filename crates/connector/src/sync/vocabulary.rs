//! The words a run is told in: what started it, which way it went, what each record's
//! write was and how it ended, and how the run ended. Enums end to end — the store keeps
//! them as text (the edge), the UI sees them as TypeScript unions, the CLI matches on them —
//! so a misspelt word is a compile error, not a record counted as skipped.

use std::fmt;
use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

use crate::spec::MethodName;

/// One enum's words: serde, ts-rs, `as_str`, `FromStr`, `Display` and SQLite text, all from
/// one list so the spellings cannot drift apart.
macro_rules! words {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;

            fn from_str(text: &str) -> Result<Self, UnknownWord> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownWord { kind: stringify!($name), text: text.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                value.as_str()?.parse().map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }
    };
}

/// A word the store or a caller gave that names no member of the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a known {kind}")]
pub struct UnknownWord {
    pub kind: &'static str,
    pub text: String,
}

words! {
    /// Which way a run goes.
    Direction {
        Push = "push",
        Pull = "pull",
        Sync = "sync",
        /// Only reading the linked platform into the store.
        Mirror = "mirror",
    }
}

words! {
    /// What started a run.
    Trigger {
        Button = "button",
        Schedule = "schedule",
        Cli = "cli",
        Retry = "retry",
    }
}

words! {
    /// What a run is doing, for progress.
    Phase {
        /// Reading the linked platform's changes into the store.
        Mirror = "mirror",
        Push = "push",
        Pull = "pull",
        /// Writing what was pulled to the linked platform.
        WriteBack = "write_back",
    }
}

words! {
    /// How one record's turn in a run ended.
    Outcome {
        /// Written, linked, or found already as wanted.
        Ok = "ok",
        /// Refused or not mappable: the record's message says why.
        Failed = "failed",
        /// Nothing to do, or switched off.
        Skipped = "skipped",
        /// Waits on a record it depends on.
        Blocked = "blocked",
        /// Both sides changed: waits in the conflicts inbox.
        Held = "held",
    }
}

impl Outcome {
    /// Needs the operator (or another run) before the record is in step.
    pub fn is_problem(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Blocked | Outcome::Held)
    }
}

words! {
    /// What was done with one record in a run.
    RecordOp {
        Create = "create",
        Update = "update",
        Delete = "delete",
        /// Matched to an existing QuickBooks entity (or the platform id recorded).
        Link = "link",
        Skip = "skip",
        Fail = "fail",
        /// The mapping could not make a body.
        Map = "map",
        Conflict = "conflict",
        PullCreate = "pull_create",
        PullUpdate = "pull_update",
        PullDelete = "pull_delete",
        /// A platform record read into the store for the first time.
        MirrorCreate = "mirror_create",
        MirrorUpdate = "mirror_update",
        /// A platform record gone from the platform, marked deleted here.
        MirrorDelete = "mirror_delete",
        /// A pulled record created on the linked platform.
        WriteCreate = "write_create",
        WriteUpdate = "write_update",
        WriteDelete = "write_delete",
    }
}

impl From<MethodName> for RecordOp {
    fn from(method: MethodName) -> Self {
        match method {
            MethodName::PushCreate => RecordOp::Create,
            MethodName::PushUpdate => RecordOp::Update,
            MethodName::PushDelete => RecordOp::Delete,
            MethodName::PullCreate => RecordOp::PullCreate,
            MethodName::PullUpdate => RecordOp::PullUpdate,
        }
    }
}

impl RecordOp {
    /// A record brought from QuickBooks, as opposed to one sent to it.
    pub fn is_pull(self) -> bool {
        matches!(self, RecordOp::PullCreate | RecordOp::PullUpdate | RecordOp::PullDelete)
    }

    /// Between the store and the linked platform, not QuickBooks.
    pub fn is_platform(self) -> bool {
        matches!(
            self,
            RecordOp::MirrorCreate
                | RecordOp::MirrorUpdate
                | RecordOp::MirrorDelete
                | RecordOp::WriteCreate
                | RecordOp::WriteUpdate
                | RecordOp::WriteDelete
        )
    }
}

words! {
    /// How a run ended.
    RunOutcome {
        Succeeded = "succeeded",
        /// Ran to the end with records failed, waiting or held.
        FailedRecords = "failed_records",
        /// Stopped by an error that was not one record's.
        Failed = "failed",
        Cancelled = "cancelled",
        /// Its process died; closed by a later one.
        Interrupted = "interrupted",
    }
}

impl RunOutcome {
    /// The outcome as an operator reads it.
    pub fn in_words(self) -> &'static str {
        match self {
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::FailedRecords => "failed records",
            RunOutcome::Failed => "failed",
            RunOutcome::Cancelled => "cancelled",
            RunOutcome::Interrupted => "interrupted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: Copy + PartialEq + fmt::Debug + FromStr + Serialize>(all: &[T], as_str: fn(T) -> &'static str) {
        for &word in all {
            assert_eq!(as_str(word).parse::<T>().ok(), Some(word));
            assert_eq!(serde_json::to_value(word).unwrap(), serde_json::Value::from(as_str(word)));
        }
    }

    #[test]
    fn every_word_reads_back_as_itself_through_text_and_json() {
        round_trips(Direction::ALL, Direction::as_str);
        round_trips(Trigger::ALL, Trigger::as_str);
        round_trips(Phase::ALL, Phase::as_str);
        round_trips(Outcome::ALL, Outcome::as_str);
        round_trips(RecordOp::ALL, RecordOp::as_str);
        round_trips(RunOutcome::ALL, RunOutcome::as_str);
    }

    #[test]
    fn a_misspelt_word_from_the_store_is_an_error_that_names_it() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let read: rusqlite::Result<Outcome> = db.query_row("SELECT 'fialed'", [], |row| row.get(0));
        let error = read.unwrap_err().to_string();
        assert!(error.contains("\"fialed\" is not a known Outcome"), "{error}");
        let read: Outcome = db.query_row("SELECT ?1", [Outcome::Held], |row| row.get(0)).unwrap();
        assert_eq!(read, Outcome::Held);
    }

    #[test]
    fn pulls_and_problems_are_told_by_the_word() {
        assert!(RecordOp::PullDelete.is_pull() && !RecordOp::Create.is_pull());
        let problems: Vec<_> = Outcome::ALL.iter().copied().filter(|o| o.is_problem()).collect();
        assert_eq!(problems, [Outcome::Failed, Outcome::Blocked, Outcome::Held]);
    }
}
