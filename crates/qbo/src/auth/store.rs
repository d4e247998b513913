//! Where grants live: the OS keyring (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows), one entry per grant holding the access and
//! refresh token together, so the pair is always written as one.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::Secret;
use crate::token::AuthError;

/// Which grant: the connector instance and the company it connects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GrantKey {
    pub instance: String,
    pub realm_id: String,
}

impl GrantKey {
    pub fn new(instance: impl Into<String>, realm_id: impl Into<String>) -> GrantKey {
        GrantKey { instance: instance.into(), realm_id: realm_id.into() }
    }

    fn account(&self) -> String {
        format!("grant:{}:{}", self.instance, self.realm_id)
    }

    /// A name safe for a file (the cross-process refresh lock).
    pub fn file_stem(&self) -> String {
        let clean = |s: &str| {
            s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect::<String>()
        };
        format!("{}-{}", clean(&self.instance), clean(&self.realm_id))
    }
}

/// An access token is replaced this long before its end, or sooner for a short-lived
/// one (see [`TokenGrant::refresh_due_at`]): room for clock skew and a request in flight.
pub const EARLY_REFRESH_SECS: i64 = 60;

/// One company's tokens and their dates (Unix seconds).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenGrant {
    pub realm_id: String,
    pub access_token: Secret,
    pub refresh_token: Secret,
    /// When the access token was issued: with its end, the lifetime it was given.
    /// `None` in grants stored before this was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_issued_at: Option<i64>,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
    pub refresh_hard_expires_at: Option<i64>,
}

impl TokenGrant {
    /// From when the access token should be replaced rather than used: a tenth of its
    /// lifetime before its end, at most [`EARLY_REFRESH_SECS`]. A fixed margin longer than
    /// a short lifetime would make every token look ending and refresh before every call.
    pub fn refresh_due_at(&self) -> i64 {
        let margin = match self.access_issued_at {
            Some(issued) => ((self.access_expires_at - issued).max(0) / 10).min(EARLY_REFRESH_SECS),
            // Stored before the issue time was kept: Intuit's hour-long tokens.
            None => EARLY_REFRESH_SECS,
        };
        self.access_expires_at - margin
    }
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGrant")
            .field("realm_id", &self.realm_id)
            .field("access_issued_at", &self.access_issued_at)
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("refresh_hard_expires_at", &self.refresh_hard_expires_at)
            .finish_non_exhaustive()
    }
}

/// The secrets of connector instances. Blocking: call from `spawn_blocking`.
pub trait TokenStore: Send + Sync {
    fn load(&self, key: &GrantKey) -> Result<Option<TokenGrant>, AuthError>;
    fn save(&self, key: &GrantKey, grant: &TokenGrant) -> Result<(), AuthError>;
    fn delete(&self, key: &GrantKey) -> Result<(), AuthError>;
    /// Other secrets of an instance, e.g. `client_secret`.
    fn load_secret(&self, instance: &str, name: &str) -> Result<Option<Secret>, AuthError>;
    fn save_secret(&self, instance: &str, name: &str, value: &Secret) -> Result<(), AuthError>;
    fn delete_secret(&self, instance: &str, name: &str) -> Result<(), AuthError>;
}

/// The OS keyring, under one service name.
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    pub fn new(service: impl Into<String>) -> KeyringStore {
        KeyringStore { service: service.into() }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, AuthError> {
        keyring::Entry::new(&self.service, account).map_err(explain)
    }

    fn read(&self, account: &str) -> Result<Option<String>, AuthError> {
        let _turn = one_at_a_time();
        match self.entry(account)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(explain(error)),
        }
    }

    fn write(&self, account: &str, value: &str) -> Result<(), AuthError> {
        let _turn = one_at_a_time();
        self.entry(account)?.set_password(value).map_err(explain)
    }

    fn remove(&self, account: &str) -> Result<(), AuthError> {
        let _turn = one_at_a_time();
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(explain(error)),
        }
    }
}

/// One keyring request at a time in this process. gnome-keyring-daemon crashed (a GLib trap)
/// under the tests' parallel requests, each opening its own Secret Service session; at an
/// operator's pace, taking turns costs nothing.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A keyring failure in words an operator can act on — and never the secret.
fn explain(error: keyring::Error) -> AuthError {
    let text = error.to_string();
    let hint = if text.contains("autolaunch") || text.contains("D-Bus") || text.contains("dbus") {
        "no Secret Service is reachable (is a keyring such as GNOME Keyring or KWallet running in this session?)"
    } else if text.to_lowercase().contains("locked") || text.contains("no result found") {
        "the keyring is locked: unlock your keyring and try again"
    } else {
        "the OS keyring refused the request"
    };
    AuthError::Store(format!("{hint} ({})", error_kind(&error)))
}

fn error_kind(error: &keyring::Error) -> &'static str {
    match error {
        keyring::Error::PlatformFailure(_) => "platform failure",
        keyring::Error::NoStorageAccess(_) => "no storage access",
        keyring::Error::NoEntry => "no entry",
        keyring::Error::BadEncoding(_) => "bad encoding",
        keyring::Error::TooLong(..) => "too long",
        keyring::Error::Invalid(..) => "invalid attribute",
        keyring::Error::Ambiguous(_) => "ambiguous entry",
        _ => "other",
    }
}

impl TokenStore for KeyringStore {
    fn load(&self, key: &GrantKey) -> Result<Option<TokenGrant>, AuthError> {
        self.read(&key.account())?
            .map(|text| {
                serde_json::from_str(&text).map_err(|_| {
                    AuthError::Store(format!("the keyring entry for {} is unreadable; connect again", key.account()))
                })
            })
            .transpose()
    }

    fn save(&self, key: &GrantKey, grant: &TokenGrant) -> Result<(), AuthError> {
        let text = serde_json::to_string(grant).map_err(|e| AuthError::Store(e.to_string()))?;
        self.write(&key.account(), &text)
    }

    fn delete(&self, key: &GrantKey) -> Result<(), AuthError> {
        self.remove(&key.account())
    }

    fn load_secret(&self, instance: &str, name: &str) -> Result<Option<Secret>, AuthError> {
        Ok(self.read(&format!("secret:{instance}:{name}"))?.map(Secret::new))
    }

    fn save_secret(&self, instance: &str, name: &str, value: &Secret) -> Result<(), AuthError> {
        self.write(&format!("secret:{instance}:{name}"), value.expose())
    }

    fn delete_secret(&self, instance: &str, name: &str) -> Result<(), AuthError> {
        self.remove(&format!("secret:{instance}:{name}"))
    }
}

/// Secrets in memory only: for unit tests of code above the store.
#[derive(Default)]
pub struct MemoryTokenStore {
    grants: Mutex<HashMap<GrantKey, TokenGrant>>,
    secrets: Mutex<HashMap<String, Secret>>,
}

impl TokenStore for MemoryTokenStore {
    fn load(&self, key: &GrantKey) -> Result<Option<TokenGrant>, AuthError> {
        Ok(self.grants.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned())
    }
    fn save(&self, key: &GrantKey, grant: &TokenGrant) -> Result<(), AuthError> {
        self.grants.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone(), grant.clone());
        Ok(())
    }
    fn delete(&self, key: &GrantKey) -> Result<(), AuthError> {
        self.grants.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        Ok(())
    }
    fn load_secret(&self, instance: &str, name: &str) -> Result<Option<Secret>, AuthError> {
        Ok(self.secrets.lock().unwrap_or_else(|p| p.into_inner()).get(&format!("{instance}:{name}")).cloned())
    }
    fn save_secret(&self, instance: &str, name: &str, value: &Secret) -> Result<(), AuthError> {
        self.secrets.lock().unwrap_or_else(|p| p.into_inner()).insert(format!("{instance}:{name}"), value.clone());
        Ok(())
    }
    fn delete_secret(&self, instance: &str, name: &str) -> Result<(), AuthError> {
        self.secrets.lock().unwrap_or_else(|p| p.into_inner()).remove(&format!("{instance}:{name}"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_a_token() {
        let grant = TokenGrant {
            realm_id: "1".into(),
            access_token: Secret::new("ACCESS-SECRET-VALUE"),
            refresh_token: Secret::new("REFRESH-SECRET-VALUE"),
            access_issued_at: Some(0),
            access_expires_at: 1,
            refresh_expires_at: 2,
            refresh_hard_expires_at: None,
        };
        let printed = format!("{grant:?} {:?}", grant.access_token);
        assert!(!printed.contains("SECRET-VALUE"), "{printed}");
    }

    #[test]
    fn a_grant_stored_before_the_issue_time_was_kept_still_loads() {
        let stored = r#"{"realm_id":"1","access_token":"a","refresh_token":"r","access_expires_at":3600,
            "refresh_expires_at":9000,"refresh_hard_expires_at":null}"#;
        let grant: TokenGrant = serde_json::from_str(stored).unwrap();
        assert_eq!(grant.access_issued_at, None);
        assert_eq!(grant.refresh_due_at(), 3600 - EARLY_REFRESH_SECS, "the margin made for hour-long tokens");
    }

    #[test]
    fn the_early_refresh_margin_follows_the_lifetime() {
        let due = |lifetime: i64| {
            let grant = TokenGrant {
                realm_id: "1".into(),
                access_token: Secret::new("a"),
                refresh_token: Secret::new("r"),
                access_issued_at: Some(1_000),
                access_expires_at: 1_000 + lifetime,
                refresh_expires_at: 9_999_999,
                refresh_hard_expires_at: None,
            };
            grant.refresh_due_at() - 1_000
        };
        assert_eq!(due(3600), 3600 - 60, "Intuit's hour: a minute early");
        assert_eq!(due(300), 270, "a tenth of a shorter lifetime");
        assert_eq!(due(5), 5, "five seconds: used to its end, never 'ending' from the start");
        assert_eq!(due(0), 0);
    }

    #[test]
    fn grant_keys_make_safe_file_names() {
        assert_eq!(GrantKey::new("Acme Books/2", "123").file_stem(), "Acme_Books_2-123");
    }
}
