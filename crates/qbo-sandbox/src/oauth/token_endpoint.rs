//! The token endpoint (authorization code and refresh, with rotation) and revocation,
//! each answering a client that authenticates with its id and secret.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};

use super::openid::base_url;
use super::{OAuthServer, RegisteredApp, TokenSet, CODE_LIFETIME_SECS};
use crate::server::lock;

#[derive(Debug, PartialEq, Eq)]
pub(super) enum TokenError {
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

    pub(super) fn refresh(
        &self,
        app: &RegisteredApp,
        form: &HashMap<String, String>,
    ) -> Result<(TokenSet, String), TokenError> {
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

    pub(super) fn revoke(&self, token: &str, client_id: &str) {
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

pub(super) async fn token(
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

pub(super) async fn revoke(
    State(server): State<Arc<OAuthServer>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
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
