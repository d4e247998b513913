//! The platform side of the sync: the business's own records, in the local store.
//!
//! Records are kept as JSON in one table (one schema in code validates them, so a
//! new field needs no migration), with a `title` column for fast search and a change
//! log the sync engine reads: every create, update and soft delete writes its change
//! row in the same transaction as the record.

pub mod demo;
pub mod exchange;
pub mod folder;
pub mod link;
pub mod profile;
pub mod rest;
pub mod schema;

use chrono::{DateTime, Utc};
use qbo::rfc3339::format as timestamp;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use schema::{FieldError, Module};

use crate::store::Store;

/// Where a change came from: the sync engine does not push back what it pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Local,
    Pull,
    Import,
    /// Read from the linked platform (a REST API or a folder) into the mirror.
    Platform,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Local => "local",
            Origin::Pull => "pull",
            Origin::Import => "import",
            Origin::Platform => "platform",
        }
    }

    fn parse(text: &str) -> Origin {
        match text {
            "pull" => Origin::Pull,
            "import" => Origin::Import,
            "platform" => Origin::Platform,
            _ => Origin::Local,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Create,
    Update,
    Delete,
}

/// A stored record with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Record {
    pub module: Module,
    pub id: String,
    pub data: Value,
    /// Counts changes; an update must name the version it read.
    pub version: i64,
    pub deleted: bool,
}

/// One row of the change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Change {
    pub seq: i64,
    pub module: Module,
    pub record_id: String,
    pub kind: ChangeKind,
    pub origin: Origin,
    pub version: i64,
    pub at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("{} invalid field{}: {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{module} {id} does not exist")]
    NotFound { module: Module, id: String },
    #[error("{module} {id} already exists")]
    Exists { module: Module, id: String },
    #[error("{module} {id} was changed by someone else (you read version {read}, it is now at {current}); reload it and try again")]
    Stale { module: Module, id: String, read: i64, current: i64 },
    #[error("{module} {id} is still used by {used_by}")]
    InUse { module: Module, id: String, used_by: String },
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
}

fn title_of(module: Module, data: &Value) -> String {
    let field = |name: &str| data.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    match module {
        Module::Contacts => format!("{} {}", field("FirstName"), field("LastName")),
        other => field(other.title_field()),
    }
    .to_lowercase()
}

/// A record's name as lists show it, as SQL over `{alias}.module` and `{alias}.data`: what
/// [`title_of`] reads, in the record's own case (the `title` column is lower-cased for search).
pub(crate) fn name_sql(alias: &str) -> String {
    let text = |field: &str| format!("json_extract({alias}.data, '$.{field}')");
    let arms: Vec<String> = Module::ALL
        .iter()
        .map(|&module| {
            let name = match module {
                Module::Contacts => {
                    format!("trim(coalesce({}, '') || ' ' || coalesce({}, ''))", text("FirstName"), text("LastName"))
                }
                other => format!("CAST({} AS TEXT)", text(other.title_field())),
            };
            format!("WHEN '{}' THEN {name}", module.name())
        })
        .collect();
    format!("(CASE {alias}.module {} END)", arms.join(" "))
}

/// `search` as a case-insensitive LIKE pattern on titles, its wildcards taken literally.
pub(crate) fn like_pattern(search: &str) -> String {
    format!("%{}%", search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// The platform records of one store.
pub struct PlatformStore<'a> {
    store: &'a Store,
}

impl<'a> PlatformStore<'a> {
    pub fn new(store: &'a Store) -> PlatformStore<'a> {
        PlatformStore { store }
    }

    pub fn create(&self, module: Module, data: Value, now: DateTime<Utc>) -> Result<Record, PlatformError> {
        self.store.transaction(|tx| insert(tx, module, data, Origin::Local, now))
    }

    /// Replaces a record's data; `expected_version` is the version the caller read.
    pub fn update(
        &self,
        module: Module,
        id: &str,
        data: Value,
        expected_version: i64,
        now: DateTime<Utc>,
    ) -> Result<Record, PlatformError> {
        self.store.transaction(|tx| replace(tx, module, id, data, Some(expected_version), Origin::Local, now))
    }

    /// Soft delete: the record stays, marked, and the change is logged.
    pub fn delete(&self, module: Module, id: &str, now: DateTime<Utc>) -> Result<Record, PlatformError> {
        self.store.transaction(|tx| soft_delete(tx, module, id, Origin::Local, now))
    }

    pub fn get(&self, module: Module, id: &str) -> Result<Record, PlatformError> {
        get(&self.store.connection(), module, id)?.ok_or_else(|| PlatformError::NotFound { module, id: id.to_owned() })
    }

    /// Live records whose title contains `search` (any case), in title order.
    pub fn list(
        &self,
        module: Module,
        search: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Record>, PlatformError> {
        let connection = self.store.connection();
        let mut statement = connection.prepare_cached(
            "SELECT module, id, data, version, deleted_at FROM platform_record
             WHERE module = ?1 AND deleted_at IS NULL AND title LIKE ?2 ESCAPE '\\'
             ORDER BY title, id LIMIT ?3 OFFSET ?4",
        )?;
        let pattern = like_pattern(search);
        let rows = statement.query_map(params![module.name(), pattern, limit as i64, offset as i64], row_to_record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many live records of `module` [`PlatformStore::list`] finds for `search`.
    pub fn count_matching(&self, module: Module, search: &str) -> Result<usize, PlatformError> {
        let pattern = like_pattern(search);
        let count: i64 = self.store.connection().query_row(
            "SELECT COUNT(*) FROM platform_record WHERE module = ?1 AND deleted_at IS NULL AND title LIKE ?2 ESCAPE '\\'",
            params![module.name(), pattern],
            |row| row.get(0),
        )?;
        Ok(count as usize)
    }

    pub fn count(&self, module: Module) -> Result<usize, PlatformError> {
        let count: i64 = self.store.connection().query_row(
            "SELECT COUNT(*) FROM platform_record WHERE module = ?1 AND deleted_at IS NULL",
            [module.name()],
            |row| row.get(0),
        )?;
        Ok(count as usize)
    }

    /// Changes after `seq`, oldest first.
    /// The records of `module` changed after `seq` other than by a pull, each once, ordered
    /// by its latest such change, with that change's seq: one page of what a push must look at.
    pub fn changed_records(&self, module: Module, seq: i64, limit: usize) -> Result<Vec<(String, i64)>, PlatformError> {
        let connection = self.store.connection();
        let mut statement = connection.prepare_cached(
            "SELECT record_id, MAX(seq) AS latest FROM platform_change
             WHERE module = ?1 AND seq > ?2 AND origin != 'pull'
             GROUP BY record_id ORDER BY latest LIMIT ?3",
        )?;
        let rows =
            statement.query_map(params![module.name(), seq, limit as i64], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many records `changed_records` will hand out after `seq`.
    pub fn count_changed_records(&self, module: Module, seq: i64) -> Result<usize, PlatformError> {
        let connection = self.store.connection();
        let count: i64 = connection.query_row(
            "SELECT COUNT(DISTINCT record_id) FROM platform_change WHERE module = ?1 AND seq > ?2 AND origin != 'pull'",
            params![module.name(), seq],
            |row| row.get(0),
        )?;
        Ok(count as usize)
    }

    pub fn changes_since(&self, seq: i64, limit: usize) -> Result<Vec<Change>, PlatformError> {
        let connection = self.store.connection();
        let mut statement = connection.prepare_cached(
            "SELECT seq, module, record_id, kind, origin, version, at FROM platform_change WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = statement.query_map(params![seq, limit as i64], |row| {
            let module: String = row.get(1)?;
            let kind: String = row.get(3)?;
            let origin: String = row.get(4)?;
            Ok(Change {
                seq: row.get(0)?,
                module: module.parse().unwrap_or(Module::Accounts),
                record_id: row.get(2)?,
                kind: match kind.as_str() {
                    "create" => ChangeKind::Create,
                    "delete" => ChangeKind::Delete,
                    _ => ChangeKind::Update,
                },
                origin: Origin::parse(&origin),
                version: row.get(5)?,
                at: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    let module: String = row.get(0)?;
    let data: String = row.get(2)?;
    let deleted: Option<String> = row.get(4)?;
    Ok(Record {
        module: module.parse().unwrap_or(Module::Accounts),
        id: row.get(1)?,
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
        version: row.get(3)?,
        deleted: deleted.is_some(),
    })
}

/// Writes a record that came from QuickBooks (creates or updates it, logged as a pull) in the
/// caller's transaction, so the engine writes a pulled record, its link and its outcome together.
pub(crate) fn apply_pulled(
    tx: &Transaction<'_>,
    module: Module,
    data: Value,
    now: DateTime<Utc>,
) -> Result<Record, PlatformError> {
    let id = data.get("Id").and_then(Value::as_str).map(str::to_owned);
    match id {
        Some(id) if get(tx, module, &id)?.is_some() => replace(tx, module, &id, data, None, Origin::Pull, now),
        _ => insert(tx, module, data, Origin::Pull, now),
    }
}

/// Marks a record deleted because QuickBooks deleted (or deactivated) it.
pub(crate) fn apply_pulled_delete(
    tx: &Transaction<'_>,
    module: Module,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Record, PlatformError> {
    soft_delete(tx, module, id, Origin::Pull, now)
}

/// Writes a record read from the linked platform (logged with origin `platform`, so a push
/// sends it on): an update of `local_id` when the record is known here, else a new record.
pub(crate) fn apply_mirrored(
    tx: &Transaction<'_>,
    module: Module,
    local_id: Option<&str>,
    data: Value,
    now: DateTime<Utc>,
) -> Result<Record, PlatformError> {
    match local_id {
        Some(id) if get(tx, module, id)?.is_some() => replace(tx, module, id, data, None, Origin::Platform, now),
        _ => insert(tx, module, data, Origin::Platform, now),
    }
}

/// Marks a record deleted because it is gone from the linked platform.
pub(crate) fn apply_mirrored_delete(
    tx: &Transaction<'_>,
    module: Module,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Record, PlatformError> {
    soft_delete(tx, module, id, Origin::Platform, now)
}

/// The records of `module` a pull changed after `seq` and up to `until`, each once, in the
/// order of their latest such change: what a write-back sends to the platform.
pub(crate) fn pulled_records(
    connection: &rusqlite::Connection,
    module: Module,
    seq: i64,
    until: i64,
) -> Result<Vec<String>, PlatformError> {
    let mut statement = connection.prepare_cached(
        "SELECT record_id, MAX(seq) AS latest FROM platform_change
         WHERE module = ?1 AND seq > ?2 AND seq <= ?3 AND origin = 'pull'
         GROUP BY record_id ORDER BY latest",
    )?;
    let rows = statement.query_map(params![module.name(), seq, until], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The change log's last seq (0 when empty).
pub(crate) fn last_change(connection: &rusqlite::Connection) -> Result<i64, PlatformError> {
    Ok(connection.query_row("SELECT COALESCE(MAX(seq), 0) FROM platform_change", [], |row| row.get(0))?)
}

pub(crate) fn get(
    connection: &rusqlite::Connection,
    module: Module,
    id: &str,
) -> Result<Option<Record>, PlatformError> {
    // Cached: a push looks up every referenced record in every module, thousands a page.
    Ok(connection
        .prepare_cached(
            "SELECT module, id, data, version, deleted_at FROM platform_record WHERE module = ?1 AND id = ?2",
        )?
        .query_row(params![module.name(), id], row_to_record)
        .optional()?)
}

fn live(connection: &rusqlite::Connection, module: Module, id: &str) -> bool {
    connection
        .prepare_cached("SELECT 1 FROM platform_record WHERE module = ?1 AND id = ?2 AND deleted_at IS NULL")
        .and_then(|mut statement| statement.query_row(params![module.name(), id], |_| Ok(())).optional())
        .ok()
        .flatten()
        .is_some()
}

fn next_id(tx: &Transaction<'_>, module: Module) -> Result<String, PlatformError> {
    let next: i64 = tx
        .prepare_cached(
            "INSERT INTO platform_sequence (module, next) VALUES (?1, 2)
             ON CONFLICT (module) DO UPDATE SET next = next + 1 RETURNING next - 1",
        )?
        .query_row([module.name()], |row| row.get(0))?;
    Ok(format!("{}-{next:06}", module.id_prefix()))
}

fn log_change(
    tx: &Transaction<'_>,
    module: Module,
    id: &str,
    kind: ChangeKind,
    origin: Origin,
    version: i64,
    now: DateTime<Utc>,
) -> Result<(), PlatformError> {
    let kind = match kind {
        ChangeKind::Create => "create",
        ChangeKind::Update => "update",
        ChangeKind::Delete => "delete",
    };
    tx.prepare_cached(
        "INSERT INTO platform_change (module, record_id, kind, origin, version, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![module.name(), id, kind, origin.as_str(), version, timestamp(now)])?;
    Ok(())
}

fn check(tx: &Transaction<'_>, module: Module, data: &Value) -> Result<(), PlatformError> {
    let exists = |m: Module, id: &str| live(tx, m, id);
    let errors = schema::validate(module, data, &exists);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(PlatformError::Invalid(errors))
    }
}

pub(crate) fn insert(
    tx: &Transaction<'_>,
    module: Module,
    mut data: Value,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<Record, PlatformError> {
    let id = match data.get("Id").and_then(Value::as_str) {
        Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => next_id(tx, module)?,
    };
    if get(tx, module, &id)?.is_some() {
        return Err(PlatformError::Exists { module, id });
    }
    data["Id"] = json!(id);
    let at = timestamp(now);
    if data.get("CreatedAt").is_none_or(Value::is_null) {
        data["CreatedAt"] = json!(at);
    }
    data["UpdatedAt"] = json!(at);
    check(tx, module, &data)?;
    tx.prepare_cached(
        "INSERT INTO platform_record (module, id, data, title, version, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
    )?
    .execute(params![module.name(), id, data.to_string(), title_of(module, &data), at])?;
    log_change(tx, module, &id, ChangeKind::Create, origin, 1, now)?;
    Ok(Record { module, id, data, version: 1, deleted: false })
}

fn replace(
    tx: &Transaction<'_>,
    module: Module,
    id: &str,
    mut data: Value,
    expected_version: Option<i64>,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<Record, PlatformError> {
    let current = get(tx, module, id)?.ok_or_else(|| PlatformError::NotFound { module, id: id.to_owned() })?;
    if let Some(read) = expected_version {
        if read != current.version {
            return Err(PlatformError::Stale { module, id: id.to_owned(), read, current: current.version });
        }
    }
    data["Id"] = json!(id);
    data["CreatedAt"] = current.data.get("CreatedAt").cloned().unwrap_or(Value::Null);
    data["UpdatedAt"] = json!(timestamp(now));
    check(tx, module, &data)?;
    let version = current.version + 1;
    tx.prepare_cached("UPDATE platform_record SET data = ?3, title = ?4, version = ?5, updated_at = ?6, deleted_at = NULL WHERE module = ?1 AND id = ?2")?
        .execute(params![module.name(), id, data.to_string(), title_of(module, &data), version, timestamp(now)])?;
    log_change(tx, module, id, ChangeKind::Update, origin, version, now)?;
    Ok(Record { module, id: id.to_owned(), data, version, deleted: false })
}

fn soft_delete(
    tx: &Transaction<'_>,
    module: Module,
    id: &str,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<Record, PlatformError> {
    let current = get(tx, module, id)?.ok_or_else(|| PlatformError::NotFound { module, id: id.to_owned() })?;
    if current.deleted {
        return Ok(current);
    }
    let version = current.version + 1;
    tx.prepare_cached("UPDATE platform_record SET version = ?3, deleted_at = ?4 WHERE module = ?1 AND id = ?2")?
        .execute(params![module.name(), id, version, timestamp(now)])?;
    log_change(tx, module, id, ChangeKind::Delete, origin, version, now)?;
    Ok(Record { version, deleted: true, ..current })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// The time the platform's tests write at, and a store of their own: the importers' tests too.
    pub(super) const NOW: DateTime<Utc> =
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc();

    pub(super) fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        (dir, store)
    }

    #[test]
    fn writes_are_validated_versioned_and_logged() {
        let (_dir, store) = store();
        let platform = PlatformStore::new(&store);
        let account = platform.create(Module::Accounts, json!({"Name": "O'Brien & Sons"}), NOW).unwrap();
        assert_eq!(account.id, "ACC-000001");
        let contact = platform
            .create(Module::Contacts, json!({"AccountId": account.id, "FirstName": "Zoë", "LastName": "Ngata"}), NOW)
            .unwrap();
        let missing = platform
            .create(Module::Contacts, json!({"AccountId": "ACC-999", "FirstName": "A", "LastName": "B"}), NOW)
            .unwrap_err();
        assert!(missing.to_string().contains("AccountId: refers to Accounts ACC-999"), "{missing}");

        let updated =
            platform.update(Module::Accounts, &account.id, json!({"Name": "O'Brien & Daughters"}), 1, NOW).unwrap();
        assert_eq!(updated.version, 2);
        let stale = platform.update(Module::Accounts, &account.id, json!({"Name": "X"}), 1, NOW).unwrap_err();
        assert!(matches!(stale, PlatformError::Stale { read: 1, current: 2, .. }));
        let deleted = platform.delete(Module::Contacts, &contact.id, NOW).unwrap();
        assert!(deleted.deleted);

        let changes = platform.changes_since(0, 100).unwrap();
        let kinds: Vec<(Module, ChangeKind)> = changes.iter().map(|c| (c.module, c.kind)).collect();
        assert_eq!(
            kinds,
            [
                (Module::Accounts, ChangeKind::Create),
                (Module::Contacts, ChangeKind::Create),
                (Module::Accounts, ChangeKind::Update),
                (Module::Contacts, ChangeKind::Delete)
            ]
        );
        assert_eq!(platform.changes_since(changes[1].seq, 100).unwrap().len(), 2);
    }

    #[test]
    fn pulled_changes_are_marked_so_they_are_not_pushed_back() {
        let (_dir, store) = store();
        let platform = PlatformStore::new(&store);
        store
            .transaction(|tx| -> Result<(), PlatformError> {
                apply_pulled(tx, Module::Products, json!({"Id": "PRD-QB-5", "Name": "Design", "Price": 75}), NOW)?;
                apply_pulled(tx, Module::Products, json!({"Id": "PRD-QB-5", "Name": "Design", "Price": 80}), NOW)?;
                apply_pulled_delete(tx, Module::Products, "PRD-QB-5", NOW)?;
                Ok(())
            })
            .unwrap();
        let origins: Vec<Origin> = platform.changes_since(0, 10).unwrap().iter().map(|c| c.origin).collect();
        assert_eq!(origins, [Origin::Pull, Origin::Pull, Origin::Pull]);
        assert!(platform.get(Module::Products, "PRD-QB-5").unwrap().deleted, "marked, never dropped");
    }

    #[test]
    fn search_is_by_title_without_case_and_pages() {
        let (_dir, store) = store();
        let platform = PlatformStore::new(&store);
        for name in ["Café Zoë", "Smith & Wesson Ltd", "O'Brien & Sons", "100% Organic_Farms"] {
            platform.create(Module::Accounts, json!({"Name": name}), NOW).unwrap();
        }
        let names = |found: Vec<Record>| {
            found.into_iter().map(|r| r.data["Name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(
            names(platform.list(Module::Accounts, "& ", 0, 10).unwrap()),
            ["O'Brien & Sons", "Smith & Wesson Ltd"]
        );
        assert_eq!(names(platform.list(Module::Accounts, "CAFÉ", 0, 10).unwrap()), ["Café Zoë"]);
        assert_eq!(names(platform.list(Module::Accounts, "100%", 0, 10).unwrap()), ["100% Organic_Farms"]);
        assert_eq!(platform.list(Module::Accounts, "", 1, 2).unwrap().len(), 2);
        assert_eq!(platform.count(Module::Accounts).unwrap(), 4);
    }
}
