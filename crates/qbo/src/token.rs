//! The seam between the API client and the OAuth session: where a bearer token comes from.
//!
//! The client only asks for a token and reports a rejected one; how tokens are
//! refreshed, rotated and stored (the OS keyring) is the session's business.

use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why no usable access token could be had.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The grant is gone (refresh token superseded, revoked or expired, or a fresh token was refused):
    /// only the operator can fix it by connecting again. Never retried.
    #[error("reconnect required: {reason}")]
    ReconnectRequired { reason: String },
    /// The secret store (OS keyring) failed; the message never contains a secret.
    #[error("secret store: {0}")]
    Store(String),
    /// The token endpoint could not be reached or answered something unusable (retryable).
    #[error("token endpoint: {0}")]
    Endpoint(String),
}

/// A source of bearer tokens for one company.
pub trait AccessTokens: Send + Sync {
    /// A current access token, refreshed first when it is about to expire.
    fn access_token(&self) -> BoxFuture<'_, Result<String, AuthError>>;

    /// Called after QuickBooks answered 401 to `rejected`. Refreshes unless another
    /// task or process already replaced that token (single flight), and returns the
    /// token to retry with.
    fn refresh_after_rejection<'a>(&'a self, rejected: &'a str) -> BoxFuture<'a, Result<String, AuthError>>;
}

/// A fixed token: for tests and for tools that manage tokens elsewhere. A 401 with it
/// means reconnect.
#[derive(Debug, Clone)]
pub struct StaticToken(pub String);

impl AccessTokens for StaticToken {
    fn access_token(&self) -> BoxFuture<'_, Result<String, AuthError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }

    fn refresh_after_rejection<'a>(&'a self, _rejected: &'a str) -> BoxFuture<'a, Result<String, AuthError>> {
        Box::pin(
            async move { Err(AuthError::ReconnectRequired { reason: "the fixed access token was refused".into() }) },
        )
    }
}
