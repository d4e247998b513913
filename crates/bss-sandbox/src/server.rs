//! The running sandbox: its configuration, start-up, shared state and the handle
//! tests use to reach records, tokens, faults and the clock without HTTP.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::{Auth, Credentials};
use crate::clock::{format_millis, Clock};
use crate::error::ApiError;
use crate::faults::{FaultPlan, Faults};
use crate::kind::Kind;
use crate::persist::DataFile;
use crate::store::Store;

/// Demo API credentials and application user (what `--help` shows as defaults).
pub const DEMO_CLIENT_ID: &str = "bss-demo-client";
pub const DEMO_CLIENT_SECRET: &str = "bss-demo-secret";
pub const DEMO_USERNAME: &str = "connector@demo.example";
pub const DEMO_PASSWORD: &str = "demo-password";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BssConfig {
    pub credentials: Credentials,
    /// Access token lifetime in sandbox seconds (BSS documents none [I]).
    pub token_lifetime_secs: u64,
    /// Sandbox seconds per real second: 1 real time, 60 a sandbox minute per real second,
    /// 0 a stopped clock that only [`BssSandbox::advance_clock`] moves.
    pub time_scale: f64,
    /// Seeds the fault sequence, the GUIDs handed out and the generated records.
    pub seed: u64,
    pub faults: Faults,
    /// At most this many `/api` requests per sandbox minute per token, then 403; 0 = no limit.
    pub rate_limit_per_minute: u32,
    /// Honour `updatedSince=` on lists. The real BSS documents no such filter; with this
    /// off the parameter is ignored and a client must sort by updatedAt and filter itself.
    pub updated_since_filter: bool,
    /// Generate this many records of each kind at start (not when a data file has records).
    pub seed_records: usize,
    /// Keep the records here: read at start, written after each write. In memory without it.
    #[serde(default)]
    pub data_file: Option<PathBuf>,
}

impl Default for BssConfig {
    fn default() -> BssConfig {
        BssConfig {
            credentials: Credentials {
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: DEMO_CLIENT_SECRET.into(),
                username: DEMO_USERNAME.into(),
                password: DEMO_PASSWORD.into(),
            },
            token_lifetime_secs: 3600,
            time_scale: 1.0,
            seed: 0,
            faults: Faults::default(),
            rate_limit_per_minute: 0,
            updated_since_filter: true,
            seed_records: 0,
            data_file: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("the data file: {0}")]
    DataFile(String),
}

/// Faults answered since the start, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultCounts {
    /// Injected 500 and 503.
    pub server_errors: u64,
    /// Injected 403 "rate limit exceeded".
    pub rate_limited: u64,
    /// Writes stored whose connection was closed without an answer.
    pub dropped_after_commit: u64,
}

/// What `GET /admin/state` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminState {
    /// Records per kind, by path name (`accounts`, ...).
    pub counts: BTreeMap<String, usize>,
    /// `/api` and `/oauth/token` requests answered (faults included).
    pub requests_served: u64,
    pub faults_injected: FaultCounts,
    /// 403s from the real per-token limit (not injected).
    pub rate_limit_refusals: u64,
    pub tokens_issued: u64,
    /// Sandbox time now.
    pub now: String,
    pub time_scale: f64,
}

#[derive(Default)]
pub(crate) struct Stats {
    pub requests: AtomicU64,
    pub server_errors: AtomicU64,
    pub injected_rate_limits: AtomicU64,
    pub dropped: AtomicU64,
    pub rate_limit_refusals: AtomicU64,
}

impl Stats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// State every handler shares. Locks are never held together.
pub(crate) struct Shared {
    pub store: Mutex<Store>,
    pub auth: Mutex<Auth>,
    pub faults: FaultPlan,
    pub clock: Clock,
    pub stats: Stats,
    pub rate_limit_per_minute: AtomicU32,
    pub updated_since_filter: AtomicBool,
    pub seed: u64,
    pub data_file: Option<DataFile>,
}

/// Locks a mutex even if a panic poisoned it: every write validates before it
/// changes anything, so no half-written state exists to protect.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Called after every write, with the store still locked so saves keep the writes' order.
    /// A save that fails is logged: the write stands in memory, and the next save carries it.
    pub fn saved(&self, store: &Store) {
        if let Some(file) = &self.data_file {
            if let Err(error) = file.save(store, &self.clock) {
                tracing::error!(%error, "bss-sandbox could not save its records");
            }
        }
    }

    pub fn state(&self) -> AdminState {
        let counts = {
            let store = lock(&self.store);
            Kind::ALL.iter().map(|kind| (kind.path().to_owned(), store.count(*kind))).collect()
        };
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        AdminState {
            counts,
            requests_served: load(&self.stats.requests),
            faults_injected: FaultCounts {
                server_errors: load(&self.stats.server_errors),
                rate_limited: load(&self.stats.injected_rate_limits),
                dropped_after_commit: load(&self.stats.dropped),
            },
            rate_limit_refusals: load(&self.stats.rate_limit_refusals),
            tokens_issued: lock(&self.auth).issued(),
            now: format_millis(self.clock.now_ms()),
            time_scale: self.clock.time_scale(),
        }
    }
}

/// The server task and the switch that ends it after the requests in flight.
struct Serving {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// A running sandbox. Dropping it stops the server.
pub struct BssSandbox {
    base_url: String,
    shared: Arc<Shared>,
    serving: Option<Serving>,
}

impl BssSandbox {
    /// Starts on a free loopback port.
    pub async fn start(config: BssConfig) -> Result<BssSandbox, SandboxError> {
        BssSandbox::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: BssConfig) -> Result<BssSandbox, SandboxError> {
        if !(config.time_scale.is_finite() && config.time_scale >= 0.0) {
            return Err(SandboxError::Config(format!("time scale {} is not a number from 0", config.time_scale)));
        }
        for (name, rate) in [
            ("server error", config.faults.server_error_rate),
            ("rate limited", config.faults.rate_limited_rate),
            ("drop after commit", config.faults.drop_after_commit_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SandboxError::Config(format!("{name} rate {rate} is not between 0 and 1")));
            }
        }
        let data_file = config.data_file.clone().map(DataFile::new);
        let loaded = match &data_file {
            Some(file) => file.load(config.seed, config.time_scale).map_err(SandboxError::DataFile)?,
            None => None,
        };
        let fresh = loaded.is_none();
        let (mut store, clock) = loaded.unwrap_or_else(|| (Store::new(config.seed), Clock::new(config.time_scale)));
        if config.seed_records > 0 && fresh {
            crate::seed::generate(&mut store, config.seed, config.seed_records, clock.now_ms());
        }
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            auth: Mutex::new(Auth::new(config.credentials.clone(), config.token_lifetime_secs)),
            faults: FaultPlan::new(config.faults.clone(), config.seed),
            clock,
            stats: Stats::default(),
            rate_limit_per_minute: AtomicU32::new(config.rate_limit_per_minute),
            updated_since_filter: AtomicBool::new(config.updated_since_filter),
            seed: config.seed,
            data_file,
        });
        if fresh {
            // The file exists from the start, so that a sandbox with no writes yet is kept too.
            shared.saved(&lock(&shared.store));
        }
        let listener = TcpListener::bind(addr).await.map_err(|source| SandboxError::Bind { addr, source })?;
        let local = listener.local_addr().map_err(|source| SandboxError::Bind { addr, source })?;
        let app = crate::http::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move {
            if let Err(error) = server.await {
                tracing::error!(%error, "bss-sandbox stopped");
            }
        });
        Ok(BssSandbox { base_url: format!("http://{local}"), shared, serving: Some(Serving { stop, task }) })
    }

    /// `http://127.0.0.1:PORT`: records under `{base}/api/…`, tokens at `{base}/oauth/token`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The sandbox clock (a shared handle).
    pub fn clock(&self) -> Clock {
        self.shared.clock.clone()
    }

    /// Moves sandbox time forward: tokens age, rate windows empty, later writes get later stamps.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Sandbox time now, as records carry it.
    pub fn now(&self) -> String {
        format_millis(self.shared.clock.now_ms())
    }

    /// Creates a record as `POST /api/{kind}` would, without HTTP, auth or faults.
    pub fn create(&self, kind: Kind, record: &Value) -> Result<Value, ApiError> {
        let now = self.shared.clock.now_ms();
        let mut store = lock(&self.shared.store);
        let made = store.create(kind, record, now).map(|row| row.to_value())?;
        self.shared.saved(&store);
        Ok(made)
    }

    /// A full update as `PUT /api/{kind}/{id}` would.
    pub fn update(&self, kind: Kind, id: &str, record: &Value) -> Result<Value, ApiError> {
        let now = self.shared.clock.now_ms();
        let mut store = lock(&self.shared.store);
        let updated = store.update(kind, id, record, now).map(|row| row.to_value())?;
        self.shared.saved(&store);
        Ok(updated)
    }

    pub fn delete(&self, kind: Kind, id: &str) -> Result<(), ApiError> {
        let mut store = lock(&self.shared.store);
        store.delete(kind, id)?;
        self.shared.saved(&store);
        Ok(())
    }

    pub fn get(&self, kind: Kind, id: &str) -> Option<Value> {
        lock(&self.shared.store).find(kind, id).ok().map(|row| row.to_value())
    }

    /// Every record of `kind` in id order.
    pub fn list(&self, kind: Kind) -> Vec<Value> {
        lock(&self.shared.store).rows(kind).map(|row| row.to_value()).collect()
    }

    pub fn count(&self, kind: Kind) -> usize {
        lock(&self.shared.store).count(kind)
    }

    /// Adds `per_kind` generated records of each kind (seeded by the config's seed).
    pub fn seed_records(&self, per_kind: usize) {
        let now = self.shared.clock.now_ms();
        let mut store = lock(&self.shared.store);
        crate::seed::generate(&mut store, self.shared.seed, per_kind, now);
        self.shared.saved(&store);
    }

    /// Counts, requests, faults and tokens, as `GET /admin/state` shows them.
    pub fn state(&self) -> AdminState {
        self.shared.state()
    }

    pub fn tokens_issued(&self) -> u64 {
        lock(&self.shared.auth).issued()
    }

    /// The application user's password from now on (tokens already issued keep working).
    pub fn set_password(&self, password: &str) {
        lock(&self.shared.auth).credentials.password = password.to_owned();
    }

    /// Every token issued so far is refused from now on (401).
    pub fn expire_tokens(&self) {
        lock(&self.shared.auth).expire_all();
    }

    /// New fault settings, and the fault sequence restarted from the config's seed.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.set(faults, self.shared.seed);
    }

    /// Requests per sandbox minute per token; 0 turns the limit off.
    pub fn set_rate_limit(&self, per_minute: u32) {
        self.shared.rate_limit_per_minute.store(per_minute, Ordering::Relaxed);
    }

    pub fn set_updated_since_filter(&self, honour: bool) {
        self.shared.updated_since_filter.store(honour, Ordering::Relaxed);
    }

    /// Stops accepting, lets the requests in flight finish, and returns when the server is gone.
    pub async fn shutdown(mut self) {
        if let Some(Serving { stop, task }) = self.serving.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }
}

impl Drop for BssSandbox {
    fn drop(&mut self) {
        if let Some(Serving { stop, task }) = self.serving.take() {
            let _ = stop.send(());
            task.abort();
        }
    }
}
