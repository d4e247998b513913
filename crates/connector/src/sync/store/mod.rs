//! The sync engine's tables, a file each with all of its SQL: links, journal, runs and their
//! records, cursors, conflicts, and the platform link's.

mod conflict;
mod cursor;
mod journal;
mod link;
mod remote;
mod run;

pub use conflict::*;
pub use cursor::*;
pub use journal::*;
pub use link::*;
pub use remote::*;
pub use run::*;
