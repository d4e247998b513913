//! Grants and the refresh and access tokens issued for them, the gateway's check of a
//! bearer token, and the state the sandbox saves and restores.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::consent::{Authorization, IssuedCode};
use super::{
    random_token, redirect_uri_allowed, OAuthConfig, RegisteredApp, TokenCounts, TokenSet, ACCOUNTING_SCOPE,
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URIS,
};
use crate::clock::Clock;
use crate::fault::Fault;
use crate::server::lock;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Grant {
    pub(super) client_id: String,
    pub(super) realm_id: String,
    pub(super) scope: String,
    pub(super) hard_expires_at: i64,
    pub(super) revoked: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct RefreshToken {
    pub(super) grant: String,
    pub(super) issued_at: i64,
    pub(super) expires_at: i64,
    pub(super) superseded: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct AccessToken {
    pub(super) grant: String,
    pub(super) expires_at: i64,
}

#[derive(Default, Serialize, Deserialize)]
pub(super) struct Tokens {
    pub(super) apps: BTreeMap<String, RegisteredApp>,
    pub(super) grants: HashMap<String, Grant>,
    pub(super) refresh: HashMap<String, RefreshToken>,
    pub(super) access: HashMap<String, AccessToken>,
}

pub(super) type CompanyList = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

#[derive(Default)]
pub(super) struct Counters {
    pub(super) refresh_grants: AtomicU64,
    pub(super) access_tokens: AtomicU64,
}

pub struct OAuthServer {
    pub(super) config: Mutex<OAuthConfig>,
    pub(super) clock: Clock,
    pub(super) companies: CompanyList,
    pub(super) tokens: Mutex<Tokens>,
    pub(super) consents: Mutex<HashMap<String, Authorization>>,
    pub(super) codes: Mutex<HashMap<String, IssuedCode>>,
    pub(super) counters: Counters,
}

impl OAuthServer {
    pub fn new(config: OAuthConfig, clock: Clock, companies: CompanyList) -> OAuthServer {
        let server = OAuthServer {
            config: Mutex::new(config),
            clock,
            companies,
            tokens: Mutex::new(Tokens::default()),
            consents: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        };
        server.register_app(RegisteredApp {
            name: "QuickBooks Connector (demo)".into(),
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
            redirect_uris: DEMO_REDIRECT_URIS.iter().map(|s| (*s).to_owned()).collect(),
        });
        server
    }

    pub(super) fn now(&self) -> i64 {
        self.clock.now_utc().timestamp()
    }

    /// Registers (or replaces) an app; redirect URIs Intuit would refuse are dropped.
    pub fn register_app(&self, mut app: RegisteredApp) {
        app.redirect_uris.retain(|uri| redirect_uri_allowed(uri));
        lock(&self.tokens).apps.insert(app.client_id.clone(), app);
    }

    pub fn set_config(&self, config: OAuthConfig) {
        *lock(&self.config) = config;
    }

    pub fn config(&self) -> OAuthConfig {
        lock(&self.config).clone()
    }

    pub fn token_counts(&self) -> TokenCounts {
        TokenCounts {
            refresh_grants: self.counters.refresh_grants.load(Ordering::Relaxed),
            access_tokens: self.counters.access_tokens.load(Ordering::Relaxed),
        }
    }

    /// The gateway's check of `Authorization: Bearer …` for a call on `realm_id`.
    pub fn authenticate(&self, authorization: Option<&str>, realm_id: &str) -> Result<String, Fault> {
        let token = authorization
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(Fault::gateway_unauthorized)?;
        let tokens = lock(&self.tokens);
        let access = tokens.access.get(token).ok_or_else(Fault::gateway_unauthorized)?;
        let grant = tokens.grants.get(&access.grant).ok_or_else(Fault::gateway_unauthorized)?;
        if grant.revoked || access.expires_at <= self.now() {
            return Err(Fault::gateway_unauthorized());
        }
        if grant.realm_id != realm_id {
            return Err(Fault::wrong_realm(realm_id));
        }
        Ok(grant.client_id.clone())
    }

    /// A grant without the consent screen, for tests and the demo.
    pub fn issue_tokens(&self, client_id: &str, realm_id: &str) -> TokenSet {
        let mut tokens = lock(&self.tokens);
        let grant = self.new_grant(&mut tokens, client_id, realm_id, ACCOUNTING_SCOPE);
        self.token_set(&mut tokens, &grant, None)
    }

    pub(super) fn new_grant(&self, tokens: &mut Tokens, client_id: &str, realm_id: &str, scope: &str) -> String {
        let id = random_token("grant-");
        let hard_expires_at = self.now() + self.config().refresh_token_hard_ttl_secs;
        tokens.grants.insert(
            id.clone(),
            Grant {
                client_id: client_id.into(),
                realm_id: realm_id.into(),
                scope: scope.into(),
                hard_expires_at,
                revoked: false,
            },
        );
        id
    }

    /// A new access token, and a refresh token: `keep` when it is not due for rotation.
    pub(super) fn token_set(&self, tokens: &mut Tokens, grant_id: &str, keep: Option<String>) -> TokenSet {
        let config = self.config();
        let now = self.now();
        let access_token = random_token("eyJsandbox.");
        self.counters.access_tokens.fetch_add(1, Ordering::Relaxed);
        tokens.access.insert(
            access_token.clone(),
            AccessToken { grant: grant_id.into(), expires_at: now + config.access_token_ttl_secs },
        );
        let hard_expires_at = tokens.grants.get(grant_id).map_or(now, |g| g.hard_expires_at);
        let rolling = (now + config.refresh_token_ttl_secs).min(hard_expires_at);
        let refresh_token = match keep {
            Some(token) => {
                if let Some(refresh) = tokens.refresh.get_mut(&token) {
                    refresh.expires_at = rolling;
                }
                token
            }
            None => {
                let token = random_token("RT1-");
                tokens.refresh.insert(
                    token.clone(),
                    RefreshToken { grant: grant_id.into(), issued_at: now, expires_at: rolling, superseded: false },
                );
                token
            }
        };
        TokenSet {
            access_token,
            refresh_token,
            expires_in: config.access_token_ttl_secs,
            x_refresh_token_expires_in: rolling - now,
            realm_id: tokens.grants.get(grant_id).map(|g| g.realm_id.clone()).unwrap_or_default(),
        }
    }

    /// Every live access token expires now (tests of 401 → refresh).
    pub fn expire_access_tokens(&self) {
        let now = self.now();
        for access in lock(&self.tokens).access.values_mut() {
            access.expires_at = access.expires_at.min(now);
        }
    }

    /// Forgets every grant; registered apps stay.
    pub fn reset(&self) {
        let mut tokens = lock(&self.tokens);
        tokens.grants.clear();
        tokens.refresh.clear();
        tokens.access.clear();
        lock(&self.codes).clear();
        lock(&self.consents).clear();
        self.counters.refresh_grants.store(0, Ordering::Relaxed);
        self.counters.access_tokens.store(0, Ordering::Relaxed);
    }

    pub fn export_state(&self) -> Value {
        serde_json::to_value(&*lock(&self.tokens)).unwrap_or(Value::Null)
    }

    pub fn import_state(&self, state: Value) {
        if let Ok(mut imported) = serde_json::from_value::<Tokens>(state) {
            let mut tokens = lock(&self.tokens);
            // The demo app of this build wins over a stored copy.
            for (client_id, app) in std::mem::take(&mut tokens.apps) {
                imported.apps.entry(client_id).or_insert(app);
            }
            *tokens = imported;
        }
    }
}
