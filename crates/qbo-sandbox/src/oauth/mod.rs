//! Intuit's OAuth 2.0 as the sandbox serves it: discovery documents, a consent page
//! with a company picker, the token endpoint (authorization code and refresh, with
//! rotation), revocation, userinfo, and the API gateway's bearer-token check.
//!
//! Stricter than Intuit where Intuit is vague: a rotated refresh token is superseded
//! at once, so a client that loses the new one is found out here, not in production.

mod consent;
mod openid;
#[cfg(test)]
mod tests;
mod token_endpoint;
mod tokens;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use serde::{Deserialize, Serialize};

pub use tokens::OAuthServer;

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

/// Tokens handed out since the start or the last reset: how tests see how often a
/// client refreshed, whichever process it ran in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCounts {
    /// Successful `grant_type=refresh_token` answers of the token endpoint.
    pub refresh_grants: u64,
    /// Access tokens of every origin: code exchange, refresh and `issue_tokens`.
    pub access_tokens: u64,
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

pub fn router(server: Arc<OAuthServer>) -> Router {
    Router::new()
        .route("/.well-known/openid_sandbox_configuration", get(openid::discovery))
        .route("/.well-known/openid_configuration", get(openid::discovery))
        .route("/connect/oauth2", get(consent::authorize))
        .route("/connect/oauth2/decision", post(consent::decide))
        .route("/oauth2/v1/tokens/bearer", post(token_endpoint::token))
        .route("/v2/oauth2/tokens/revoke", post(token_endpoint::revoke))
        .route("/v1/openid_connect/userinfo", get(openid::userinfo))
        .with_state(server)
}
