//! The authorization URL and the checks of the callback that answers it.
//!
//! Both ways a callback can arrive — the loopback listener's
//! `http://localhost:PORT/callback?…` and the deep link `qbconnector://oauth/callback?…`
//! that the https relay page forwards — go through [`PendingAuthorizations::accept`].

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use url::Url;

use super::flow::OAuthApp;

/// What a good callback carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub code: String,
    pub realm_id: String,
    pub state: String,
    /// The redirect URI of the authorization this callback answers (the exchange must repeat it).
    pub redirect_uri: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the callback is not a URL: {0}")]
    NotAUrl(String),
    #[error("the callback carries no state; it did not come from an authorization this app started")]
    MissingState,
    #[error("the callback's state matches no authorization this app started; it may be forged or from another window — start connecting again")]
    UnknownState,
    #[error("this callback was already used; each authorization can connect once — start connecting again")]
    ReusedState,
    #[error("the operator declined the connection in QuickBooks (access_denied)")]
    AccessDenied,
    #[error("QuickBooks refused the authorization: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Provider { error: String, description: Option<String> },
    #[error("the callback carries no authorization code")]
    MissingCode,
    #[error("the callback carries no company (realmId)")]
    MissingRealm,
}

/// States issued by this process and not yet answered, and those already used.
#[derive(Default)]
pub struct PendingAuthorizations {
    issued: Mutex<HashMap<String, String>>,
    used: Mutex<HashSet<String>>,
}

impl PendingAuthorizations {
    pub fn new() -> PendingAuthorizations {
        PendingAuthorizations::default()
    }

    /// The URL to open in the browser, with a fresh unguessable `state`.
    pub fn authorization_url(&self, app: &OAuthApp, scopes: &[&str]) -> Url {
        let state = uuid::Uuid::new_v4().simple().to_string();
        self.issued.lock().unwrap_or_else(|p| p.into_inner()).insert(state.clone(), app.redirect_uri.clone());
        let mut url = app.endpoints.authorize.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &app.client_id)
            .append_pair("response_type", "code")
            .append_pair("scope", &scopes.join(" "))
            .append_pair("redirect_uri", &app.redirect_uri)
            .append_pair("state", &state);
        url
    }

    /// Checks a callback URL and consumes its state.
    pub fn accept(&self, callback_url: &str) -> Result<Callback, CallbackError> {
        let url =
            Url::parse(callback_url).map_err(|_| CallbackError::NotAUrl(callback_url.chars().take(80).collect()))?;
        let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let state = params.get("state").filter(|s| !s.is_empty()).ok_or(CallbackError::MissingState)?;
        let redirect_uri = {
            let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
            match issued.remove(state) {
                Some(redirect_uri) => redirect_uri,
                None if self.used.lock().unwrap_or_else(|p| p.into_inner()).contains(state) => {
                    return Err(CallbackError::ReusedState)
                }
                None => return Err(CallbackError::UnknownState),
            }
        };
        self.used.lock().unwrap_or_else(|p| p.into_inner()).insert(state.clone());
        if let Some(error) = params.get("error") {
            return Err(if error == "access_denied" {
                CallbackError::AccessDenied
            } else {
                CallbackError::Provider { error: error.clone(), description: params.get("error_description").cloned() }
            });
        }
        let code = params.get("code").filter(|c| !c.is_empty()).ok_or(CallbackError::MissingCode)?;
        let realm_id = params.get("realmId").filter(|r| !r.is_empty()).ok_or(CallbackError::MissingRealm)?;
        Ok(Callback { code: code.clone(), realm_id: realm_id.clone(), state: state.clone(), redirect_uri })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::flow::OAuthEndpoints;
    use crate::auth::Secret;

    fn app() -> OAuthApp {
        OAuthApp {
            client_id: "cid".into(),
            client_secret: Secret::new("secret"),
            redirect_uri: "http://localhost:8765/callback".into(),
            endpoints: OAuthEndpoints::intuit(),
        }
    }

    fn state_of(url: &Url) -> String {
        url.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned()
    }

    #[test]
    fn the_authorization_url_asks_for_what_intuit_needs() {
        let pending = PendingAuthorizations::new();
        let url = pending.authorization_url(&app(), &[crate::auth::ACCOUNTING_SCOPE]);
        let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(url.host_str(), Some("appcenter.intuit.com"));
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["scope"], "com.intuit.quickbooks.accounting");
        assert_eq!(params["redirect_uri"], "http://localhost:8765/callback");
        assert_eq!(params["state"].len(), 32);
        assert_ne!(state_of(&pending.authorization_url(&app(), &["x"])), params["state"], "a fresh state each time");
    }

    #[test]
    fn a_good_callback_by_either_way_is_accepted_once() {
        let pending = PendingAuthorizations::new();
        let state = state_of(&pending.authorization_url(&app(), &["s"]));
        let deep_link = format!("qbconnector://oauth/callback?code=abc&state={state}&realmId=123");
        let callback = pending.accept(&deep_link).unwrap();
        assert_eq!((callback.code.as_str(), callback.realm_id.as_str()), ("abc", "123"));
        assert_eq!(pending.accept(&deep_link), Err(CallbackError::ReusedState));

        let state = state_of(&pending.authorization_url(&app(), &["s"]));
        let loopback = format!("http://localhost:8765/callback?code=def&state={state}&realmId=9");
        assert_eq!(pending.accept(&loopback).unwrap().code, "def");
    }

    #[test]
    fn each_bad_callback_has_its_own_error() {
        let pending = PendingAuthorizations::new();
        let fresh = || state_of(&pending.authorization_url(&app(), &["s"]));
        assert_eq!(PendingAuthorizations::new().accept("not a url"), Err(CallbackError::NotAUrl("not a url".into())));
        assert_eq!(pending.accept("qbconnector://oauth/callback?code=a&realmId=1"), Err(CallbackError::MissingState));
        assert_eq!(
            pending.accept("qbconnector://oauth/callback?code=a&state=forged&realmId=1"),
            Err(CallbackError::UnknownState)
        );
        let state = fresh();
        assert_eq!(
            pending.accept(&format!("qbconnector://oauth/callback?error=access_denied&state={state}")),
            Err(CallbackError::AccessDenied)
        );
        let state = fresh();
        assert!(matches!(
            pending.accept(&format!("qbconnector://oauth/callback?error=invalid_scope&state={state}")),
            Err(CallbackError::Provider { .. })
        ));
        let state = fresh();
        assert_eq!(
            pending.accept(&format!("qbconnector://oauth/callback?state={state}&realmId=1")),
            Err(CallbackError::MissingCode)
        );
        let state = fresh();
        assert_eq!(
            pending.accept(&format!("qbconnector://oauth/callback?state={state}&code=x")),
            Err(CallbackError::MissingRealm)
        );
    }
}
