//! `connector::api`: everything the desktop app and the `qbconnector` CLI can do,
//! behind one type. Callers unpack their inputs and call it; the logic is here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use qbo::auth::{KeyringStore, PendingAuthorizations, TokenStore};

use crate::error::{ApiError, ErrorCode};
use crate::instance::Instance;
use crate::store::Store;
use crate::{Clock, SystemClock};

/// The keyring service every secret of the app is stored under.
pub const KEYRING_SERVICE: &str = "qbconnector";
const CLIENT_SECRET: &str = "client_secret";

pub type ApiResult<T> = Result<T, ApiError>;

mod conflict_diff;
mod conflicts;
pub mod connection;
pub mod demo;
mod desktop;
mod history;
mod home;
mod instances;
mod platform;
mod records;
mod schedule;
mod setup;
mod spec;
mod sync;
mod views;

pub use conflict_diff::{conflict_rows, ConflictRow, ConflictRowKind};
pub use conflicts::rename_field;
pub use history::{quickbooks_url, REPORT_COLUMNS};
pub use platform::{preview_profile, ModuleCount, PlatformLinkView, PlatformTest, ProfilePreview, ProfileSummary};
pub use setup::{setup_choices, CompanyRecord, SetupChoice, SetupView};
pub use sync::{RunKind, RunWatch};
pub use views::*;

pub struct Connector {
    store: Store,
    secrets: Arc<dyn TokenStore>,
    data_dir: PathBuf,
    pending: PendingAuthorizations,
    /// This database's random identity: keyring entries are named after it.
    store_id: String,
    /// QuickBooks minutes per real minute for the client's throttle; only a sandbox run
    /// with a time scale (benchmarks, demos) sets it.
    qbo_time_scale: std::sync::Mutex<f64>,
    clock: Arc<dyn Clock>,
    /// How many scheduled runs go at once: each instance has its own company and limits, so
    /// they overlap well, up to what the store's one writer and the processor allow.
    parallel_runs: std::sync::atomic::AtomicUsize,
    /// One connection pool for every call this connector makes: each instance's QuickBooks
    /// client and OAuth session, and its linked platform.
    http: reqwest::Client,
}

/// Scheduled runs at once unless set otherwise.
pub const DEFAULT_PARALLEL_RUNS: usize = 4;

impl Connector {
    /// Opens the connector's data in `data_dir` (see [`crate::paths::data_dir`]) with the OS keyring.
    pub fn open(data_dir: &Path) -> ApiResult<Connector> {
        Connector::open_with(data_dir, Arc::new(KeyringStore::new(KEYRING_SERVICE)))
    }

    pub fn open_with(data_dir: &Path, secrets: Arc<dyn TokenStore>) -> ApiResult<Connector> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            ApiError::new(ErrorCode::Storage, format!("cannot create the data directory {}: {e}", data_dir.display()))
        })?;
        let store = Store::open(&data_dir.join(crate::paths::DATABASE_FILE))?;
        let store_id: String =
            store
                .connection()
                .query_row("SELECT value FROM store_meta WHERE key = 'store_id'", [], |row| row.get(0))?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        crate::sync::engine::close_interrupted_runs(data_dir, &store, clock.now())?;
        Ok(Connector {
            store,
            secrets,
            data_dir: data_dir.to_owned(),
            pending: PendingAuthorizations::new(),
            store_id,
            qbo_time_scale: std::sync::Mutex::new(1.0),
            clock,
            parallel_runs: std::sync::atomic::AtomicUsize::new(DEFAULT_PARALLEL_RUNS),
            http: platform::shared_http(),
        })
    }

    /// Reads "now" from `clock` from here on: runs, schedules, stamps and token expiry.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Connector {
        self.clock = clock;
        self
    }

    /// How many scheduled runs may go at once (at least one).
    pub fn set_parallel_runs(&self, runs: usize) {
        self.parallel_runs.store(runs.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    pub fn parallel_runs(&self) -> usize {
        self.parallel_runs.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn stamp_now(&self) -> String {
        crate::sync::engine::stamp(self.now())
    }

    /// Matches the client's throttle to a sandbox started with `--time-scale`.
    pub fn set_qbo_time_scale(&self, scale: f64) {
        *self.qbo_time_scale.lock().unwrap_or_else(|p| p.into_inner()) = scale;
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn blocking_secret<T>(&self, work: impl FnOnce(&dyn TokenStore) -> Result<T, qbo::AuthError>) -> ApiResult<T> {
        work(self.secrets.as_ref()).map_err(ApiError::from)
    }

    fn secret_key(&self, instance: &Instance) -> String {
        format!("{}-instance-{}", self.store_id, instance.id)
    }

    // ------------------------------------------------------------ preview
}

// ------------------------------------------------------------ sync

pub use crate::sync::store::ConflictKind;

#[cfg(test)]
mod tests {
    use qbo::auth::{Secret, TokenGrant};

    use super::*;
    use crate::spec::Spec;

    fn grant(refresh_ends: i64, hard_end: Option<i64>) -> TokenGrant {
        TokenGrant {
            realm_id: "9341453050000001".into(),
            access_token: Secret::new("access"),
            refresh_token: Secret::new("refresh"),
            access_issued_at: None,
            access_expires_at: 100,
            refresh_expires_at: refresh_ends,
            refresh_hard_expires_at: hard_end,
        }
    }

    #[test]
    fn renaming_changes_the_field_the_match_rule_reads_and_is_refused_where_there_is_none() {
        let spec = Spec::built_in();
        let field = |module: &str| rename_field(spec.module(module).unwrap());
        assert_eq!(field("Accounts").as_deref(), Ok("Name"));
        assert_eq!(field("Products").as_deref(), Ok("Name"));
        assert_eq!(field("Invoices").as_deref(), Ok("Number"));
        assert_eq!(field("Orders").as_deref(), Ok("Number"));
        let contacts = field("Contacts").unwrap_err();
        assert!(contacts.contains("more than one field"), "{contacts}");
        let payments = field("Payments").unwrap_err();
        assert!(payments.contains("own id"), "{payments}");
    }

    #[test]
    fn a_grant_whose_refresh_token_ended_needs_a_reconnect() {
        assert_eq!(ConnectionState::of(None, 1_000), ConnectionState::NotConnected);
        assert_eq!(ConnectionState::of(Some(&grant(2_000, None)), 1_000), ConnectionState::Connected);
        assert_eq!(ConnectionState::of(Some(&grant(2_000, None)), 2_000), ConnectionState::ReconnectNeeded);
        assert_eq!(
            ConnectionState::of(Some(&grant(5_000, Some(900))), 1_000),
            ConnectionState::ReconnectNeeded,
            "the hard end"
        );
    }
}
