//! The tokens of one connected company, kept alive.
//!
//! A refresh is single-flight per company: one task of this process at a time (a
//! per-company async mutex) and one process at a time (an exclusive lock on a file
//! in the app's data directory). Whoever gets the locks re-reads the stored grant
//! first: if another task or process already replaced the token, it uses theirs.
//! A rotated refresh token is saved before the new access token is handed to anyone,
//! so a crash right after a refresh never loses the grant.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};

use super::callback::{Callback, CallbackError, PendingAuthorizations};
use super::flow::{Connection, OAuthApp};
use super::store::{GrantKey, TokenGrant, TokenStore};
use crate::token::{AccessTokens, AuthError, BoxFuture};

/// Where a session reads "now". The app uses [`SystemClock`]; a test hands in the
/// clock its QuickBooks stand-in uses, so expiry means the same instant on both
/// sides and the test moves time instead of sleeping.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl<F: Fn() -> DateTime<Utc> + Send + Sync> Clock for F {
    fn now(&self) -> DateTime<Utc> {
        self()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Callback(#[from] CallbackError),
    #[error(transparent)]
    Auth(#[from] AuthError),
}

pub struct Session {
    key: GrantKey,
    app: OAuthApp,
    store: Arc<dyn TokenStore>,
    lock_dir: PathBuf,
    clock: Arc<dyn Clock>,
    /// The access token last read or refreshed, with when it falls due: a keyring read
    /// costs a D-Bus round trip, too much to pay on every request of a large run.
    current: Mutex<Option<(String, i64)>>,
}

fn process_lock(key: &GrantKey) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<GrantKey, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    locks.entry(key.clone()).or_default().clone()
}

fn lock_file(path: &Path) -> std::io::Result<File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let file = File::options().create(true).truncate(false).write(true).open(path)?;
    file.lock()?;
    Ok(file)
}

fn connection_of(grant: &TokenGrant) -> Connection {
    Connection {
        realm_id: grant.realm_id.clone(),
        access_expires_at: grant.access_expires_at,
        refresh_expires_at: grant.refresh_expires_at,
        refresh_hard_expires_at: grant.refresh_hard_expires_at,
    }
}

impl Session {
    /// A session over a grant already in `store`; `lock_dir` holds the refresh lock files.
    pub fn new(key: GrantKey, app: OAuthApp, store: Arc<dyn TokenStore>, lock_dir: impl Into<PathBuf>) -> Session {
        Session { key, app, store, lock_dir: lock_dir.into(), clock: Arc::new(SystemClock), current: Mutex::new(None) }
    }

    /// The same session reading time from `clock` instead of the system's.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Session {
        self.clock = Arc::new(clock);
        self
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// Completes a connection: checks the callback (loopback or deep link), exchanges
    /// the code and saves the grant. Answers the session and what it connected.
    pub async fn connect(
        app: OAuthApp,
        pending: &PendingAuthorizations,
        callback_url: &str,
        instance: &str,
        store: Arc<dyn TokenStore>,
        lock_dir: impl Into<PathBuf>,
    ) -> Result<(Session, Connection), ConnectError> {
        let callback = pending.accept(callback_url)?;
        Session::connect_accepted(app, callback, instance, store, lock_dir).await
    }

    /// As [`Session::connect`], with a callback already checked (by
    /// [`PendingAuthorizations::accept_or`], when it may answer a kept authorization).
    pub async fn connect_accepted(
        app: OAuthApp,
        callback: Callback,
        instance: &str,
        store: Arc<dyn TokenStore>,
        lock_dir: impl Into<PathBuf>,
    ) -> Result<(Session, Connection), ConnectError> {
        let session = Session::new(GrantKey::new(instance, &callback.realm_id), app, store, lock_dir);
        let grant = session
            .app
            .exchange_code(&callback.code, &callback.redirect_uri, &callback.realm_id, session.clock.now())
            .await?;
        session.save(grant.clone()).await?;
        Ok((session, connection_of(&grant)))
    }

    pub fn key(&self) -> &GrantKey {
        &self.key
    }

    /// The stored connection's dates, or `None` when not connected.
    pub async fn connection(&self) -> Result<Option<Connection>, AuthError> {
        Ok(self.load().await?.as_ref().map(connection_of))
    }

    /// Revokes the grant at Intuit (best effort) and forgets it here.
    pub async fn disconnect(&self) -> Result<(), AuthError> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(grant) = self.load().await? {
            if let Err(error) = self.app.revoke(&grant.refresh_token).await {
                tracing::warn!(%error, realm = %self.key.realm_id, "revoking at Intuit failed; forgetting the grant anyway");
            }
        }
        let (store, key) = (self.store.clone(), self.key.clone());
        tokio::task::spawn_blocking(move || store.delete(&key)).await.map_err(|e| AuthError::Store(e.to_string()))?
    }

    async fn load(&self) -> Result<Option<TokenGrant>, AuthError> {
        let (store, key) = (self.store.clone(), self.key.clone());
        tokio::task::spawn_blocking(move || store.load(&key)).await.map_err(|e| AuthError::Store(e.to_string()))?
    }

    async fn save(&self, grant: TokenGrant) -> Result<(), AuthError> {
        let (store, key) = (self.store.clone(), self.key.clone());
        tokio::task::spawn_blocking(move || store.save(&key, &grant))
            .await
            .map_err(|e| AuthError::Store(e.to_string()))?
    }

    fn remembered(&self) -> Option<String> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current.as_ref().filter(|(_, due)| self.now() < *due).map(|(token, _)| token.clone())
    }

    fn remember(&self, grant: &TokenGrant) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        *current = Some((grant.access_token.expose().to_owned(), grant.refresh_due_at()));
    }

    fn not_connected(&self) -> AuthError {
        AuthError::ReconnectRequired {
            reason: format!("company {} is not connected (no stored grant)", self.key.realm_id),
        }
    }

    /// Refreshes unless someone else already did: `rejected` is the token QuickBooks
    /// refused (after a 401), or `None` when refreshing because the token is ending.
    async fn refresh_once(&self, rejected: Option<String>) -> Result<String, AuthError> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).take();
        let in_process = process_lock(&self.key);
        let _task_turn = in_process.lock().await;
        let path = self.lock_dir.join(format!("{}.refresh.lock", self.key.file_stem()));
        let _process_turn = tokio::task::spawn_blocking(move || lock_file(&path))
            .await
            .map_err(|e| AuthError::Store(e.to_string()))?
            .map_err(|e| {
                AuthError::Store(format!("cannot take the refresh lock in {}: {e}", self.lock_dir.display()))
            })?;

        let grant = self.load().await?.ok_or_else(|| self.not_connected())?;
        let fresh_enough = self.now() < grant.refresh_due_at();
        let replaced = rejected.as_deref().is_some_and(|r| r != grant.access_token.expose());
        if fresh_enough && (rejected.is_none() || replaced) {
            self.remember(&grant);
            return Ok(grant.access_token.expose().to_owned());
        }
        let renewed = self.app.refresh(&grant, self.clock.now()).await?;
        // Saved before anyone uses it: the old refresh token may already be dead.
        self.save(renewed.clone()).await?;
        self.remember(&renewed);
        tracing::info!(realm = %self.key.realm_id, rotated = renewed.refresh_token != grant.refresh_token, "refreshed the QuickBooks access token");
        Ok(renewed.access_token.expose().to_owned())
    }
}

impl AccessTokens for Session {
    fn access_token(&self) -> BoxFuture<'_, Result<String, AuthError>> {
        Box::pin(async move {
            if let Some(token) = self.remembered() {
                return Ok(token);
            }
            let grant = self.load().await?.ok_or_else(|| self.not_connected())?;
            if self.now() < grant.refresh_due_at() {
                self.remember(&grant);
                return Ok(grant.access_token.expose().to_owned());
            }
            self.refresh_once(None).await
        })
    }

    fn refresh_after_rejection<'a>(&'a self, rejected: &'a str) -> BoxFuture<'a, Result<String, AuthError>> {
        Box::pin(self.refresh_once(Some(rejected.to_owned())))
    }
}
