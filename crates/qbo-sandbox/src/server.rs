//! The running sandbox: configuration, start-up, shared state and the admin handle.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::company::Company;
use crate::connections::{ConnectionCounts, Connections, CountingListener};
use crate::entity::EntityKind;
use crate::inject::{FaultInjection, Injector};
use crate::limits::{Limits, Throttle};
use crate::oauth::{OAuthConfig, OAuthServer, RegisteredApp, TokenCounts, TokenSet};
use crate::store::{Store, StoreError, StoredAnswer};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxConfig {
    /// How many QuickBooks minutes pass in one real minute for the throttles: 60.0 makes a
    /// "minute" of limits last one second.
    pub time_scale: f64,
    pub limits: Limits,
    pub faults: FaultInjection,
    pub oauth: OAuthConfig,
    /// Persist companies, answers and grants in this SQLite file; in memory when `None`.
    pub data_file: Option<PathBuf>,
    /// Seed the five demo companies when the data file holds none (always when in memory).
    pub seed_demo: bool,
}

impl Default for SandboxConfig {
    fn default() -> SandboxConfig {
        SandboxConfig {
            time_scale: 1.0,
            limits: Limits::default(),
            faults: FaultInjection::default(),
            oauth: OAuthConfig::default(),
            data_file: None,
            seed_demo: true,
        }
    }
}

impl SandboxConfig {
    /// A sandbox whose consent screen approves `realm_id` at once: for tests and the demo,
    /// where no person clicks through Intuit's page.
    pub fn auto_approving(realm_id: &str) -> SandboxConfig {
        SandboxConfig {
            oauth: OAuthConfig {
                auto_approve: Some(crate::oauth::AutoApprove { realm_id: Some(realm_id.into()), deny: false }),
                ..OAuthConfig::default()
            },
            ..SandboxConfig::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a company with realm id {0} is already hosted")]
    RealmTaken(String),
}

/// One API request as the admin log shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub seq: u64,
    pub time: String,
    pub method: String,
    pub path: String,
    pub realm_id: String,
    pub operation: String,
    pub status: u16,
    pub request_id: Option<String>,
    pub client_id: Option<String>,
    pub intuit_tid: String,
    /// What fault injection did to this request, if anything.
    pub injected: Option<String>,
    /// True when a repeated requestid was answered from the first answer.
    pub replayed: bool,
}

const REQUEST_LOG_CAPACITY: usize = 20_000;

/// State every handler shares. Lock order: companies → answers → store.
pub(crate) struct Shared {
    pub companies: Mutex<BTreeMap<String, Company>>,
    pub answers: Mutex<HashMap<(String, String), StoredAnswer>>,
    pub oauth: Arc<OAuthServer>,
    pub throttle: Throttle,
    pub injector: Injector,
    pub clock: Clock,
    pub store: Option<Mutex<Store>>,
    pub log: Mutex<VecDeque<LoggedRequest>>,
    pub sequence: AtomicU64,
    pub time_scale: Mutex<f64>,
    /// The TCP connections the server has accepted; not reset with the rest.
    pub connections: Arc<Connections>,
}

/// Locks a mutex even if a panicking thread poisoned it: the sandbox's data stays
/// usable (each write validates before it mutates, so no half-written state exists).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub fn next_sequence(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn record(&self, entry: LoggedRequest) {
        let mut log = lock(&self.log);
        if log.len() == REQUEST_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }

    pub fn persist_oauth(&self) {
        if let Some(store) = &self.store {
            if let Err(error) = lock(store).save_oauth_state(&self.oauth.export_state()) {
                tracing::error!(%error, "could not persist OAuth state");
            }
        }
    }

    /// Replaces every company with the demo seed (or nothing) and forgets answers, grants and the log.
    pub fn reset(&self, seed_demo: bool) -> Result<(), StoreError> {
        let mut fresh: Vec<Company> =
            if seed_demo { crate::seed::demo_companies(self.clock.now_utc()) } else { Vec::new() };
        let mut companies = lock(&self.companies);
        if let Some(store) = &self.store {
            lock(store).replace_all(&mut fresh)?;
        }
        *companies = fresh.into_iter().map(|c| (c.realm_id().to_owned(), c)).collect();
        lock(&self.answers).clear();
        lock(&self.log).clear();
        self.throttle.reset();
        self.oauth.reset();
        drop(companies);
        self.persist_oauth();
        Ok(())
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    base_url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts on a free loopback port.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        Sandbox::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let clock = Clock::default();
        let mut store = config.data_file.as_deref().map(Store::open).transpose()?;
        let mut companies = match store.as_mut() {
            Some(store) => store.load_companies()?,
            None => Vec::new(),
        };
        if companies.is_empty() && config.seed_demo {
            companies = crate::seed::demo_companies(clock.now_utc());
            if let Some(store) = store.as_mut() {
                store.replace_all(&mut companies)?;
            }
        }
        let answers: HashMap<(String, String), StoredAnswer> = match store.as_ref() {
            Some(store) => store.load_answers()?.into_iter().map(|(realm, id, answer)| ((realm, id), answer)).collect(),
            None => HashMap::new(),
        };
        let oauth_state = store.as_ref().map(Store::load_oauth_state).transpose()?.flatten();

        let companies: BTreeMap<String, Company> =
            companies.into_iter().map(|c| (c.realm_id().to_owned(), c)).collect();
        let shared = Arc::new_cyclic(|weak: &std::sync::Weak<Shared>| {
            let weak = weak.clone();
            let list_companies = Arc::new(move || -> Vec<(String, String)> {
                weak.upgrade()
                    .map(|shared| {
                        lock(&shared.companies)
                            .values()
                            .map(|c| (c.realm_id().to_owned(), c.profile.name.clone()))
                            .collect()
                    })
                    .unwrap_or_default()
            });
            Shared {
                companies: Mutex::new(companies),
                answers: Mutex::new(answers),
                oauth: Arc::new(OAuthServer::new(config.oauth.clone(), clock.clone(), list_companies)),
                throttle: Throttle::new(config.limits, config.time_scale),
                injector: Injector::new(config.faults.clone()),
                clock,
                store: store.map(Mutex::new),
                log: Mutex::new(VecDeque::new()),
                sequence: AtomicU64::new(0),
                time_scale: Mutex::new(config.time_scale),
                connections: Arc::default(),
            }
        });
        if let Some(state) = oauth_state {
            shared.oauth.import_state(state);
        }

        let listener = TcpListener::bind(addr).await.map_err(|source| SandboxError::Bind { addr, source })?;
        let local = listener.local_addr().map_err(|source| SandboxError::Bind { addr, source })?;
        let base_url = format!("http://{local}");
        let app = crate::api::router(shared.clone());
        let listener = CountingListener::new(listener, shared.connections.clone());
        let (shutdown, on_shutdown) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = on_shutdown.await;
            });
            if let Err(error) = served.await {
                tracing::error!(%error, "qbo-sandbox stopped");
            }
        });
        Ok(Sandbox { base_url, shared, shutdown: Some(shutdown), task: Some(task) })
    }

    /// `http://127.0.0.1:PORT`: the API lives at `{base}/v3/company/{realm}/…`, OAuth at Intuit's paths.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn register_app(&self, app: RegisteredApp) {
        self.shared.oauth.register_app(app);
        self.shared.persist_oauth();
    }

    /// A grant for `client_id` on `realm_id` without the consent screen (tests, demo).
    pub fn issue_tokens(&self, client_id: &str, realm_id: &str) -> TokenSet {
        let tokens = self.shared.oauth.issue_tokens(client_id, realm_id);
        self.shared.persist_oauth();
        tokens
    }

    pub fn set_oauth_config(&self, config: OAuthConfig) {
        self.shared.oauth.set_config(config);
    }

    pub fn expire_access_tokens(&self) {
        self.shared.oauth.expire_access_tokens();
    }

    /// Refresh grants and access tokens handed out since the start or the last reset.
    pub fn token_counts(&self) -> TokenCounts {
        self.shared.oauth.token_counts()
    }

    pub fn set_faults(&self, faults: FaultInjection) {
        self.shared.injector.set(faults);
    }

    pub fn set_limits(&self, limits: Limits, time_scale: f64) {
        *lock(&self.shared.time_scale) = time_scale;
        self.shared.throttle.set_limits(limits, time_scale);
    }

    /// Entities of `kind` the company holds, inactive ones included.
    pub fn count(&self, realm_id: &str, kind: EntityKind) -> usize {
        lock(&self.shared.companies).get(realm_id).map_or(0, |c| c.count(kind))
    }

    /// Every entity of `kind` as stored (for assertions in tests).
    pub fn entities(&self, realm_id: &str, kind: EntityKind) -> Vec<serde_json::Value> {
        lock(&self.shared.companies)
            .get(realm_id)
            .map(|c| c.all(kind).map(crate::company::public_view).collect())
            .unwrap_or_default()
    }

    /// 429s answered to clients of this company since the start or the last reset.
    pub fn throttled_count(&self, realm_id: &str) -> u64 {
        self.shared.throttle.throttled_count(realm_id)
    }

    /// The TCP connections accepted since the start, open now and open at most at once.
    pub fn connections(&self) -> ConnectionCounts {
        self.shared.connections.counts()
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).iter().cloned().collect()
    }

    pub fn advance_clock(&self, seconds: i64) {
        self.shared.clock.advance(seconds);
    }

    /// The sandbox's own clock (a shared handle): a test that freezes it can give the
    /// client the same time, so token expiry means the same instant on both sides.
    pub fn clock(&self) -> Clock {
        self.shared.clock.clone()
    }

    /// Hosts `company` beside the others (persisted when there is a data file), e.g. one of
    /// [`crate::seed::us_company`] under a realm id of its own. Its limits are its own: the
    /// throttle counts each company and app apart. Refused when the realm id is taken.
    pub fn add_company(&self, mut company: Company) -> Result<(), SandboxError> {
        let mut companies = lock(&self.shared.companies);
        let realm_id = company.realm_id().to_owned();
        if companies.contains_key(&realm_id) {
            return Err(SandboxError::RealmTaken(realm_id));
        }
        if let Some(store) = &self.shared.store {
            lock(store).add(&mut company)?;
        }
        companies.insert(realm_id, company);
        Ok(())
    }

    /// Has the consent screen approve `realm_id` at once from now on (the rest of the OAuth
    /// settings kept): how a test or benchmark connects instance after instance, each to a
    /// company of its own.
    pub fn auto_approve(&self, realm_id: &str) {
        let mut config = self.shared.oauth.config();
        config.auto_approve = Some(crate::oauth::AutoApprove { realm_id: Some(realm_id.into()), deny: false });
        self.shared.oauth.set_config(config);
    }

    pub fn realms(&self) -> Vec<String> {
        lock(&self.shared.companies).keys().cloned().collect()
    }

    pub fn reset(&self, seed_demo: bool) -> Result<(), StoreError> {
        self.shared.reset(seed_demo)
    }

    pub async fn shutdown(mut self) {
        self.stop();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
