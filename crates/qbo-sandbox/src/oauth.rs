//! Intuit's OAuth 2.0 as the sandbox serves it: discovery documents, a consent page
//! with a company picker, the token endpoint (authorization code and refresh, with
//! rotation), revocation, userinfo, and the API gateway's bearer-token check.
//!
//! Stricter than Intuit where Intuit is vague: a rotated refresh token is superseded
//! at once, so a client that loses the new one is found out here, not in production.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::clock::Clock;
use crate::fault::Fault;
use crate::server::lock;

/// The documented demo app, registered in every sandbox.
pub const DEMO_CLIENT_ID: &str = "qbconnector-demo-client";
pub const DEMO_CLIENT_SECRET: &str = "qbconnector-demo-secret";
pub const DEMO_REDIRECT_URIS: [&str; 2] = ["http://localhost:8765/callback", "https://qbconnector.example/oauth-relay"];

pub const ACCOUNTING_SCOPE: &str = "com.intuit.quickbooks.accounting";
const KNOWN_SCOPES: [&str; 7] =
    [ACCOUNTING_SCOPE, "com.intuit.quickbooks.payment", "openid", "profile", "email", "phone", "address"];
const CODE_LIFETIME_SECS: i64 = 600;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredApp {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
}

impl RegisteredApp {
    /// An app named `name` whose client id is `name` lower-cased with "-app", its secret
    /// `…-secret`, sending its answers to `redirect_uri`: tests need an app, not its details.
    pub fn named(name: &str, redirect_uri: &str) -> RegisteredApp {
        let id = name.to_lowercase();
        RegisteredApp {
            name: name.into(),
            client_id: format!("{id}-app"),
            client_secret: format!("{id}-secret"),
            redirect_uris: vec![redirect_uri.into()],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoApprove {
    /// The company to connect; the first one when absent.
    pub realm_id: Option<String>,
    /// Answer `access_denied` instead, as an operator pressing Cancel would.
    pub deny: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuthConfig {
    pub access_token_ttl_secs: i64,
    /// A refresh with a refresh token older than this returns a new one and supersedes the old.
    pub refresh_rotation_secs: i64,
    /// Rolling lifetime of a refresh token, restarted by each refresh (about 101 days).
    pub refresh_token_ttl_secs: i64,
    /// Fixed lifetime of a grant from its first issue (5 years).
    pub refresh_token_hard_ttl_secs: i64,
    pub auto_approve: Option<AutoApprove>,
}

impl Default for OAuthConfig {
    fn default() -> OAuthConfig {
        OAuthConfig {
            access_token_ttl_secs: 3600,
            refresh_rotation_secs: 24 * 3600,
            refresh_token_ttl_secs: 8_726_400,
            refresh_token_hard_ttl_secs: 5 * 365 * 24 * 3600,
            auto_approve: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub x_refresh_token_expires_in: i64,
    pub realm_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Grant {
    client_id: String,
    realm_id: String,
    scope: String,
    hard_expires_at: i64,
    revoked: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RefreshToken {
    grant: String,
    issued_at: i64,
    expires_at: i64,
    superseded: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct AccessToken {
    grant: String,
    expires_at: i64,
}

#[derive(Clone, Debug)]
struct Authorization {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
}

#[derive(Clone, Debug)]
struct IssuedCode {
    authorization: Authorization,
    realm_id: String,
    issued_at: i64,
    /// The grant made from it, revoked if the code is presented twice.
    grant: Option<String>,
}

#[derive(Default, Serialize, Deserialize)]
struct Tokens {
    apps: BTreeMap<String, RegisteredApp>,
    grants: HashMap<String, Grant>,
    refresh: HashMap<String, RefreshToken>,
    access: HashMap<String, AccessToken>,
}

type CompanyList = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

/// Tokens handed out since the start or the last reset: how tests see how often a
/// client refreshed, whichever process it ran in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCounts {
    /// Successful `grant_type=refresh_token` answers of the token endpoint.
    pub refresh_grants: u64,
    /// Access tokens of every origin: code exchange, refresh and `issue_tokens`.
    pub access_tokens: u64,
}

#[derive(Default)]
struct Counters {
    refresh_grants: AtomicU64,
    access_tokens: AtomicU64,
}

pub struct OAuthServer {
    config: Mutex<OAuthConfig>,
    clock: Clock,
    companies: CompanyList,
    tokens: Mutex<Tokens>,
    consents: Mutex<HashMap<String, Authorization>>,
    codes: Mutex<HashMap<String, IssuedCode>>,
    counters: Counters,
}

fn random_token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Intuit's rule: registered redirect URIs are https (not to an IP address), or
/// http://localhost for development keys. Custom schemes are refused.
pub fn redirect_uri_allowed(uri: &str) -> bool {
    let Ok(parsed) = url::Url::parse(uri) else { return false };
    matches!(
        (parsed.scheme(), parsed.host()),
        ("https", Some(url::Host::Domain(_))) | ("http", Some(url::Host::Domain("localhost")))
    )
}

#[derive(Debug, PartialEq, Eq)]
enum TokenError {
    InvalidClient,
    InvalidGrant(String),
    InvalidRequest(String),
    UnsupportedGrantType,
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let (status, error, description) = match self {
            TokenError::InvalidClient => {
                (StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed".to_owned())
            }
            TokenError::InvalidGrant(why) => (StatusCode::BAD_REQUEST, "invalid_grant", why),
            TokenError::InvalidRequest(why) => (StatusCode::BAD_REQUEST, "invalid_request", why),
            TokenError::UnsupportedGrantType => {
                (StatusCode::BAD_REQUEST, "unsupported_grant_type", "Only authorization_code and refresh_token".into())
            }
        };
        let mut response = (status, Json(json!({"error": error, "error_description": description}))).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
        response
    }
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

    fn now(&self) -> i64 {
        self.clock.now_utc().unix_timestamp()
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

    fn new_grant(&self, tokens: &mut Tokens, client_id: &str, realm_id: &str, scope: &str) -> String {
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
    fn token_set(&self, tokens: &mut Tokens, grant_id: &str, keep: Option<String>) -> TokenSet {
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

    fn check_client(&self, headers: &HeaderMap, form: &HashMap<String, String>) -> Result<RegisteredApp, TokenError> {
        let (client_id, secret) = match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            Some(value) => {
                let encoded = value.strip_prefix("Basic ").ok_or(TokenError::InvalidClient)?;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|_| TokenError::InvalidClient)?;
                let decoded = String::from_utf8(decoded).map_err(|_| TokenError::InvalidClient)?;
                let (id, secret) = decoded.split_once(':').ok_or(TokenError::InvalidClient)?;
                (id.to_owned(), secret.to_owned())
            }
            None => (
                form.get("client_id").cloned().ok_or(TokenError::InvalidClient)?,
                form.get("client_secret").cloned().ok_or(TokenError::InvalidClient)?,
            ),
        };
        let tokens = lock(&self.tokens);
        match tokens.apps.get(&client_id) {
            Some(app) if app.client_secret == secret => Ok(app.clone()),
            _ => Err(TokenError::InvalidClient),
        }
    }

    fn exchange_code(
        &self,
        app: &RegisteredApp,
        form: &HashMap<String, String>,
    ) -> Result<(TokenSet, String), TokenError> {
        let code = form.get("code").ok_or_else(|| TokenError::InvalidRequest("code is missing".into()))?;
        let redirect_uri =
            form.get("redirect_uri").ok_or_else(|| TokenError::InvalidRequest("redirect_uri is missing".into()))?;
        let mut codes = lock(&self.codes);
        let issued =
            codes.get_mut(code).ok_or_else(|| TokenError::InvalidGrant("The authorization code is unknown".into()))?;
        if let Some(grant) = &issued.grant {
            // RFC 6749 §4.1.2: a code used twice revokes what it granted.
            let grant = grant.clone();
            drop(codes);
            if let Some(g) = lock(&self.tokens).grants.get_mut(&grant) {
                g.revoked = true;
            }
            return Err(TokenError::InvalidGrant("The authorization code was already used".into()));
        }
        if issued.authorization.client_id != app.client_id {
            return Err(TokenError::InvalidGrant("The authorization code was issued to another client".into()));
        }
        if &issued.authorization.redirect_uri != redirect_uri {
            return Err(TokenError::InvalidGrant("redirect_uri does not match the authorization request".into()));
        }
        if self.now() - issued.issued_at > CODE_LIFETIME_SECS {
            return Err(TokenError::InvalidGrant("The authorization code has expired".into()));
        }
        let mut tokens = lock(&self.tokens);
        let grant = self.new_grant(&mut tokens, &app.client_id, &issued.realm_id, &issued.authorization.scope);
        issued.grant = Some(grant.clone());
        Ok((self.token_set(&mut tokens, &grant, None), grant))
    }

    fn refresh(&self, app: &RegisteredApp, form: &HashMap<String, String>) -> Result<(TokenSet, String), TokenError> {
        let presented =
            form.get("refresh_token").ok_or_else(|| TokenError::InvalidRequest("refresh_token is missing".into()))?;
        let now = self.now();
        let rotation = self.config().refresh_rotation_secs;
        let mut tokens = lock(&self.tokens);
        let refresh = tokens
            .refresh
            .get(presented)
            .cloned()
            .ok_or_else(|| TokenError::InvalidGrant("Incorrect Token type or clientID".into()))?;
        let grant = tokens
            .grants
            .get(&refresh.grant)
            .cloned()
            .ok_or_else(|| TokenError::InvalidGrant("The grant is gone".into()))?;
        if grant.client_id != app.client_id {
            return Err(TokenError::InvalidGrant("Incorrect Token type or clientID".into()));
        }
        if grant.revoked {
            return Err(TokenError::InvalidGrant("The refresh token was revoked".into()));
        }
        if refresh.superseded {
            return Err(TokenError::InvalidGrant("The refresh token was superseded by a newer one".into()));
        }
        if refresh.expires_at <= now || grant.hard_expires_at <= now {
            return Err(TokenError::InvalidGrant("The refresh token has expired".into()));
        }
        let keep = if now - refresh.issued_at >= rotation {
            if let Some(old) = tokens.refresh.get_mut(presented) {
                old.superseded = true;
            }
            None
        } else {
            Some(presented.clone())
        };
        self.counters.refresh_grants.fetch_add(1, Ordering::Relaxed);
        Ok((self.token_set(&mut tokens, &refresh.grant, keep), refresh.grant))
    }

    fn revoke(&self, token: &str, client_id: &str) {
        let mut tokens = lock(&self.tokens);
        let grant = tokens
            .refresh
            .get(token)
            .map(|r| r.grant.clone())
            .or_else(|| tokens.access.get(token).map(|a| a.grant.clone()));
        if let Some(grant) = grant.and_then(|id| tokens.grants.get_mut(&id)) {
            if grant.client_id == client_id {
                grant.revoked = true;
            }
        }
    }

    fn id_token(&self, app: &RegisteredApp, grant: &str, base: &str) -> Option<String> {
        let tokens = lock(&self.tokens);
        let grant = tokens.grants.get(grant)?;
        if !grant.scope.split(' ').any(|s| s == "openid") {
            return None;
        }
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = engine.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
        let now = self.now();
        let claims = json!({"sub": format!("sandbox-user-{}", grant.realm_id), "aud": [app.client_id], "iss": base,
            "realmid": grant.realm_id, "auth_time": now, "iat": now, "exp": now + 3600});
        Some(format!("{header}.{}.", engine.encode(claims.to_string())))
    }
}

pub fn router(server: Arc<OAuthServer>) -> Router {
    Router::new()
        .route("/.well-known/openid_sandbox_configuration", get(discovery))
        .route("/.well-known/openid_configuration", get(discovery))
        .route("/connect/oauth2", get(authorize))
        .route("/connect/oauth2/decision", post(decide))
        .route("/oauth2/v1/tokens/bearer", post(token))
        .route("/v2/oauth2/tokens/revoke", post(revoke))
        .route("/v1/openid_connect/userinfo", get(userinfo))
        .with_state(server)
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

async fn discovery(headers: HeaderMap) -> Json<Value> {
    let base = base_url(&headers);
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/connect/oauth2"),
        "token_endpoint": format!("{base}/oauth2/v1/tokens/bearer"),
        "userinfo_endpoint": format!("{base}/v1/openid_connect/userinfo"),
        "revocation_endpoint": format!("{base}/v2/oauth2/tokens/revoke"),
        "jwks_uri": format!("{base}/v1/openid_connect/keys"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["none"],
        "scopes_supported": KNOWN_SCOPES,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        "grant_types_supported": ["authorization_code", "refresh_token"]
    }))
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=utf-8><title>Authorization error</title></head>\
         <body style=\"font-family:system-ui;margin:3rem\"><h1>We can't connect this app</h1><p>{}</p></body></html>",
        html_escape(message)
    );
    (status, Html(body)).into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return error_page(StatusCode::BAD_REQUEST, "The redirect URI is not a URL."),
    };
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

fn approve(server: &OAuthServer, authorization: Authorization, realm_id: &str) -> Response {
    let code = random_token("AB11");
    let state = authorization.state.clone().unwrap_or_default();
    let redirect_uri = authorization.redirect_uri.clone();
    lock(&server.codes).insert(
        code.clone(),
        IssuedCode { authorization, realm_id: realm_id.to_owned(), issued_at: server.now(), grant: None },
    );
    redirect_with(&redirect_uri, &[("code", &code), ("state", &state), ("realmId", realm_id)])
}

fn deny(authorization: &Authorization) -> Response {
    let state = authorization.state.clone().unwrap_or_default();
    redirect_with(&authorization.redirect_uri, &[("error", "access_denied"), ("state", &state)])
}

async fn authorize(State(server): State<Arc<OAuthServer>>, Query(params): Query<HashMap<String, String>>) -> Response {
    let Some(client_id) = params.get("client_id") else {
        return error_page(StatusCode::BAD_REQUEST, "client_id is missing.");
    };
    let Some(app) = lock(&server.tokens).apps.get(client_id).cloned() else {
        return error_page(StatusCode::BAD_REQUEST, &format!("No app is registered with client id {client_id}."));
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return error_page(StatusCode::BAD_REQUEST, "redirect_uri is missing.");
    };
    if !redirect_uri_allowed(redirect_uri) || !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("The redirect URI {redirect_uri} is not registered for {}. Redirect URIs must match exactly and be https (or http://localhost for development keys).", app.name),
        );
    }
    let state = params.get("state").cloned();
    let state_pair = state.clone().unwrap_or_default();
    if params.get("response_type").map(String::as_str) != Some("code") {
        return redirect_with(redirect_uri, &[("error", "unsupported_response_type"), ("state", &state_pair)]);
    }
    let scope = params.get("scope").cloned().unwrap_or_default();
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if !scopes.contains(&ACCOUNTING_SCOPE) || scopes.iter().any(|s| !KNOWN_SCOPES.contains(s)) {
        return redirect_with(redirect_uri, &[("error", "invalid_scope"), ("state", &state_pair)]);
    }
    let authorization = Authorization {
        client_id: client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        scope: scopes.join(" "),
        state,
    };
    let companies = (server.companies)();
    if let Some(auto) = server.config().auto_approve {
        if auto.deny {
            return deny(&authorization);
        }
        let realm = auto.realm_id.or_else(|| companies.first().map(|(id, _)| id.clone()));
        return match realm {
            Some(realm) => approve(&server, authorization, &realm),
            None => error_page(StatusCode::SERVICE_UNAVAILABLE, "The sandbox has no company to connect."),
        };
    }
    let nonce = random_token("consent-");
    lock(&server.consents).insert(nonce.clone(), authorization.clone());
    let options: String = companies
        .iter()
        .map(|(id, name)| {
            format!("<option value=\"{}\">{} ({})</option>", html_escape(id), html_escape(name), html_escape(id))
        })
        .collect();
    let scope_items: String = scopes.iter().map(|s| format!("<li><code>{}</code></li>", html_escape(s))).collect();
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Connect to QuickBooks (sandbox)</title>
<style>body{{font-family:system-ui,sans-serif;background:#f4f5f8;margin:0;display:flex;justify-content:center}}
main{{background:#fff;margin:4rem 1rem;padding:2rem 2.5rem;border-radius:12px;box-shadow:0 2px 12px #0002;max-width:30rem}}
h1{{font-size:1.4rem}} label{{display:block;margin:1rem 0 .3rem;font-weight:600}} select{{width:100%;padding:.5rem;font-size:1rem}}
.actions{{display:flex;gap:1rem;margin-top:1.5rem}} button{{padding:.6rem 1.4rem;font-size:1rem;border-radius:6px;border:1px solid #2ca01c;cursor:pointer}}
button.primary{{background:#2ca01c;color:#fff}} button.secondary{{background:#fff;color:#2ca01c}}</style></head>
<body><main><h1>{app} wants to connect to your QuickBooks company</h1>
<p>It asks for:</p><ul>{scope_items}</ul>
<form method="post" action="/connect/oauth2/decision"><input type="hidden" name="nonce" value="{nonce}">
<label for="realm_id">Company</label><select id="realm_id" name="realm_id">{options}</select>
<div class="actions"><button class="primary" type="submit" name="decision" value="connect">Connect</button>
<button class="secondary" type="submit" name="decision" value="cancel">Cancel</button></div></form>
<p><small>qbo-sandbox: a local stand-in for Intuit's sign-in.</small></p></main></body></html>"#,
        app = html_escape(&app.name),
    ))
    .into_response()
}

async fn decide(State(server): State<Arc<OAuthServer>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let Some(authorization) = form.get("nonce").and_then(|nonce| lock(&server.consents).remove(nonce)) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This consent form was already used or has expired. Start the connection again.",
        );
    };
    if form.get("decision").map(String::as_str) != Some("connect") {
        return deny(&authorization);
    }
    let realm = form.get("realm_id").cloned().unwrap_or_default();
    if !(server.companies)().iter().any(|(id, _)| *id == realm) {
        return error_page(StatusCode::BAD_REQUEST, "Choose one of the listed companies.");
    }
    approve(&server, authorization, &realm)
}

async fn token(
    State(server): State<Arc<OAuthServer>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let app = match server.check_client(&headers, &form) {
        Ok(app) => app,
        Err(error) => return error.into_response(),
    };
    let outcome = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => server.exchange_code(&app, &form),
        Some("refresh_token") => server.refresh(&app, &form),
        _ => Err(TokenError::UnsupportedGrantType),
    };
    let (tokens, grant) = match outcome {
        Ok(issued) => issued,
        Err(error) => return error.into_response(),
    };
    let mut body = json!({
        "token_type": "bearer",
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_in": tokens.expires_in,
        "x_refresh_token_expires_in": tokens.x_refresh_token_expires_in,
    });
    let wants_hard_expiry = headers
        .get("x-include-refresh-token-hard-expires-in")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if wants_hard_expiry {
        let hard = lock(&server.tokens).grants.get(&grant).map_or(0, |g| g.hard_expires_at - server.now());
        body["x_refresh_token_hard_expires_in"] = json!(hard);
    }
    if let Some(id_token) = server.id_token(&app, &grant, &base_url(&headers)) {
        body["id_token"] = json!(id_token);
    }
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

async fn revoke(State(server): State<Arc<OAuthServer>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let form: HashMap<String, String> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .map(|map| map.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned()))).collect())
        .or_else(|| serde_urlencoded_pairs(&body))
        .unwrap_or_default();
    let app = match server.check_client(&headers, &form) {
        Ok(app) => app,
        Err(error) => return error.into_response(),
    };
    if let Some(token) = form.get("token") {
        server.revoke(token, &app.client_id);
    }
    StatusCode::OK.into_response()
}

fn serde_urlencoded_pairs(body: &[u8]) -> Option<HashMap<String, String>> {
    let pairs: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    (!pairs.is_empty()).then_some(pairs)
}

async fn userinfo(State(server): State<Arc<OAuthServer>>, headers: HeaderMap) -> Response {
    let token =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let tokens = lock(&server.tokens);
    let grant = token
        .and_then(|t| tokens.access.get(t))
        .filter(|a| a.expires_at > server.now())
        .and_then(|a| tokens.grants.get(&a.grant))
        .filter(|g| !g.revoked && g.scope.split(' ').any(|s| s == "openid"));
    match grant {
        Some(grant) => Json(json!({
            "sub": format!("sandbox-user-{}", grant.realm_id),
            "givenName": "Sandy", "familyName": "Box",
            "email": "sandy.box@example.com", "emailVerified": true
        }))
        .into_response(),
        None => (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_token"}))).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> OAuthServer {
        let companies: CompanyList =
            Arc::new(|| vec![("111".to_owned(), "First Co".to_owned()), ("222".to_owned(), "Second Co".to_owned())]);
        OAuthServer::new(OAuthConfig::default(), Clock::default(), companies)
    }

    fn app(server: &OAuthServer) -> RegisteredApp {
        lock(&server.tokens).apps.get(DEMO_CLIENT_ID).cloned().unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn redirect_uris_follow_intuits_rule() {
        assert!(redirect_uri_allowed("https://example.com/cb"));
        assert!(redirect_uri_allowed("http://localhost:8765/callback"));
        assert!(!redirect_uri_allowed("http://example.com/cb"));
        assert!(!redirect_uri_allowed("https://127.0.0.1/cb"));
        assert!(!redirect_uri_allowed("qbconnector://oauth/callback"));
    }

    #[test]
    fn a_custom_scheme_cannot_even_be_registered() {
        let server = server();
        server.register_app(RegisteredApp {
            name: "x".into(),
            client_id: "x".into(),
            client_secret: "s".into(),
            redirect_uris: vec!["qbconnector://oauth/callback".into(), "https://relay.example/cb".into()],
        });
        assert_eq!(lock(&server.tokens).apps["x"].redirect_uris, ["https://relay.example/cb"]);
    }

    #[test]
    fn a_rotated_refresh_token_supersedes_the_old_one_at_once() {
        let server = server();
        server.set_config(OAuthConfig { refresh_rotation_secs: 0, ..OAuthConfig::default() });
        let first = server.issue_tokens(DEMO_CLIENT_ID, "111");
        let (second, _) = server.refresh(&app(&server), &form(&[("refresh_token", &first.refresh_token)])).unwrap();
        assert_ne!(second.refresh_token, first.refresh_token);
        let stale = server.refresh(&app(&server), &form(&[("refresh_token", &first.refresh_token)])).unwrap_err();
        assert!(matches!(stale, TokenError::InvalidGrant(ref why) if why.contains("superseded")));
        assert!(server.refresh(&app(&server), &form(&[("refresh_token", &second.refresh_token)])).is_ok());
    }

    #[test]
    fn only_tokens_handed_out_are_counted() {
        let server = server();
        let first = server.issue_tokens(DEMO_CLIENT_ID, "111");
        server.refresh(&app(&server), &form(&[("refresh_token", &first.refresh_token)])).unwrap();
        server.refresh(&app(&server), &form(&[("refresh_token", "unknown")])).unwrap_err();
        assert_eq!(server.token_counts(), TokenCounts { refresh_grants: 1, access_tokens: 2 });
        server.reset();
        assert_eq!(server.token_counts(), TokenCounts::default());
    }

    #[test]
    fn without_rotation_the_same_refresh_token_comes_back() {
        let server = server();
        let first = server.issue_tokens(DEMO_CLIENT_ID, "111");
        let (second, _) = server.refresh(&app(&server), &form(&[("refresh_token", &first.refresh_token)])).unwrap();
        assert_eq!(second.refresh_token, first.refresh_token);
        assert_ne!(second.access_token, first.access_token);
    }

    #[test]
    fn refresh_tokens_expire_rolling_and_hard() {
        let server = server();
        server.set_config(OAuthConfig {
            refresh_token_ttl_secs: 100,
            refresh_token_hard_ttl_secs: 1000,
            ..OAuthConfig::default()
        });
        let tokens = server.issue_tokens(DEMO_CLIENT_ID, "111");
        server.clock.advance(90);
        assert!(
            server.refresh(&app(&server), &form(&[("refresh_token", &tokens.refresh_token)])).is_ok(),
            "rolling window restarts"
        );
        server.clock.advance(90);
        assert!(server.refresh(&app(&server), &form(&[("refresh_token", &tokens.refresh_token)])).is_ok());
        server.clock.advance(101);
        assert!(server.refresh(&app(&server), &form(&[("refresh_token", &tokens.refresh_token)])).is_err());

        let hard = server.issue_tokens(DEMO_CLIENT_ID, "111");
        for _ in 0..12 {
            server.clock.advance(90);
            let _ = server.refresh(&app(&server), &form(&[("refresh_token", &hard.refresh_token)]));
        }
        assert!(
            server.refresh(&app(&server), &form(&[("refresh_token", &hard.refresh_token)])).is_err(),
            "hard expiry"
        );
    }

    #[test]
    fn the_gateway_check_knows_expiry_revocation_and_realms() {
        let server = server();
        let tokens = server.issue_tokens(DEMO_CLIENT_ID, "111");
        let bearer = format!("Bearer {}", tokens.access_token);
        assert_eq!(server.authenticate(Some(&bearer), "111").unwrap(), DEMO_CLIENT_ID);
        assert_eq!(server.authenticate(Some(&bearer), "222").unwrap_err(), Fault::wrong_realm("222"));
        assert_eq!(server.authenticate(None, "111").unwrap_err(), Fault::gateway_unauthorized());
        server.revoke(&tokens.refresh_token, DEMO_CLIENT_ID);
        assert_eq!(server.authenticate(Some(&bearer), "111").unwrap_err(), Fault::gateway_unauthorized());

        let fresh = server.issue_tokens(DEMO_CLIENT_ID, "111");
        server.expire_access_tokens();
        assert!(server.authenticate(Some(&format!("Bearer {}", fresh.access_token)), "111").is_err());
    }

    #[test]
    fn state_survives_export_and_import() {
        let server = server();
        let tokens = server.issue_tokens(DEMO_CLIENT_ID, "111");
        let again = self::server();
        again.import_state(server.export_state());
        assert!(again.authenticate(Some(&format!("Bearer {}", tokens.access_token)), "111").is_ok());
    }
}
