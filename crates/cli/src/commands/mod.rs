//! One module a command group; each calls the connector's API and prints what it returns.

pub mod conflicts;
pub mod connection;
pub mod demo;
pub mod instances;
pub mod lookups;
pub mod platform;
pub mod records;
pub mod schedule;
pub mod spec;
pub mod sync;

use std::path::PathBuf;

use connector::error::{ApiError, ErrorCode};

/// A file's bytes; only a file that cannot be read at all is "not found": what it holds
/// is the importer's to judge (and to name the line of).
pub fn read_bytes(path: &PathBuf) -> Result<Vec<u8>, ApiError> {
    std::fs::read(path).map_err(|e| ApiError::new(ErrorCode::NotFound, format!("cannot read {}: {e}", path.display())))
}
