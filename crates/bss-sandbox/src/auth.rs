//! The password grant at `POST /oauth/token` [D] and the bearer check on `/api`.
//!
//! The client key and secret travel only as HTTP Basic auth [D]; a body that carries
//! them is refused. There is no refresh grant [I]: a client whose token is refused
//! asks for a new one with the password grant. Tokens live `token_lifetime` on the
//! sandbox clock, and each token has its own request-per-minute window.

use std::collections::{HashMap, VecDeque};

use base64::Engine;
use serde_json::json;

use crate::clock::Millis;
use crate::error::ApiError;

const MINUTE_MS: Millis = 60_000;

/// What a client must present: the API credentials and the application user [D].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
}

/// An OAuth 2.0 error answer (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrantError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl GrantError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> GrantError {
        GrantError { status, error, description: description.into() }
    }

    pub fn body(&self) -> String {
        json!({"error": self.error, "error_description": self.description}).to_string()
    }
}

#[derive(Debug)]
struct Token {
    expires_at: Millis,
    /// Times of the requests admitted in the last sandbox minute.
    window: VecDeque<Millis>,
}

pub(crate) struct Auth {
    pub credentials: Credentials,
    pub lifetime_ms: Millis,
    tokens: HashMap<String, Token>,
    issued: u64,
}

impl Auth {
    pub fn new(credentials: Credentials, lifetime_secs: u64) -> Auth {
        let lifetime_ms = Millis::try_from(lifetime_secs.saturating_mul(1000)).unwrap_or(Millis::MAX / 4);
        Auth { credentials, lifetime_ms, tokens: HashMap::new(), issued: 0 }
    }

    pub fn issued(&self) -> u64 {
        self.issued
    }

    /// Answers a token request: `authorization` is the request's header, `form` its body.
    pub fn grant(
        &mut self,
        authorization: Option<&str>,
        form: &[(String, String)],
        now: Millis,
    ) -> Result<serde_json::Value, GrantError> {
        let field = |name: &str| form.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        if field("client_id").is_some() || field("client_secret").is_some() {
            return Err(GrantError::new(
                400,
                "invalid_request",
                "Client credentials must be sent with HTTP Basic authentication only, not in the body.",
            ));
        }
        let grant_type =
            field("grant_type").ok_or_else(|| GrantError::new(400, "invalid_request", "grant_type is missing."))?;
        if grant_type != "password" {
            return Err(GrantError::new(
                400,
                "unsupported_grant_type",
                format!("grant_type {grant_type} is not supported."),
            ));
        }
        let (client_id, client_secret) = basic_credentials(authorization).ok_or_else(|| {
            GrantError::new(401, "invalid_client", "Client authentication with HTTP Basic is required.")
        })?;
        if client_id != self.credentials.client_id || client_secret != self.credentials.client_secret {
            return Err(GrantError::new(401, "invalid_client", "The client credentials are invalid."));
        }
        let (Some(username), Some(password)) = (field("username"), field("password")) else {
            return Err(GrantError::new(400, "invalid_request", "username and password are required."));
        };
        if username != self.credentials.username || password != self.credentials.password {
            return Err(GrantError::new(400, "invalid_grant", "The user name or password is incorrect."));
        }
        self.tokens.retain(|_, token| token.expires_at > now);
        let access_token = new_token();
        self.tokens.insert(access_token.clone(), Token { expires_at: now + self.lifetime_ms, window: VecDeque::new() });
        self.issued += 1;
        Ok(json!({
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": self.lifetime_ms / 1000,
        }))
    }

    /// The bearer token of an `/api` request, if it is known and unexpired.
    pub fn check(&self, authorization: Option<&str>, now: Millis) -> Result<String, ApiError> {
        let token = authorization
            .and_then(|header| header.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(|| ApiError::new(401, "Authorization has been denied for this request."))?;
        match self.tokens.get(token) {
            Some(found) if found.expires_at > now => Ok(token.to_owned()),
            Some(_) => Err(ApiError::new(401, "The access token has expired.")),
            None => Err(ApiError::new(401, "Authorization has been denied for this request.")),
        }
    }

    /// Admits one request of `token` under a limit per sliding sandbox minute, or
    /// says how many sandbox milliseconds until a slot frees. A refusal counts for nothing.
    pub fn admit(&mut self, token: &str, per_minute: u32, now: Millis) -> Result<(), Millis> {
        let Some(token) = self.tokens.get_mut(token) else { return Ok(()) };
        if per_minute == 0 {
            return Ok(());
        }
        while token.window.front().is_some_and(|at| *at <= now - MINUTE_MS) {
            token.window.pop_front();
        }
        if token.window.len() >= per_minute as usize {
            let oldest = token.window.front().copied().unwrap_or(now);
            return Err(oldest + MINUTE_MS - now);
        }
        token.window.push_back(now);
        Ok(())
    }

    /// Every token issued so far stops working (the next request gets a 401).
    pub fn expire_all(&mut self) {
        for token in self.tokens.values_mut() {
            token.expires_at = Millis::MIN;
        }
    }
}

/// `Basic base64(id:secret)`; each part may be form-urlencoded (RFC 6749 §2.3.1).
fn basic_credentials(authorization: Option<&str>) -> Option<(String, String)> {
    let (scheme, encoded) = authorization?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((form_decode(id), form_decode(secret)))
}

fn form_decode(text: &str) -> String {
    url::form_urlencoded::parse(text.as_bytes()).map(|(key, _)| key.into_owned()).next().unwrap_or_default()
}

fn new_token() -> String {
    let bytes: [u8; 24] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new(
            Credentials {
                client_id: "key".into(),
                client_secret: "s&cret".into(),
                username: "user".into(),
                password: "pw".into(),
            },
            60,
        )
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_form_encoded_secret_in_basic_auth_is_decoded() {
        let mut auth = auth();
        let body = form(&[("grant_type", "password"), ("username", "user"), ("password", "pw")]);
        assert!(auth.grant(Some(&basic("key", "s%26cret")), &body, 0).is_ok());
        assert_eq!(auth.grant(Some(&basic("key", "nope")), &body, 0).unwrap_err().error, "invalid_client");
        assert_eq!(auth.issued(), 1);
    }

    #[test]
    fn the_rate_window_slides_per_token() {
        let mut auth = auth();
        let body = form(&[("grant_type", "password"), ("username", "user"), ("password", "pw")]);
        let token =
            auth.grant(Some(&basic("key", "s%26cret")), &body, 0).unwrap()["access_token"].as_str().unwrap().to_owned();
        assert_eq!(auth.admit(&token, 2, 0), Ok(()));
        assert_eq!(auth.admit(&token, 2, 30_000), Ok(()));
        assert_eq!(auth.admit(&token, 2, 40_000), Err(20_000));
        assert_eq!(auth.admit(&token, 2, 60_000), Ok(()), "the first request left the window");
        assert_eq!(auth.admit(&token, 0, 60_000), Ok(()), "0 turns the limit off");
    }
}
