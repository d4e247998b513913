//! The sync engine: plan → journal → execute → record, for pushes and pulls.

pub mod engine;
pub mod plan;
pub mod schedule;
pub mod store;

pub use engine::{ConflictPolicy, Direction, Engine, PlanView, Progress, RunSummary, SyncRequest, Trigger};
pub use schedule::{
    Cadence, ClockTime, QuietHours, RunObserver, Schedule, ScheduleView, ScheduledOutcome, ScheduledRun,
};
