//! Where the connector keeps its files.
//!
//! The operator's data lives in the platform's app-data directory; a flag or the
//! `QBCONNECTOR_DATA_DIR` environment variable points elsewhere (tests always do).

use std::path::PathBuf;

/// Environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "QBCONNECTOR_DATA_DIR";
/// The SQLite file inside the data directory.
pub const DATABASE_FILE: &str = "qbconnector.sqlite";

/// The data directory: `explicit` if given, else `$QBCONNECTOR_DATA_DIR`, else the
/// platform's app-data directory (`~/.local/share/qbconnector` on Linux).
pub fn data_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit
        .or_else(|| std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()).map(PathBuf::from))
        .or_else(|| dirs::data_dir().map(|dir| dir.join("qbconnector")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_directory_wins() {
        let explicit = PathBuf::from("/tmp/somewhere");
        assert_eq!(data_dir(Some(explicit.clone())), Some(explicit));
    }
}
