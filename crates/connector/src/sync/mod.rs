//! The sync engine: plan → journal → execute → record, for pushes and pulls.

mod conflict;
pub mod dry_run;
pub mod engine;
mod journal;
pub mod linked;
mod matching;
mod outcome;
pub mod plan;
pub mod problems;
mod pull;
mod push;
pub mod schedule;
pub mod store;
pub mod vocabulary;

pub use dry_run::{field_changes, FieldChange, PlanView};
pub use engine::{ConflictPolicy, Engine, Progress, RunSummary, SyncRequest};
pub use problems::{group_problems, ProblemFix, ProblemGroup};
pub use schedule::{
    Cadence, ClockTime, QuietHours, RunObserver, Schedule, ScheduleView, ScheduledOutcome, ScheduledRun,
};
pub use vocabulary::{Direction, Outcome, Phase, RecordOp, RunOutcome, Trigger, UnknownWord};
