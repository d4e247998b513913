//! Connector instances: one named connection to one QuickBooks company, with its settings.
//!
//! Names are unique case-insensitively ("Acme" and "acme" are the same instance to an
//! operator). Secrets are not here: the client secret and tokens live in the keyring,
//! keyed by the instance id.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use qbo::rfc3339::format as timestamp;
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};
use crate::store::Store;

/// Which QuickBooks an instance talks to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Environment {
    /// Intuit's development sandbox (`sandbox-quickbooks.api.intuit.com`).
    Sandbox,
    /// A real company (`quickbooks.api.intuit.com`).
    Production,
    /// Any other server speaking the QuickBooks API, such as a local qbo-sandbox.
    Custom { base_url: String },
}

impl Environment {
    fn kind(&self) -> &'static str {
        match self {
            Environment::Sandbox => "sandbox",
            Environment::Production => "production",
            Environment::Custom { .. } => "custom",
        }
    }

    fn from_columns(kind: &str, base_url: Option<String>) -> Option<Environment> {
        match (kind, base_url) {
            ("sandbox", _) => Some(Environment::Sandbox),
            ("production", _) => Some(Environment::Production),
            ("custom", Some(base_url)) => Some(Environment::Custom { base_url }),
            _ => None,
        }
    }

    fn base_url(&self) -> Option<&str> {
        match self {
            Environment::Custom { base_url } => Some(base_url),
            _ => None,
        }
    }
}

/// The settings of connector.md §4 that are not columns of their own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct InstanceSettings {
    /// Server variables overriding the spec's defaults, by variable name.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Per module, per method: on or off (absent means the spec's default).
    #[serde(default)]
    pub methods: BTreeMap<String, BTreeMap<String, bool>>,
    /// Per module: what happens when a record changed on both sides (default: hold).
    #[serde(default)]
    pub conflict_policies: BTreeMap<String, crate::sync::ConflictPolicy>,
    /// When the instance syncs by itself (default: only when asked).
    #[serde(default)]
    pub schedule: crate::sync::Schedule,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Instance {
    pub id: i64,
    pub name: String,
    pub environment: Environment,
    /// The QuickBooks realm id; also arrives with the OAuth callback.
    pub company_id: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub settings: InstanceSettings,
    pub created_at: String,
    pub updated_at: String,
}

/// What an operator gives to activate an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct NewInstance {
    pub name: String,
    pub environment: Environment,
    pub company_id: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("an instance needs a name")]
    EmptyName,
    /// Names head tray entries, lists and notifications: one printable line.
    #[error("the name {name:?} cannot be used: {reason}")]
    BadName { name: String, reason: String },
    #[error("the name {name:?} is already used by the instance {existing:?} (names are compared without case)")]
    NameTaken { name: String, existing: String },
    #[error("no instance is named {0:?}")]
    NotFound(String),
    #[error("a custom environment needs a base URL starting with http:// or https://, not {0:?}")]
    BadBaseUrl(String),
    #[error("the stored settings of instance {name:?} are unreadable: {reason}")]
    CorruptSettings { name: String, reason: String },
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Longest name, in characters: a tray menu line and a list column, not a description.
pub const NAME_MAX: usize = 100;

/// The name as kept: without surrounding blanks (a paste's trailing newline is not part
/// of it), and refused when it is empty, longer than [`NAME_MAX`] or holds a character
/// that is not printable on one line (a newline or tab inside would break the tray menu
/// and every listing).
pub fn checked_name(name: &str) -> Result<&str, InstanceError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(InstanceError::EmptyName);
    }
    let bad = |reason: String| InstanceError::BadName { name: crate::platform::schema::brief_text(name), reason };
    if let Some(c) = name.chars().find(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')) {
        return Err(bad(format!("it holds the control character {:?}; a name is one line of printable text", c)));
    }
    let length = name.chars().count();
    if length > NAME_MAX {
        return Err(bad(format!("it is {length} characters long; at most {NAME_MAX}")));
    }
    Ok(name)
}

fn validate(new: &NewInstance) -> Result<String, InstanceError> {
    let name = checked_name(&new.name)?;
    if let Environment::Custom { base_url } = &new.environment {
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(InstanceError::BadBaseUrl(base_url.clone()));
        }
    }
    Ok(name.to_owned())
}

const COLUMNS: &str =
    "id, name, environment, base_url, company_id, client_id, redirect_uri, settings, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<Instance, InstanceError>> {
    let name: String = row.get(1)?;
    let kind: String = row.get(2)?;
    let settings: String = row.get(7)?;
    let environment = Environment::from_columns(&kind, row.get(3)?);
    let settings = serde_json::from_str::<InstanceSettings>(&settings);
    Ok(match (environment, settings) {
        (Some(environment), Ok(settings)) => Ok(Instance {
            id: row.get(0)?,
            name,
            environment,
            company_id: row.get(4)?,
            client_id: row.get(5)?,
            redirect_uri: row.get(6)?,
            settings,
            created_at: row.get(8)?,
            updated_at: row.get(9)?,
        }),
        (None, _) => Err(InstanceError::CorruptSettings { name, reason: format!("unknown environment {kind:?}") }),
        (_, Err(error)) => Err(InstanceError::CorruptSettings { name, reason: error.to_string() }),
    })
}

/// The instances of one store.
pub struct Instances<'a> {
    store: &'a Store,
}

impl<'a> Instances<'a> {
    pub fn new(store: &'a Store) -> Instances<'a> {
        Instances { store }
    }

    /// Whether `name` is free: the check the UI runs as the operator types.
    pub fn is_name_free(&self, name: &str) -> Result<bool, InstanceError> {
        Ok(self.find_key(&name_key(name))?.is_none())
    }

    pub fn activate(&self, new: NewInstance, now: DateTime<Utc>) -> Result<Instance, InstanceError> {
        let name = validate(&new)?;
        if let Some(existing) = self.find_key(&name_key(&name))? {
            return Err(InstanceError::NameTaken { name, existing: existing.name });
        }
        let at = timestamp(now);
        let id = {
            let connection = self.store.connection();
            connection.execute(
                "INSERT INTO instance (name, name_key, environment, base_url, company_id, client_id, redirect_uri, settings, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '{}', ?8, ?8)",
                params![name, name_key(&name), new.environment.kind(), new.environment.base_url(), new.company_id, new.client_id, new.redirect_uri, at],
            )?;
            connection.last_insert_rowid()
        };
        self.by_id(id)
    }

    pub fn list(&self) -> Result<Vec<Instance>, InstanceError> {
        let connection = self.store.connection();
        let mut statement = connection.prepare(&format!("SELECT {COLUMNS} FROM instance ORDER BY name_key"))?;
        let rows = statement.query_map([], from_row)?;
        rows.map(|row| row?).collect()
    }

    /// The instance called `name` (any case).
    pub fn get(&self, name: &str) -> Result<Instance, InstanceError> {
        self.find_key(&name_key(name))?.ok_or_else(|| InstanceError::NotFound(name.to_owned()))
    }

    pub fn by_id(&self, id: i64) -> Result<Instance, InstanceError> {
        let connection = self.store.connection();
        let found = connection
            .query_row(&format!("SELECT {COLUMNS} FROM instance WHERE id = ?1"), [id], from_row)
            .optional()?;
        found.ok_or_else(|| InstanceError::NotFound(format!("#{id}")))?
    }

    fn find_key(&self, key: &str) -> Result<Option<Instance>, InstanceError> {
        let connection = self.store.connection();
        let found = connection
            .query_row(&format!("SELECT {COLUMNS} FROM instance WHERE name_key = ?1"), [key], from_row)
            .optional()?;
        found.transpose()
    }

    pub fn rename(&self, name: &str, new_name: &str, now: DateTime<Utc>) -> Result<Instance, InstanceError> {
        let instance = self.get(name)?;
        let new_name = checked_name(new_name)?;
        if let Some(existing) = self.find_key(&name_key(new_name))? {
            if existing.id != instance.id {
                return Err(InstanceError::NameTaken { name: new_name.to_owned(), existing: existing.name });
            }
        }
        self.store.connection().execute(
            "UPDATE instance SET name = ?1, name_key = ?2, updated_at = ?3 WHERE id = ?4",
            params![new_name, name_key(new_name), timestamp(now), instance.id],
        )?;
        self.by_id(instance.id)
    }

    /// Replaces the connection settings and the settings document of `instance`.
    pub fn save(&self, instance: &Instance, now: DateTime<Utc>) -> Result<Instance, InstanceError> {
        let settings = serde_json::to_string(&instance.settings)
            .map_err(|e| InstanceError::CorruptSettings { name: instance.name.clone(), reason: e.to_string() })?;
        if let Environment::Custom { base_url } = &instance.environment {
            if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                return Err(InstanceError::BadBaseUrl(base_url.clone()));
            }
        }
        let changed = self.store.connection().execute(
            "UPDATE instance SET environment = ?1, base_url = ?2, company_id = ?3, client_id = ?4, redirect_uri = ?5, settings = ?6, updated_at = ?7 WHERE id = ?8",
            params![
                instance.environment.kind(),
                instance.environment.base_url(),
                instance.company_id,
                instance.client_id,
                instance.redirect_uri,
                settings,
                timestamp(now),
                instance.id
            ],
        )?;
        if changed == 0 {
            return Err(InstanceError::NotFound(instance.name.clone()));
        }
        self.by_id(instance.id)
    }

    /// Removes the instance row; the caller removes its secrets from the keyring first.
    pub fn remove(&self, name: &str) -> Result<Instance, InstanceError> {
        let instance = self.get(name)?;
        self.store.connection().execute("DELETE FROM instance WHERE id = ?1", [instance.id])?;
        Ok(instance)
    }
}

/// How an instance error reaches the API: its code decides exit codes and screens.
impl From<InstanceError> for ApiError {
    fn from(error: InstanceError) -> ApiError {
        use InstanceError::*;
        let code = match &error {
            EmptyName | BadName { .. } | BadBaseUrl(_) => ErrorCode::Validation,
            NameTaken { .. } => ErrorCode::Conflict,
            NotFound(_) => ErrorCode::NotFound,
            CorruptSettings { .. } | Database(_) => ErrorCode::Storage,
        };
        ApiError::new(code, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        (dir, store)
    }

    fn new(name: &str) -> NewInstance {
        NewInstance {
            name: name.into(),
            environment: Environment::Custom { base_url: "http://127.0.0.1:8700".into() },
            company_id: Some("9341453000000001".into()),
            client_id: Some("client".into()),
            redirect_uri: Some("http://localhost:8765/callback".into()),
        }
    }

    const NOW: DateTime<Utc> = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc();

    #[test]
    fn names_are_unique_without_regard_to_case() {
        let (_dir, store) = store();
        let instances = Instances::new(&store);
        instances.activate(new("Acme Books"), NOW).unwrap();
        assert!(!instances.is_name_free("ACME books").unwrap());
        match instances.activate(new("  acme BOOKS "), NOW) {
            Err(InstanceError::NameTaken { existing, .. }) => assert_eq!(existing, "Acme Books"),
            other => panic!("expected NameTaken, got {other:?}"),
        }
        assert!(matches!(instances.activate(new("   "), NOW), Err(InstanceError::EmptyName)));
    }

    #[test]
    fn names_are_one_printable_line() {
        let (_dir, store) = store();
        let instances = Instances::new(&store);
        for name in ["Acme\nBooks", "Acme\tBooks", "Acme\rBooks", "Acme\u{7}", "Acme\u{2028}Books", "Acme\u{9b}"] {
            match instances.activate(new(name), NOW) {
                Err(error @ InstanceError::BadName { .. }) => {
                    assert!(error.to_string().contains("one line of printable text"), "{error}")
                }
                other => panic!("{name:?}: expected BadName, got {other:?}"),
            }
        }
        assert!(matches!(instances.activate(new(&"a".repeat(NAME_MAX + 1)), NOW), Err(InstanceError::BadName { .. })));
        // Blanks around a name are not part of it (a pasted name often ends in a newline).
        assert_eq!(instances.activate(new(" Acme Books\n"), NOW).unwrap().name, "Acme Books");
        assert_eq!(instances.activate(new(&"é".repeat(NAME_MAX)), NOW).unwrap().name.chars().count(), NAME_MAX);
        assert!(matches!(instances.rename("Acme Books", "Acme\nBooks", NOW), Err(InstanceError::BadName { .. })));
        assert_eq!(instances.get("Acme Books").unwrap().name, "Acme Books");
    }

    #[test]
    fn activation_keeps_every_setting_and_rename_checks_the_new_name() {
        let (_dir, store) = store();
        let instances = Instances::new(&store);
        let acme = instances.activate(new("Acme"), NOW).unwrap();
        instances.activate(new("Zeta"), NOW).unwrap();
        assert_eq!(instances.get("acme").unwrap(), acme);
        assert!(matches!(instances.rename("Acme", "zeta", NOW), Err(InstanceError::NameTaken { .. })));
        let renamed = instances.rename("Acme", "Acme (production)", NOW).unwrap();
        assert_eq!(renamed.id, acme.id);
        assert_eq!(
            instances.list().unwrap().iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
            ["Acme (production)", "Zeta"]
        );
        // Renaming to a different case of its own name is allowed.
        assert_eq!(instances.rename("zeta", "ZETA", NOW).unwrap().name, "ZETA");
    }

    #[test]
    fn settings_round_trip_and_removal_forgets_the_instance() {
        let (_dir, store) = store();
        let instances = Instances::new(&store);
        let mut acme = instances.activate(new("Acme"), NOW).unwrap();
        acme.settings.variables.insert("Income Account".into(), "79".into());
        acme.settings.methods.entry("Invoices".into()).or_default().insert("push_delete".into(), false);
        acme.environment = Environment::Production;
        let saved = instances.save(&acme, NOW).unwrap();
        assert_eq!(saved.settings, acme.settings);
        assert_eq!(saved.environment, Environment::Production);
        instances.remove("ACME").unwrap();
        assert!(matches!(instances.get("Acme"), Err(InstanceError::NotFound(_))));
    }

    #[test]
    fn a_custom_environment_needs_a_web_address() {
        let (_dir, store) = store();
        let mut bad = new("Bad");
        bad.environment = Environment::Custom { base_url: "qbconnector://x".into() };
        assert!(matches!(Instances::new(&store).activate(bad, NOW), Err(InstanceError::BadBaseUrl(_))));
    }
}
