//! The sync engine: plan → journal → execute → record, for pushes and pulls.

mod conflict;
pub mod dry_run;
pub mod engine;
mod journal;
mod matching;
mod outcome;
pub mod plan;
mod pull;
mod push;
pub mod schedule;
pub mod store;

pub use dry_run::{field_changes, FieldChange, PlanView};
pub use engine::{ConflictPolicy, Direction, Engine, Progress, RunSummary, SyncRequest, Trigger};
pub use schedule::{
    Cadence, ClockTime, QuietHours, RunObserver, Schedule, ScheduleView, ScheduledOutcome, ScheduledRun,
};
