//! Optional persistence of the sandbox's companies in one SQLite file (`--data FILE`).
//!
//! Companies live in memory; after each write the rows it changed are written
//! through here, so a restarted sandbox comes back with the same data, the same
//! requestid answers and the same OAuth grants.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::company::{Company, CompanyProfile, Tombstone};
use crate::entity::EntityKind;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sandbox data file: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("sandbox data file holds unreadable JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A stored answer to a write, replayed when the same requestid comes again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: String,
}

pub struct Store {
    connection: Connection,
    /// How many tombstones of each realm are already written.
    written_tombstones: BTreeMap<String, usize>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let connection = Connection::open(path)?;
        connection.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS company (
                 realm_id TEXT PRIMARY KEY, profile TEXT NOT NULL, next_id INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS entity (
                 realm_id TEXT NOT NULL, kind TEXT NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL,
                 PRIMARY KEY (realm_id, kind, id));
             CREATE TABLE IF NOT EXISTS tombstone (
                 realm_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
                 deleted_at TEXT NOT NULL, PRIMARY KEY (realm_id, seq));
             CREATE TABLE IF NOT EXISTS request_answer (
                 realm_id TEXT NOT NULL, request_id TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
                 PRIMARY KEY (realm_id, request_id));
             CREATE TABLE IF NOT EXISTS oauth_state (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);",
        )?;
        Ok(Store { connection, written_tombstones: BTreeMap::new() })
    }

    /// Every persisted company, or none when the file is new.
    pub fn load_companies(&mut self) -> Result<Vec<Company>, StoreError> {
        let mut companies = Vec::new();
        let heads: Vec<(String, String, u64)> = self
            .connection
            .prepare("SELECT realm_id, profile, next_id FROM company ORDER BY realm_id")?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (realm_id, profile, next_id) in heads {
            let profile: CompanyProfile = serde_json::from_str(&profile)?;
            let mut rows = Vec::new();
            let mut statement =
                self.connection.prepare("SELECT kind, body FROM entity WHERE realm_id = ?1 ORDER BY id")?;
            let stored =
                statement.query_map([&realm_id], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
            for row in stored {
                let (kind, body) = row?;
                if let Some(kind) = EntityKind::from_name(&kind) {
                    rows.push((kind, serde_json::from_str::<Value>(&body)?));
                }
            }
            let tombstones: Vec<Tombstone> = self
                .connection
                .prepare("SELECT kind, id, deleted_at FROM tombstone WHERE realm_id = ?1 ORDER BY seq")?
                .query_map([&realm_id], |row| Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?)))?
                .filter_map(|row| {
                    row.ok().and_then(|(kind, id, deleted_at)| {
                        EntityKind::from_name(&kind).map(|kind| Tombstone { kind, id, deleted_at })
                    })
                })
                .collect();
            self.written_tombstones.insert(realm_id.clone(), tombstones.len());
            companies.push(Company::restore(profile, rows, tombstones, next_id));
        }
        Ok(companies)
    }

    /// Replaces everything with these companies (a reset or the first seed).
    pub fn replace_all(&mut self, companies: &mut [Company]) -> Result<(), StoreError> {
        let tx = self.connection.transaction()?;
        tx.execute_batch(
            "DELETE FROM company; DELETE FROM entity; DELETE FROM tombstone; DELETE FROM request_answer;",
        )?;
        tx.commit()?;
        self.written_tombstones.clear();
        for company in companies.iter_mut() {
            self.write_company(company, true)?;
        }
        Ok(())
    }

    /// Writes a company new to the store, every row of it.
    pub fn add(&mut self, company: &mut Company) -> Result<(), StoreError> {
        self.write_company(company, true)
    }

    /// Writes the rows of `company` changed since the last flush, in one transaction.
    pub fn flush(&mut self, company: &mut Company) -> Result<(), StoreError> {
        self.write_company(company, false)
    }

    fn write_company(&mut self, company: &mut Company, everything: bool) -> Result<(), StoreError> {
        let realm_id = company.realm_id().to_owned();
        let dirty = company.take_dirty();
        let already = self.written_tombstones.get(&realm_id).copied().unwrap_or(0);
        let tx = self.connection.transaction()?;
        tx.execute(
            "INSERT INTO company (realm_id, profile, next_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (realm_id) DO UPDATE SET profile = excluded.profile, next_id = excluded.next_id",
            params![realm_id, serde_json::to_string(&company.profile)?, company.next_id()],
        )?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO entity (realm_id, kind, id, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (realm_id, kind, id) DO UPDATE SET body = excluded.body",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM entity WHERE realm_id = ?1 AND kind = ?2 AND id = ?3")?;
            let rows: Vec<(EntityKind, u64)> = if everything {
                EntityKind::ALL
                    .into_iter()
                    .flat_map(|kind| {
                        company
                            .all(kind)
                            .filter_map(|v| v.get("Id").and_then(Value::as_str).and_then(|id| id.parse().ok()))
                            .map(move |id| (kind, id))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            } else {
                dirty.into_iter().collect()
            };
            for (kind, id) in rows {
                match company.get_numeric(kind, id) {
                    Some(body) => {
                        upsert.execute(params![realm_id, kind.name(), id, body.to_string()])?;
                    }
                    None => {
                        delete.execute(params![realm_id, kind.name(), id])?;
                    }
                }
            }
            let mut tomb = tx.prepare_cached(
                "INSERT OR REPLACE INTO tombstone (realm_id, seq, kind, id, deleted_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let start = if everything { 0 } else { already };
            for (seq, t) in company.tombstones().iter().enumerate().skip(start) {
                tomb.execute(params![realm_id, seq as i64, t.kind.name(), t.id, t.deleted_at])?;
            }
        }
        tx.commit()?;
        self.written_tombstones.insert(realm_id, company.tombstones().len());
        Ok(())
    }

    pub fn save_answer(&self, realm_id: &str, request_id: &str, answer: &StoredAnswer) -> Result<(), StoreError> {
        self.connection.execute(
            "INSERT OR REPLACE INTO request_answer (realm_id, request_id, status, body) VALUES (?1, ?2, ?3, ?4)",
            params![realm_id, request_id, answer.status, answer.body],
        )?;
        Ok(())
    }

    pub fn load_answers(&self) -> Result<Vec<(String, String, StoredAnswer)>, StoreError> {
        let mut statement = self.connection.prepare("SELECT realm_id, request_id, status, body FROM request_answer")?;
        let answers = statement
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, StoredAnswer { status: row.get(2)?, body: row.get(3)? }))
            })?
            .collect::<Result<_, _>>()?;
        Ok(answers)
    }

    pub fn save_oauth_state(&self, state: &Value) -> Result<(), StoreError> {
        self.connection.execute(
            "INSERT INTO oauth_state (id, state) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            [state.to_string()],
        )?;
        Ok(())
    }

    pub fn load_oauth_state(&self) -> Result<Option<Value>, StoreError> {
        let state: Option<String> =
            self.connection.query_row("SELECT state FROM oauth_state WHERE id = 1", [], |row| row.get(0)).optional()?;
        Ok(state.map(|s| serde_json::from_str(&s)).transpose()?)
    }
}
