//! The sandbox's records in a file (`BssConfig::data_file`), so a sandbox started again
//! on the same file is the same platform: its records under the same ids, the next id
//! after the last one handed out, and a clock that goes on rather than back. A client
//! that mirrors it (the app's demo) then meets no "new" records after a restart.
//!
//! The whole store is written after every write, to a temporary file renamed over the
//! old one: a crash leaves the old file or the new one, never half of either. That costs
//! a full write per change, which suits the demo's few hundred records, not a benchmark.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::{from_millis, Clock, Millis};
use crate::store::Store;

/// The file's format; a file of another is refused rather than half understood.
const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SavedStore {
    /// Where the seeded GUID draw stands (a u128, as text: JSON numbers stop short of it).
    pub guid_position: String,
    /// By kind path (`accounts`).
    pub tables: BTreeMap<String, SavedTable>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SavedTable {
    pub last_int_id: i64,
    pub last_number: u64,
    /// Each record as `GET /api/{kind}/{id}` answers it.
    pub records: Vec<Value>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedFile {
    format: u32,
    /// Sandbox time and wall-clock time at the save: a restart goes on from this pair.
    sandbox_ms: Millis,
    wall_ms: Millis,
    #[serde(flatten)]
    store: SavedStore,
}

/// Where the records are kept, and the clock whose time goes with them.
pub(crate) struct DataFile {
    path: PathBuf,
}

impl DataFile {
    pub fn new(path: PathBuf) -> DataFile {
        DataFile { path }
    }

    /// The store and clock the file kept, or none when there is no file yet. The clock
    /// continues the saved one as if it had run meanwhile at `time_scale`, and never
    /// starts before the newest record's time.
    pub fn load(&self, seed: u64, time_scale: f64) -> Result<Option<(Store, Clock)>, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(format!("cannot read {}: {error}", self.path.display())),
        };
        let saved: SavedFile = serde_json::from_str(&text)
            .map_err(|error| format!("{} is not a sandbox data file: {error}", self.path.display()))?;
        if saved.format != FORMAT {
            return Err(format!("{} is format {}, this sandbox reads {FORMAT}", self.path.display(), saved.format));
        }
        let store =
            Store::from_saved(seed, &saved.store).map_err(|error| format!("{}: {error}", self.path.display()))?;
        let elapsed = (Utc::now().timestamp_millis() - saved.wall_ms).max(0) as f64 * time_scale;
        let resumed = saved.sandbox_ms + elapsed as Millis;
        let start = resumed.max(store.newest_stamp().map_or(resumed, |newest| newest + 1));
        Ok(Some((store, Clock::starting_at(from_millis(start), time_scale))))
    }

    pub fn save(&self, store: &Store, clock: &Clock) -> Result<(), String> {
        let saved = SavedFile {
            format: FORMAT,
            sandbox_ms: clock.now_ms(),
            wall_ms: Utc::now().timestamp_millis(),
            store: store.to_saved(),
        };
        let text = serde_json::to_vec(&saved).map_err(|error| error.to_string())?;
        write_whole(&self.path, &text).map_err(|error| format!("cannot write {}: {error}", self.path.display()))
    }
}

/// Writes `path` so that it is always either its old content or all of the new.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    // On disk before the rename makes it the file: a power cut must not leave it empty.
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)
}
