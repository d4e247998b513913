//! The folder link: how a platform without an API trades records with the connector.
//!
//! The platform and the connector share one folder:
//!
//! - `inbox/`: the platform drops CSV or JSON files here; each is imported whole or not at
//!   all ([`import_inbox`]);
//! - `imported/`: where an imported file goes, under its own name;
//! - `rejected/`: where a refused file goes, with `<name>.report.txt` beside it saying, row by
//!   row and field by field, what to correct;
//! - `outbox/`: what a pull from QuickBooks changed, one CSV per module ([`write_outbox`]).
//!
//! Neither side reads a file the other is still writing: each writes `<name>.part` and renames
//! it to `<name>` once it is complete, and each skips names ending in `.part`.

mod inbox;
mod outbox;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::PlatformError;

pub use inbox::{import_inbox, module_named, InboxFile, InboxOutcome, InboxReport};
pub use outbox::{write_outbox, OutboxFile, OutboxReport};

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("the watched folder {} does not exist (or is not a folder)", .0.display())]
    Missing(PathBuf),
    /// `doing` names the file and what was being done with it.
    #[error("{doing}: {source}")]
    Io {
        doing: String,
        #[source]
        source: std::io::Error,
    },
    /// The store failed, not the file: it is left to be read again.
    #[error("{} stays in the inbox for the next run, as the store could not take it: {source}", file.display())]
    Importing {
        file: PathBuf,
        #[source]
        source: PlatformError,
    },
    #[error("the connector's store: {0}")]
    Store(#[from] PlatformError),
}

fn io_error(doing: impl Into<String>) -> impl FnOnce(std::io::Error) -> FolderError {
    let doing = doing.into();
    move |source| FolderError::Io { doing, source }
}

fn check_folder(folder: &Path) -> Result<(), FolderError> {
    if folder.is_dir() {
        Ok(())
    } else {
        Err(FolderError::Missing(folder.to_owned()))
    }
}

/// `folder/name`, made if it is not there yet.
fn subfolder(folder: &Path, name: &str) -> Result<PathBuf, FolderError> {
    let path = folder.join(name);
    std::fs::create_dir_all(&path).map_err(io_error(format!("could not make the folder {}", path.display())))?;
    Ok(path)
}

/// A UTC time as it can stand in a file name on any system (no colons).
fn stamp(now: DateTime<Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
}

/// `name` split before its extension's dot: `("Accounts", ".csv")`.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 => name.split_at(dot),
        _ => (name, ""),
    }
}

/// `dir/<stem><extension>`, or `<stem>-2<extension>`, `-3`… when that is taken: nothing the
/// connector writes replaces a file already there.
fn unused_name(dir: &Path, stem: &str, extension: &str) -> String {
    let mut name = format!("{stem}{extension}");
    let mut n = 2;
    while dir.join(&name).exists() {
        name = format!("{stem}-{n}{extension}");
        n += 1;
    }
    name
}

/// Writes `path` whole or not at all: a reader that skips `.part` files never sees half of it.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), FolderError> {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let written = std::fs::File::create(&part)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            // On disk before the rename, so a crash cannot leave a complete name with missing content.
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&part, path));
    written.map_err(|source| {
        let _ = std::fs::remove_file(&part);
        FolderError::Io { doing: format!("could not write {}", path.display()), source }
    })
}

#[cfg(test)]
mod tests;
