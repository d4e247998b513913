//! A run's work with a watched folder: the inbox's files are imported before the push, and
//! what the pull changed is written to the outbox after it. Each file the inbox held is a
//! line of the run's record, so History says which files were taken and which refused.

use std::path::Path;

use super::super::engine::{storage, Engine};
use super::super::store::{self as db, RecordOutcome};
use super::super::vocabulary::{Outcome, RecordOp};
use crate::error::{ApiError, ErrorCode};
use crate::platform::folder::{import_inbox, write_outbox, InboxOutcome};

/// The name a folder's cursors are kept under beside REST platforms' addresses.
pub fn folder_key(folder: &Path) -> String {
    format!("folder:{}", folder.display())
}

const WRITTEN: &str = "written";

fn folder_failed(error: crate::platform::folder::FolderError) -> ApiError {
    ApiError::new(ErrorCode::Platform, format!("the watched folder: {error}"))
}

impl Engine<'_> {
    pub(in crate::sync) fn read_inbox(&mut self, folder: &Path) -> Result<(), ApiError> {
        let report = import_inbox(self.store, folder, self.now()).map_err(folder_failed)?;
        for file in report.files {
            let module = file.module.map_or("(no module)", |m| m.name());
            let (outcome, message) = match &file.outcome {
                InboxOutcome::Imported { report, moved_to } => (Outcome::Ok, format!("{report}; moved to imported/{moved_to}")),
                InboxOutcome::Rejected { problems, moved_to, report_file } => (
                    Outcome::Failed,
                    format!(
                        "refused ({} problem{}, the first: {}); moved to rejected/{moved_to}, what to correct is in rejected/{report_file}",
                        problems.len(),
                        if problems.len() == 1 { "" } else { "s" },
                        problems.first().map(|p| p.reason.as_str()).unwrap_or("unreadable")
                    ),
                ),
                InboxOutcome::Ignored { .. } => continue,
            };
            let mut recorded = RecordOutcome::new(module, &file.name, RecordOp::MirrorCreate, outcome);
            recorded.message = Some(message);
            self.record(recorded)?;
        }
        Ok(())
    }

    pub(in crate::sync) fn write_outbox(&mut self, folder: &Path) -> Result<(), ApiError> {
        let key = folder_key(folder);
        let after = db::platform_cursor(&self.store.connection(), &key, WRITTEN)
            .map_err(storage)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let report = write_outbox(self.store, folder, after, self.now()).map_err(folder_failed)?;
        for file in &report.files {
            let op = if file.deleted { RecordOp::WriteDelete } else { RecordOp::WriteUpdate };
            let mut recorded = RecordOutcome::new(file.module.name(), &file.name, op, Outcome::Ok);
            recorded.message = Some(format!(
                "{} record{} written to the outbox",
                file.records,
                if file.records == 1 { "" } else { "s" }
            ));
            self.record(recorded)?;
        }
        db::set_platform_cursor(&self.store.connection(), &key, WRITTEN, &report.seq.to_string()).map_err(storage)
    }
}
