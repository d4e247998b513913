//! The sync engine's tables, a file each with all of its SQL: links, journal, runs and their
//! records, cursors, conflicts.

mod conflict;
mod cursor;
mod journal;
mod link;
mod run;

pub use conflict::*;
pub use cursor::*;
pub use journal::*;
pub use link::*;
pub use run::*;
