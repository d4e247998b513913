//! Connecting a QuickBooks company with OAuth 2.0 and keeping its tokens alive.
//!
//! - [`callback`]: the authorization URL with a fresh `state`, and the checks of the
//!   callback URL, whichever way it arrives (loopback or `qbconnector://` deep link).
//! - [`loopback`]: the one-shot local listener for development (sandbox) keys.
//! - [`pending`]: an authorization kept in the keyring for a later process to finish
//!   (`qbconnector connect --print-url`, then `--callback`).
//! - [`flow`]: code exchange, refresh and revoke against Intuit's endpoints.
//! - [`store`]: where grants live — the OS keyring, never a file.
//! - [`session`]: the [`AccessTokens`](crate::token::AccessTokens) the client uses:
//!   refreshes single-flight across tasks and processes, saving a rotated refresh
//!   token before anything else happens.

pub mod callback;
pub mod flow;
pub mod loopback;
pub mod pending;
pub mod session;
pub mod store;

use std::fmt;

pub use callback::{Callback, CallbackError, PendingAuthorizations};
pub use flow::{Connection, OAuthApp, OAuthEndpoints};
pub use loopback::LoopbackListener;
pub use pending::{KeptAuthorization, PendingAuthorization, PENDING_AUTHORIZATION_SECS};
pub use session::{Clock, Session, SystemClock};
pub use store::{GrantKey, KeyringStore, MemoryTokenStore, TokenGrant, TokenStore, EARLY_REFRESH_SECS};

/// The deep link the https relay page forwards the callback to.
pub const DEEP_LINK_CALLBACK: &str = "qbconnector://oauth/callback";
pub const ACCOUNTING_SCOPE: &str = "com.intuit.quickbooks.accounting";

/// A secret string: usable, but never printed.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
