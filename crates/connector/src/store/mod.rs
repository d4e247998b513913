//! The one SQLite handle: opening, pragmas and the append-only migration list.
//!
//! Migrations are numbered, never edited once shipped, and all pending ones run in
//! one transaction when the file is opened. A file written by a newer version of
//! the app (a higher schema number than this build knows) is refused rather than
//! guessed at.

mod migrations;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, Transaction};

pub use migrations::{Migration, MIGRATIONS};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "the database {path} was written by a newer version of QuickBooks Connector (schema {found}; this version knows up to {known}). Update the app, or point it at another data directory."
    )]
    NewerSchema { path: PathBuf, found: u32, known: u32 },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration { version: u32, name: &'static str, source: rusqlite::Error },
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

pub struct Store {
    connection: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let mut connection =
            Connection::open(path).map_err(|source| StoreError::Open { path: path.to_owned(), source })?;
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
            .map_err(|source| StoreError::Open { path: path.to_owned(), source })?;
        migrate(&mut connection, path, MIGRATIONS)?;
        Ok(Store { connection: Mutex::new(connection), path: path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for reads and single statements.
    pub fn connection(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `work` in one transaction: all of it is written, or none.
    pub fn transaction<T, E>(&self, work: impl FnOnce(&Transaction<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let mut connection = self.connection();
        let tx = connection.transaction()?;
        let value = work(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// The schema version the file is at.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(self.connection().query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }
}

fn migrate(connection: &mut Connection, path: &Path, migrations: &[Migration]) -> Result<(), StoreError> {
    let known = migrations.last().map_or(0, |m| m.version);
    let found: u32 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > known {
        return Err(StoreError::NewerSchema { path: path.to_owned(), found, known });
    }
    let pending: Vec<&Migration> = migrations.iter().filter(|m| m.version > found).collect();
    if pending.is_empty() {
        return Ok(());
    }
    let tx = connection.transaction()?;
    for migration in pending {
        tx.execute_batch(migration.sql).map_err(|source| StoreError::Migration {
            version: migration.version,
            name: migration.name,
            source,
        })?;
        tx.pragma_update(None, "user_version", migration.version)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_one_by_one() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1, "migration {} is out of order", migration.name);
        }
    }

    #[test]
    fn opening_brings_a_new_file_to_the_latest_schema_with_wal() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.last().unwrap().version);
        let mode: String = store.connection().query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let foreign_keys: i64 = store.connection().query_row("PRAGMA foreign_keys", [], |row| row.get(0)).unwrap();
        assert_eq!(foreign_keys, 1);
    }

    #[test]
    fn a_file_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        drop(Store::open(&path).unwrap());
        let newer = MIGRATIONS.last().unwrap().version + 1;
        Connection::open(&path).unwrap().pragma_update(None, "user_version", newer).unwrap();
        match Store::open(&path) {
            Err(StoreError::NewerSchema { found, .. }) => assert_eq!(found, newer),
            Err(other) => panic!("expected NewerSchema, got {other}"),
            Ok(_) => panic!("a newer schema was accepted"),
        }
    }

    #[test]
    fn conflicts_held_before_migration_12_are_changed_on_both_sides_and_stay_one_open_a_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let mut connection = Connection::open(&path).unwrap();
        migrate(&mut connection, &path, &MIGRATIONS[..11]).unwrap();
        connection
            .execute_batch(
                "INSERT INTO instance (id, name, name_key, environment, created_at, updated_at) VALUES (1, 'A', 'a', 'sandbox', 't', 't');
                 INSERT INTO conflict (instance_id, module, platform_id, qbo_id, platform_version, qbo_version, created_at)
                 VALUES (1, 'Accounts', 'ACC-1', '58', '{}', '{}', 't');",
            )
            .unwrap();
        migrate(&mut connection, &path, MIGRATIONS).unwrap();
        let kind: String = connection.query_row("SELECT kind FROM conflict", [], |row| row.get(0)).unwrap();
        assert_eq!(kind, "changed_on_both_sides");
        let second = connection.execute(
            "INSERT INTO conflict (instance_id, module, platform_id, qbo_id, platform_version, qbo_version, created_at, kind)
             VALUES (1, 'Accounts', 'ACC-1', '58', '{}', 'null', 't', 'same_entity')",
            [],
        );
        assert!(second.is_err(), "one open entry a record, whatever its kind");
    }

    #[test]
    fn a_failing_migration_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let good = Migration { version: 1, name: "good", sql: "CREATE TABLE a (x INTEGER);" };
        let bad = Migration { version: 2, name: "bad", sql: "CREATE TABLE b (y INTEGER); THIS IS NOT SQL;" };
        let mut connection = Connection::open(&path).unwrap();
        let error = migrate(&mut connection, &path, &[good, bad]).unwrap_err();
        assert!(matches!(error, StoreError::Migration { version: 2, .. }), "{error}");
        let version: u32 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
        assert_eq!(version, 0, "nothing of the failed run is kept");
        let tables: i64 = connection
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |row| row.get(0))
            .unwrap();
        assert_eq!(tables, 0);
    }
}
