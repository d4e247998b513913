//! What a run will do, decided as pure data from what each side looks like, before any
//! write: the push's operations and the pull's steps. Table-tested without a store or a
//! server.

mod pull;
mod push;

pub use pull::{plan_pull, pull_read, PullRead, PullSkip, PullStep, PullSwitches, PulledChange};
pub use push::*;
