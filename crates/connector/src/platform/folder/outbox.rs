//! The outbox: what a pull from QuickBooks changed, written for the platform to read.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{check_folder, stamp, subfolder, unused_name, write_whole, FolderError};
use crate::platform::exchange::records_csv;
use crate::platform::{Module, PlatformError};
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct OutboxReport {
    /// In the order written: modules in dependency order, each one's changes before its deletes.
    pub files: Vec<OutboxFile>,
    /// The change-log position the files cover up to: the cursor to pass next time.
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct OutboxFile {
    /// The file's name in `outbox/`.
    pub name: String,
    pub module: Module,
    /// A `<Module>-deleted-<stamp>.csv`: records deleted in QuickBooks.
    pub deleted: bool,
    pub records: usize,
}

/// The records a pull changed, per module: live ones, and deleted ones as they last were.
#[derive(Default)]
struct Pulled {
    live: Vec<Value>,
    deleted: Vec<Value>,
}

/// Writes the records a pull changed after change-log position `after_seq` to
/// `<folder>/outbox/`: per module that has any, `<Module>-<stamp>.csv` with its live records and
/// `<Module>-deleted-<stamp>.csv` with the ones deleted, both in the columns an export has (a
/// deleted record as it was last), the stamp being `now` in UTC (`20261124T120000Z`).
///
/// Each record is written as it is now, once, however often it changed. Files appear whole
/// (written as `.part`, then renamed). The caller keeps the returned `seq` as its cursor once
/// this returns; a crash before that writes the same changes again next time, so a reader
/// takes each row as "this record is now so", keyed by `Id`, never as an event to count.
/// Only pulled changes are written: the platform's own, imported from the inbox, are not
/// echoed back to it.
pub fn write_outbox(
    store: &Store,
    folder: &Path,
    after_seq: i64,
    now: DateTime<Utc>,
) -> Result<OutboxReport, FolderError> {
    check_folder(folder)?;
    let outbox = subfolder(folder, "outbox")?;
    let (pulled, seq) = pulled_after(store, after_seq)?;
    let stamp = stamp(now);
    let mut files = Vec::new();
    for module in Module::ALL {
        let Some(Pulled { live, deleted }) = pulled.get(&module) else { continue };
        for (records, is_deleted, stem) in
            [(live, false, format!("{module}-{stamp}")), (deleted, true, format!("{module}-deleted-{stamp}"))]
        {
            if records.is_empty() {
                continue;
            }
            let name = unused_name(&outbox, &stem, ".csv");
            write_whole(&outbox.join(&name), records_csv(module, records)?.as_bytes())?;
            files.push(OutboxFile { name, module, deleted: is_deleted, records: records.len() });
        }
    }
    Ok(OutboxReport { files, seq })
}

/// The records with a pulled change after `after_seq`, as they are now, and the last such
/// change's seq (`after_seq` when there is none). One statement, so one consistent reading.
fn pulled_after(store: &Store, after_seq: i64) -> Result<(BTreeMap<Module, Pulled>, i64), PlatformError> {
    let connection = store.connection();
    let mut statement = connection.prepare(
        "SELECT c.module, MAX(c.seq), r.data, r.deleted_at IS NOT NULL
         FROM platform_change c JOIN platform_record r ON r.module = c.module AND r.id = c.record_id
         WHERE c.seq > ?1 AND c.origin = 'pull'
         GROUP BY c.module, c.record_id ORDER BY c.module, c.record_id",
    )?;
    let rows = statement.query_map(params![after_seq], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?, row.get::<_, bool>(3)?))
    })?;
    let mut pulled: BTreeMap<Module, Pulled> = BTreeMap::new();
    let mut seq = after_seq;
    for row in rows {
        let (module, changed_at, data, deleted) = row?;
        seq = seq.max(changed_at);
        let Ok(module) = module.parse::<Module>() else { continue };
        let record = serde_json::from_str(&data).unwrap_or(Value::Null);
        let entry = pulled.entry(module).or_default();
        if deleted {
            entry.deleted.push(record);
        } else {
            entry.live.push(record);
        }
    }
    Ok((pulled, seq))
}
