//! The running sandbox: its settings, start-up, shared state, and the handle tests use to
//! seed and inspect records, move the clock and change the faults, without HTTP.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::{from_millis, Clock};
use crate::error::ApiError;
use crate::faults::{FaultCounts, FaultPlan, Faults};
use crate::kind::Kind;
use crate::store::Store;

/// The key a default sandbox takes in `X-Api-Key`.
pub const DEMO_API_KEY: &str = "ll_test_4f1c2a";

#[derive(Debug, Clone, PartialEq)]
pub struct RestConfig {
    /// What `X-Api-Key` must carry; anything else is 401.
    pub api_key: String,
    /// Rows per list page; a list longer than this goes on through next links.
    pub page_size: usize,
    /// Next links as `http://127.0.0.1:PORT/v1/…` rather than `/v1/…` (relative to the
    /// server, as most are); a client must follow both.
    pub absolute_next_links: bool,
    /// A PATCH without If-Match is refused (428): the profile says to send one, so a client
    /// that forgets is caught. Off, a PATCH without it overwrites whatever is there.
    pub require_if_match: bool,
    /// Where the clock starts; it moves only by [`RestSandbox::advance_clock`].
    pub clock_start: DateTime<Utc>,
    pub faults: Faults,
    /// Seeds the fault sequence.
    pub seed: u64,
}

impl Default for RestConfig {
    fn default() -> RestConfig {
        RestConfig {
            api_key: DEMO_API_KEY.into(),
            page_size: 100,
            absolute_next_links: false,
            require_if_match: true,
            clock_start: DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default(), // 2026-01-01T00:00:00Z
            faults: Faults::default(),
            seed: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// State every handler shares.
pub(crate) struct Shared {
    pub store: Mutex<Store>,
    pub clock: Clock,
    pub faults: FaultPlan,
    pub requests: AtomicU64,
    pub api_key: String,
    pub page_size: usize,
    pub require_if_match: bool,
    /// What goes before a next link's path: empty, or the base URL for absolute links.
    pub link_origin: String,
}

/// Locks a mutex even if a panic poisoned it: a write checks everything before it changes
/// anything, so no half-made state is left to protect.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Serving {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// A running Ledgerline sandbox on a loopback port. Dropping it stops the server.
pub struct RestSandbox {
    base_url: String,
    shared: Arc<Shared>,
    serving: Option<Serving>,
}

impl RestSandbox {
    pub async fn start(config: RestConfig) -> Result<RestSandbox, SandboxError> {
        if config.page_size == 0 {
            return Err(SandboxError::Config("a page holds at least one row".into()));
        }
        if let Some(problem) = config.faults.problem() {
            return Err(SandboxError::Config(problem));
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        let listener = TcpListener::bind(addr).await.map_err(|source| SandboxError::Bind { addr, source })?;
        let local = listener.local_addr().map_err(|source| SandboxError::Bind { addr, source })?;
        let base_url = format!("http://{local}");
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::default()),
            clock: Clock::starting_at(config.clock_start),
            faults: FaultPlan::new(config.faults, config.seed),
            requests: AtomicU64::default(),
            api_key: config.api_key,
            page_size: config.page_size,
            require_if_match: config.require_if_match,
            link_origin: if config.absolute_next_links { base_url.clone() } else { String::new() },
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let server = axum::serve(listener, crate::http::router(shared.clone())).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move {
            if let Err(error) = server.await {
                tracing::error!(%error, "rest-sandbox stopped");
            }
        });
        Ok(RestSandbox { base_url, shared, serving: Some(Serving { stop, task }) })
    }

    /// `http://127.0.0.1:PORT`; the API is under `/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://127.0.0.1:PORT/v1`: what the Ledgerline profile's server URL stands for.
    pub fn api_url(&self) -> String {
        format!("{}/v1", self.base_url)
    }

    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// Makes a record as `POST /v1/<kind>` would, with its checks, but no HTTP, key or faults.
    pub fn create(&self, kind: Kind, body: &Value) -> Result<Value, ApiError> {
        let now = self.shared.clock.now_ms();
        lock(&self.shared.store).create(kind, body, now).map(|row| row.to_value(kind))
    }

    /// Changes a record as `PATCH /v1/<kind>/<id>` would (a merge patch), whatever its ETag.
    pub fn update(&self, kind: Kind, id: &str, patch: &Value) -> Result<Value, ApiError> {
        let now = self.shared.clock.now_ms();
        lock(&self.shared.store).update(kind, id, patch, None, now).map(|row| row.to_value(kind))
    }

    pub fn delete(&self, kind: Kind, id: &str) -> Result<(), ApiError> {
        lock(&self.shared.store).delete(kind, id, None)
    }

    /// The record as `GET /v1/<kind>/<id>` answers it.
    pub fn get(&self, kind: Kind, id: &str) -> Option<Value> {
        lock(&self.shared.store).find(kind, id).ok().map(|row| row.to_value(kind))
    }

    /// The record's ETag as sent, quotes included: `"v2"`.
    pub fn etag(&self, kind: Kind, id: &str) -> Option<String> {
        lock(&self.shared.store).find(kind, id).ok().map(|row| row.etag())
    }

    /// Every record of the kind, in the order they were made.
    pub fn list(&self, kind: Kind) -> Vec<Value> {
        lock(&self.shared.store).rows(kind).map(|row| row.to_value(kind)).collect()
    }

    pub fn count(&self, kind: Kind) -> usize {
        lock(&self.shared.store).count(kind)
    }

    /// Adds `per_kind` records of each kind that refer to one another (see seed.rs).
    pub fn seed(&self, per_kind: usize) -> Result<(), ApiError> {
        let now = self.shared.clock.now_ms();
        crate::seed::generate(&mut lock(&self.shared.store), per_kind, now)
    }

    /// Server time now: every write is stamped with it.
    pub fn now(&self) -> DateTime<Utc> {
        from_millis(self.shared.clock.now_ms())
    }

    /// Moves server time on, so later writes have later stamps.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// New fault settings, and the fault sequence started again from the config's seed.
    pub fn set_faults(&self, faults: Faults) -> Result<(), SandboxError> {
        if let Some(problem) = faults.problem() {
            return Err(SandboxError::Config(problem));
        }
        self.shared.faults.set(faults);
        Ok(())
    }

    pub fn fault_counts(&self) -> FaultCounts {
        self.shared.faults.counts()
    }

    /// Calls answered over HTTP, faults and refusals included.
    pub fn requests_served(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stops taking calls, lets those in flight finish, and returns when the server is gone.
    pub async fn shutdown(mut self) {
        if let Some(Serving { stop, task }) = self.serving.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }
}

impl Drop for RestSandbox {
    fn drop(&mut self) {
        if let Some(Serving { stop, task }) = self.serving.take() {
            let _ = stop.send(());
            task.abort();
        }
    }
}
