//! OpenID Connect: the discovery document and userinfo.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{OAuthServer, KNOWN_SCOPES};
use crate::server::lock;

pub(super) fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

pub(super) async fn discovery(headers: HeaderMap) -> Json<Value> {
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

pub(super) async fn userinfo(State(server): State<Arc<OAuthServer>>, headers: HeaderMap) -> Response {
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
