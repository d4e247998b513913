//! An authorization kept for a later process: `qbconnector connect NAME --print-url`
//! starts it and exits, and `qbconnector connect NAME --callback URL` finishes it in
//! another process (the production redirect is an https relay page the CLI cannot
//! listen on). The `state` is a secret, so it is kept in the instance's keyring entries
//! (one pending authorization per instance; a newer one replaces it), never on disk.
//!
//! A kept authorization answers once: taking it removes it, and what remains is the
//! SHA-256 fingerprint of its state (not the state), so the same callback handed over
//! again is refused as already used rather than as unknown. It also expires:
//! Intuit's authorization codes live a few minutes, so an authorization older than
//! [`PENDING_AUTHORIZATION_SECS`] is refused.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::callback::CallbackError;
use super::session::ConnectError;
use super::store::TokenStore;
use super::Secret;
use crate::token::AuthError;

/// How long a kept authorization can be finished: Intuit's codes live minutes, and an
/// operator copies a callback from the browser soon after approving, or starts again.
pub const PENDING_AUTHORIZATION_SECS: i64 = 15 * 60;

/// The name of the instance's keyring secret holding its kept authorization.
pub const PENDING_SECRET_NAME: &str = "pending_authorization";

/// How many answered states' fingerprints are remembered (they cost a few bytes each).
const ANSWERED_KEPT: usize = 16;

/// An authorization started by one process for another to finish.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    pub state: Secret,
    /// The redirect URI the authorization asked for: the code exchange must repeat it.
    pub redirect_uri: String,
    /// Unix seconds after which the answer is refused.
    pub expires_at: i64,
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("redirect_uri", &self.redirect_uri)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A state already answered: its fingerprint, and whether it was refused as too late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Answered {
    fingerprint: String,
    expired: bool,
}

/// What the keyring entry holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Kept {
    #[serde(default)]
    pending: Option<PendingAuthorization>,
    #[serde(default)]
    answered: Vec<Answered>,
}

fn fingerprint(state: &str) -> String {
    let digest = Sha256::digest(format!("qbconnector oauth state:{state}").as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The kept authorization of one instance, in a [`TokenStore`]. Blocking, as the store
/// is; two processes taking at once must hold a lock around [`KeptAuthorization::take`].
pub struct KeptAuthorization<'a> {
    store: &'a dyn TokenStore,
    instance: &'a str,
}

impl<'a> KeptAuthorization<'a> {
    /// `instance` is the instance's secret key, as its other keyring entries use.
    pub fn new(store: &'a dyn TokenStore, instance: &'a str) -> KeptAuthorization<'a> {
        KeptAuthorization { store, instance }
    }

    fn load(&self) -> Result<Kept, AuthError> {
        let Some(text) = self.store.load_secret(self.instance, PENDING_SECRET_NAME)? else {
            return Ok(Kept::default());
        };
        // Unreadable (written by another version): as if nothing were kept; the next
        // Connect writes it anew. The text is a secret and is not repeated.
        Ok(serde_json::from_str(text.expose()).unwrap_or_else(|_| {
            tracing::warn!("the kept OAuth authorization in the keyring is unreadable; it is ignored");
            Kept::default()
        }))
    }

    fn save(&self, kept: &Kept) -> Result<(), AuthError> {
        if kept.pending.is_none() && kept.answered.is_empty() {
            return self.store.delete_secret(self.instance, PENDING_SECRET_NAME);
        }
        let text = serde_json::to_string(kept).map_err(|e| AuthError::Store(e.to_string()))?;
        self.store.save_secret(self.instance, PENDING_SECRET_NAME, &Secret::new(text))
    }

    /// Keeps `state` (for `redirect_uri`) until [`PENDING_AUTHORIZATION_SECS`] after `now`
    /// (Unix seconds), replacing any authorization kept before.
    pub fn keep(&self, state: &Secret, redirect_uri: &str, now: i64) -> Result<PendingAuthorization, AuthError> {
        let mut kept = self.load()?;
        let pending = PendingAuthorization {
            state: state.clone(),
            redirect_uri: redirect_uri.to_owned(),
            expires_at: now + PENDING_AUTHORIZATION_SECS,
        };
        kept.pending = Some(pending.clone());
        self.save(&kept)?;
        Ok(pending)
    }

    /// The kept authorization, unless none is or it has expired at `now`.
    pub fn current(&self, now: i64) -> Result<Option<PendingAuthorization>, AuthError> {
        Ok(self.load()?.pending.filter(|p| now < p.expires_at))
    }

    /// Takes the kept authorization if `state` is its: its redirect URI, and it is
    /// removed whatever the callback says next. `None` when `state` is not known here;
    /// refused when it was answered already or came after its end (also removed then).
    pub fn take(&self, state: &str, now: i64) -> Result<Option<String>, ConnectError> {
        let mut kept = self.load()?;
        let print = fingerprint(state);
        let matches = kept.pending.as_ref().is_some_and(|p| p.state.expose() == state);
        if !matches {
            if let Some(answered) = kept.answered.iter().find(|a| a.fingerprint == print) {
                return Err(
                    if answered.expired { CallbackError::ExpiredState } else { CallbackError::ReusedState }.into()
                );
            }
            // An unanswered one that has ended is removed on the way.
            if kept.pending.as_ref().is_some_and(|p| now >= p.expires_at) {
                kept.pending = None;
                self.save(&kept)?;
            }
            return Ok(None);
        }
        let Some(pending) = kept.pending.take() else { return Ok(None) };
        let expired = now >= pending.expires_at;
        kept.answered.push(Answered { fingerprint: print, expired });
        let excess = kept.answered.len().saturating_sub(ANSWERED_KEPT);
        kept.answered.drain(..excess);
        self.save(&kept)?;
        if expired {
            return Err(CallbackError::ExpiredState.into());
        }
        Ok(Some(pending.redirect_uri))
    }

    /// Forgets the kept authorization and the answered fingerprints (the instance is removed).
    pub fn forget(&self) -> Result<(), AuthError> {
        self.store.delete_secret(self.instance, PENDING_SECRET_NAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::MemoryTokenStore;

    const NOW: i64 = 1_700_000_000;

    fn refused(result: Result<Option<String>, ConnectError>) -> CallbackError {
        match result {
            Err(ConnectError::Callback(error)) => error,
            other => panic!("expected a refused callback, got {other:?}"),
        }
    }

    #[test]
    fn a_kept_authorization_is_taken_once_by_its_state_only() {
        let store = MemoryTokenStore::default();
        let kept = KeptAuthorization::new(&store, "inst");
        kept.keep(&Secret::new("s1"), "https://relay.example/cb", NOW).unwrap();
        assert_eq!(kept.take("forged", NOW).unwrap(), None, "another state is not ours");
        assert_eq!(kept.take("s1", NOW + 1).unwrap().as_deref(), Some("https://relay.example/cb"));
        assert_eq!(refused(kept.take("s1", NOW + 2)), CallbackError::ReusedState);
        assert_eq!(kept.current(NOW).unwrap(), None, "nothing is pending once taken");
    }

    #[test]
    fn a_newer_authorization_replaces_the_older() {
        let store = MemoryTokenStore::default();
        let kept = KeptAuthorization::new(&store, "inst");
        kept.keep(&Secret::new("old"), "https://relay.example/cb", NOW).unwrap();
        kept.keep(&Secret::new("new"), "https://relay.example/cb", NOW + 5).unwrap();
        assert_eq!(kept.take("old", NOW + 6).unwrap(), None);
        assert!(kept.take("new", NOW + 6).unwrap().is_some());
    }

    #[test]
    fn an_authorization_ends_after_its_time_and_says_so_each_time() {
        let store = MemoryTokenStore::default();
        let kept = KeptAuthorization::new(&store, "inst");
        let pending = kept.keep(&Secret::new("s1"), "https://relay.example/cb", NOW).unwrap();
        assert_eq!(pending.expires_at, NOW + PENDING_AUTHORIZATION_SECS);
        assert!(kept.current(pending.expires_at - 1).unwrap().is_some());
        assert_eq!(kept.current(pending.expires_at).unwrap(), None);
        assert_eq!(refused(kept.take("s1", pending.expires_at)), CallbackError::ExpiredState);
        assert_eq!(refused(kept.take("s1", pending.expires_at)), CallbackError::ExpiredState);
        assert!(CallbackError::ExpiredState.to_string().contains("15 minutes"));
    }

    #[test]
    fn an_ended_authorization_is_removed_when_another_state_comes() {
        let store = MemoryTokenStore::default();
        let kept = KeptAuthorization::new(&store, "inst");
        kept.keep(&Secret::new("s1"), "https://relay.example/cb", NOW).unwrap();
        assert_eq!(kept.take("other", NOW + PENDING_AUTHORIZATION_SECS).unwrap(), None);
        assert_eq!(store.load_secret("inst", PENDING_SECRET_NAME).unwrap(), None, "nothing left in the keyring");
    }

    #[test]
    fn the_keyring_keeps_fingerprints_of_answered_states_never_the_states() {
        let store = MemoryTokenStore::default();
        let kept = KeptAuthorization::new(&store, "inst");
        for n in 0..(ANSWERED_KEPT + 4) {
            let state = format!("STATE-{n:04}-SECRET");
            kept.keep(&Secret::new(&state), "https://relay.example/cb", NOW).unwrap();
            kept.take(&state, NOW).unwrap().unwrap();
        }
        let text = store.load_secret("inst", PENDING_SECRET_NAME).unwrap().unwrap();
        assert!(!text.expose().contains("SECRET"), "{}", text.expose());
        let stored: Kept = serde_json::from_str(text.expose()).unwrap();
        assert_eq!(stored.answered.len(), ANSWERED_KEPT, "the oldest are dropped");
        let newest = format!("STATE-{:04}-SECRET", ANSWERED_KEPT + 3);
        assert_eq!(refused(kept.take(&newest, NOW)), CallbackError::ReusedState);
        assert_eq!(kept.take("STATE-0000-SECRET", NOW).unwrap(), None, "too old to be remembered");
    }

    #[test]
    fn instances_keep_their_own_and_debug_output_hides_the_state() {
        let store = MemoryTokenStore::default();
        let pending = KeptAuthorization::new(&store, "a").keep(&Secret::new("STATE-A"), "r", NOW).unwrap();
        assert_eq!(KeptAuthorization::new(&store, "b").take("STATE-A", NOW).unwrap(), None);
        assert!(!format!("{pending:?}").contains("STATE-A"));
        KeptAuthorization::new(&store, "a").forget().unwrap();
        assert_eq!(KeptAuthorization::new(&store, "a").take("STATE-A", NOW).unwrap(), None);
    }

    #[test]
    fn an_unreadable_entry_is_ignored_and_written_anew() {
        let store = MemoryTokenStore::default();
        store.save_secret("inst", PENDING_SECRET_NAME, &Secret::new("not json")).unwrap();
        let kept = KeptAuthorization::new(&store, "inst");
        assert_eq!(kept.take("s1", NOW).unwrap(), None);
        kept.keep(&Secret::new("s1"), "r", NOW).unwrap();
        assert!(kept.take("s1", NOW).unwrap().is_some());
    }
}
